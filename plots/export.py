#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write an msealbench results file in a format other tools read.

  export.py --format csv RUN.json        tidy CSV: one row per sample (label, benchmark,
                                         params, seal, round, boot, value, counters)
  export.py --format gbench RUN.json     google-benchmark JSON: one repetition per round, so
                                         google-benchmark's tools/compare.py reads two runs
  export.py --format bmf RUN.json        Bencher Metric Format: each cell's median (latency, ns)
                                         with its 95% CI as lower_value/upper_value
  export.py --format github-action RUN.json   github-action-benchmark customSmallerIsBetter

--out FILE writes the output whole or not at all; '-' (the default) is standard output.
`msealbench run --format F` runs this on the file it has just written.
Exit status: 0 written, 2 bad input or usage, 3 internal error.
"""
import argparse
import sys

from msb import ci_formats, cli, results, tables
from msb.results import BadInput

PROG = "export"


def parse_args(argv):
    parser = cli.Parser(prog="export.py", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="a results file")
    parser.add_argument("--format", choices=ci_formats.RUN_FORMATS, required=True, help="output format")
    parser.add_argument("--out", default="-", help="output file ('-', the default: standard output)")
    return parser.parse_args(argv)


def export(args):
    run = results.load_run(args.run)
    report = tables.Report([], None, run)
    cli.write_output(args.out, tables.render(report, args.format, ci_formats.RUN_FORMATS))
    return 0


def main(argv):
    return cli.guarded(PROG, export, parse_args(argv), {BadInput: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
