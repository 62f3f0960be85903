#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Merge the runs of one kernel, each made in its own boot, into one results file.

  merge.py --out A.json A1.json A2.json A3.json     run n becomes boot n

A kernel A/B on real hardware: boot kernel A and `msealbench run`, boot B and run, and so on,
alternating (A B A B ...); then merge each kernel's runs, in the order they were made, and
compare the merged files:

  merge.py --out A.json a-1.json a-2.json a-3.json
  merge.py --out B.json b-1.json b-2.json b-3.json
  compare.py A.json B.json

compare then takes boots as the units, as for msealbench vm's files: it resamples boots, then
rounds within them, pairs boot n of A with boot n of B, reports the spread between boots and how
many boots would settle an open cell. A boot's layout, KASLR and memory placement are shared by
all its rounds, so one run per kernel cannot tell the kernel from the boot.

Refused (exit 2): fewer than two runs, a run given twice (or a copy of it), a file already
merged, runs of different kernels (release, build version, architecture or the system mappings it
sealed at exec) or of different --inject-delay. Merged with a warning: runs of different hosts,
runs not given in the order they were made, runs of different options (gate, reference,
events, min-time, cpu) or msealbench versions, partial runs, cells that failed in a run (failed
in the merged file) and cells missing from some runs. An --out ending in .gz is compressed. --out is written whole or not at all, only over a regular file and never over one of
the runs.
Exit status: 0 written, 2 bad input or usage, 3 internal error.
"""
import argparse
import os
import sys

from msb import cli, merging, results
from msb.results import BadInput

PROG = "merge"


def parse_args(argv):
    parser = cli.Parser(prog="merge.py", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", metavar="RUN", nargs="+", help="results files of one kernel, one per boot, in order")
    parser.add_argument("--out", required=True, help="the merged results file")
    parser.add_argument("--label", help="the merged file's label (default: the first run's, else --out's name)")
    return parser.parse_args(argv)


def merge(args):
    if os.path.lexists(args.out) and any(os.path.realpath(args.out) == os.path.realpath(r) for r in args.runs):
        raise BadInput(f"--out {args.out}: is one of the runs to merge; the merged file goes to a new name")
    document, warnings = merging.merge_runs(args.runs, args.label, results.results_stem(os.path.basename(args.out)))
    cli.warn(PROG, warnings)
    results.write_run(args.out, document)
    runs = document["context"]["merged"]["runs"]
    print(f"{PROG}: {cli.terminal_text(args.out)}: {len(runs)} runs merged as boots 1-{len(runs)} of "
          f"{cli.terminal_text(document['context']['label'])}"
          f"{' (partial)' if document['partial'] else ''}", file=sys.stderr)
    return 0


def main(argv):
    return cli.guarded(PROG, merge, parse_args(argv), {BadInput: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
