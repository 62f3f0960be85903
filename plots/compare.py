#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compare msealbench runs and decide, per benchmark, regression / improvement /
equivalent / inconclusive.

  compare.py                         the newest run in results/, as below
  compare.py RUN.json                one run: seal mode none against every other mode,
                                     paired by round
  compare.py BASE.json CAND.json     two runs (kernel A vs B): cells matched by benchmark,
                                     parameters and seal mode
  compare.py DIR | compare.py F1 F2 F3 ... --history
                                     many runs: each against the first (or --baseline),
                                     and the change points of each cell's history

--per-reference adjusts every sample s by the getppid(2) probe r the runner took around it, to
s * (P / r) ** b (P: the median probe of the runs; b: the benchmark's slope, from how its rounds
move with their probes), so that most of the host's changes of speed between and within runs
cancel; README ("How a run measures") says what is left.

Formats (--format): text, markdown, json; email (the verdict table in 100 columns); bmf
(Bencher Metric Format); github-action (github-action-benchmark customSmallerIsBetter); junit;
tap (TAP 13, kselftest style); csv (one row per compared cell).

Exit status: 0 no regression, 1 at least one regression (a history: the newest run is past a
new regression change point; a history too short for one: the newest run regresses against
the baseline), 2 bad input, 3 internal error.
"""
import argparse
import sys

from msb import changepoints, ci_formats, cli, comparison, paths, reference, report, results, tables
from msb.comparison import Settings
from msb.results import BadInput

PROG = "compare"


def parse_args(argv):
    parser = cli.Parser(prog="compare.py", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", metavar="RUN",
                        help="results file(s) or a directory (default: the newest run in results/)")
    parser.add_argument("--format", choices=ci_formats.comparison_formats(), default="text",
                        help="output format (text)")
    parser.add_argument("--out", default="-", help="write the output to this file ('-', the default: "
                        "standard output); written whole or not at all")
    parser.add_argument("--margin", type=cli.percent, default=cli.percent("2"),
                        help="equivalence margin: whole CI inside +-margin (default 2%%)")
    parser.add_argument("--threshold", type=cli.percent, default=cli.percent("1"),
                        help="smallest significant change called a regression (default 1%%)")
    parser.add_argument("--alpha", type=cli.number_in(float, 1e-6, 0.5), default=0.05,
                        help="Mann-Whitney level (0.05)")
    parser.add_argument("--confidence", type=cli.number_in(float, 0.5, 0.9999), default=0.95,
                        help="CI level (0.95)")
    parser.add_argument("--bootstrap", type=cli.BOOTSTRAP, default=2000, help="resamples (2000; 100 to 20000)")
    parser.add_argument("--seed", type=cli.SEED, default=1, help="bootstrap seed (1)")
    parser.add_argument("--base-seal", default="none", help="one run: baseline seal mode (none)")
    parser.add_argument("--cand-seal", help="one run: candidate mode(s), comma separated "
                        "(default: every other mode in the run)")
    parser.add_argument("--no-counters", action="store_true", help="compare time only")
    parser.add_argument("--allow-unmatched", action="store_true",
                        help="two runs: list cells without a partner instead of refusing")
    parser.add_argument("--history", action="store_true", help="treat the files as a history")
    parser.add_argument("--order", choices=("date", "label", "files"), default="date",
                        help="history order: context.date (default), label, or as given")
    parser.add_argument("--baseline", help="history: first (default), rolling:N (each run against the "
                        "median of the N runs before it), or the label or file name of a run")
    parser.add_argument("--per-reference", action="store_true",
                        help="adjust each sample to one host speed by its getppid(2) probe (runs that recorded "
                        "reference_ns)")
    changepoints.add_options(parser)
    return parser.parse_args(argv)


def settings_from(args):
    return Settings(margin=args.margin, threshold=args.threshold, alpha=args.alpha,
                    confidence=args.confidence, iterations=args.bootstrap, seed=args.seed)


def print_report(args, analysis, scaled=None):
    """Prints the report in --format, the warnings on stderr; the exit status. scaled: the
    reference.PerReference the runs came from, or None."""
    warnings = comparison.partial_warnings(analysis.runs) + comparison.gate_warnings(analysis.runs)
    warnings += scaled.warnings if scaled else []
    notes = scaled.notes if scaled else []
    if analysis.mode == "history":
        status = report.history_status(analysis)
        document = report.history(analysis, warnings, status, notes)
    else:
        warnings += comparison.outlier_warnings(analysis.comparisons)
        warnings += comparison.undecidable_warnings(analysis.comparisons, analysis.settings)
        warnings += comparison.noisy_warnings(analysis.comparisons)
        status = 1 if report.gating_regressions(analysis) else 0
        document = report.pairwise(analysis, warnings, status, notes)
    document.data["per_reference"] = reference.summary(scaled) if scaled else None
    cli.write_output(args.out, tables.render(document, args.format, ci_formats.comparison_formats()))
    cli.warn(PROG, warnings)
    return status


def run_compare(args):
    settings = settings_from(args)
    inputs = args.inputs or [results.latest_run_path(paths.work_path("results"))]
    mode, runs = results.select_runs(inputs, args.history, args.order)
    scaled = reference.per_reference(runs, two_runs=mode == "files") if args.per_reference else None
    runs = scaled.runs if scaled else runs
    if mode == "history" or args.no_counters:
        for run in runs:
            comparison.strip_counters(run.cells)
    settings, warnings = comparison.affordable_settings(settings, runs)
    cli.warn(PROG, warnings)
    analysis = comparison.analyse(mode, runs, settings, args.base_seal,
                                  comparison.candidate_seals(args.cand_seal),
                                  args.allow_unmatched, args.baseline, detection=changepoints.detection_from(args))
    return print_report(args, analysis, scaled)


def main(argv):
    return cli.guarded(PROG, run_compare, parse_args(argv), {BadInput: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
