#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""How far can compare's verdicts be trusted on this machine? A benchmark of the statistics.

Each trial makes four runs of `msealbench run --seal none,sysmap`: one plain, and one
each with a busy delay of 1%, 2% and 5% injected into every sysmap sample
(--inject-delay P%:sysmap). Then, per family:
  A/A modes   sysmap against none in the plain runs: sealing the system mappings
              should cost nothing measurable on these paths, so a regression verdict
              there is a false one (or a real cost: the other columns help tell);
  A/A runs    none of one plain run against none of the next (two files, unpaired):
              false regressions of a kernel-A-vs-B style comparison;
  P% found    share of cells with an injected P% slowdown that compare calls a regression;
  MDE         about the smallest slowdown found 80% of the time, from the CI widths.
Targets: false regressions <= 5%; on vdso and mremap a 5% slowdown found >= 95%,
a 2% slowdown >= 80%. Exit status: 0 targets met, 1 a target missed, 2 the runner
is missing or failed.

The runner is build/msealbench (installed: PREFIX/bin/msealbench), or the command in $MSEALBENCH (split like a shell would).
Trials continue until --budget seconds are spent (at least two), or exactly --trials.
"""
import argparse
import sys
import tempfile

from msb import cli, paths, tables, validation
from msb.comparison import Settings
from msb.results import BadInput
from msb.validation import DEFAULT_FILTER, RunnerError

PROG = validation.PROG


# ------------------------------------------------------------------ main

def parse_args(argv):
    parser = cli.Parser(prog="validate.py", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="pass --quick to the runner; budget 60 s")
    parser.add_argument("--budget", type=cli.number_in(float, 1, 7 * 86400),
                        help="seconds to spend on trials (default 240, quick 60)")
    parser.add_argument("--trials", type=cli.number_in(int, 1, 10000),
                        help="exactly this many trials instead of a budget")
    parser.add_argument("--filter", default=DEFAULT_FILTER,
                        help="runner --filter (default: a few benchmarks per family; '' for all)")
    parser.add_argument("--repetitions", type=cli.number_in(int, 1, 100000), help="runner --repetitions")
    parser.add_argument("--min-time", type=cli.number_in(float, 0, 3600), help="runner --min-time")
    parser.add_argument("--seed", type=cli.SEED, default=1, help="first runner seed; also the bootstrap seed")
    parser.add_argument("--bootstrap", type=cli.BOOTSTRAP, default=1000, help="resamples per comparison (1000)")
    parser.add_argument("--keep", help="keep the results files in this directory")
    parser.add_argument("--from", dest="kept", metavar="DIR",
                        help="tally the results files an earlier --keep left in DIR instead of running")
    parser.add_argument("--format", choices=tables.RENDERERS, default="text", help="output format (text)")
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = 60.0 if args.quick else 240.0
    return args


def validate(args):
    settings = Settings(seed=args.seed, iterations=args.bootstrap)
    if args.kept:
        trials, spent = validation.kept_trials(args.kept), 0.0
        args.filter = (trials[0][0.0].context.get("options") or {}).get("filter") or args.filter
    elif args.keep:
        args.runner = validation.runner_command(paths.runner())
        cli.make_directory(args.keep)
        trials, spent = validation.run_trials(args, args.keep)
    else:
        args.runner = validation.runner_command(paths.runner())
        with tempfile.TemporaryDirectory(prefix="msealbench-validate.") as work_dir:
            trials, spent = validation.run_trials(args, work_dir)
    tallies = validation.tally_views(trials, settings)
    document, met = validation.validation_report(tallies, settings, trials, spent, args)
    print(tables.render(document, args.format))
    return 0 if met else 1


def main(argv):
    return cli.guarded(PROG, validate, parse_args(argv), {RunnerError: 2, BadInput: 2, cli.OutputError: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
