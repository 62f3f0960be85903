#!/usr/bin/env python3
"""Compare msealbench runs and decide, per benchmark, regression / improvement /
equivalent / inconclusive.

  compare.py                         the newest run in results/, as below
  compare.py RUN.json                one run: seal mode none against every other mode,
                                     paired by round
  compare.py BASE.json CAND.json     two runs (kernel A vs B): cells matched by benchmark,
                                     parameters and seal mode
  compare.py DIR | compare.py F1 F2 F3 ... --history
                                     many runs: each against the first (or --baseline)

Exit status: 0 no regression, 1 at least one regression, 2 bad input, 3 internal error.
"""
import argparse
import os
import sys

from msb import cli, comparison, report, results
from msb.comparison import REGRESSION, TIME, Settings
from msb.results import BadInput

PROG = "compare"
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    parser = cli.Parser(prog="compare.py", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", metavar="RUN",
                        help="results file(s) or a directory (default: the newest run in results/)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
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
    parser.add_argument("--baseline", help="history: label or file name of the baseline run")
    return parser.parse_args(argv)


def settings_from(args):
    return Settings(margin=args.margin, threshold=args.threshold, alpha=args.alpha,
                    confidence=args.confidence, iterations=args.bootstrap, seed=args.seed)


def report_pairwise(args, analysis):
    comparisons, geomeans, not_compared, runs = (analysis.comparisons, analysis.geomeans,
                                                 analysis.not_compared, analysis.runs)
    settings = analysis.settings
    regressions = report.gating_regressions(comparisons, geomeans)
    warnings = comparison.partial_warnings(runs) + comparison.outlier_warnings(comparisons)
    status = 1 if regressions else 0
    if args.format == "json":
        report.emit_json(report.clean_floats({
            "schema": "msealbench-compare", "schema_version": 1,
            "inputs": [r.path for r in runs], "settings": vars(settings),
            "comparisons": [c.as_dict() for c in comparisons],
            "geomeans": [g.as_dict() for g in geomeans],
            "not_compared": [n.as_dict() for n in not_compared],
            "warnings": warnings, "verdicts": comparison.count_verdicts(
                [c for c in comparisons if c.metric == TIME]),
            "regressions": len(regressions), "exit_status": status}))
    else:
        literal = report.literal_for(args.format == "markdown")
        title = (f"{literal(runs[0].path)}: seal modes compared" if len(runs) == 1
                 else f"{literal(runs[0].path)} (baseline) -> {literal(runs[1].path)} (candidate)")
        print(report.render_report(title, comparisons, geomeans, not_compared, settings,
                                   args.format == "markdown"))
        print(f"\nverdicts: {report.verdict_summary(comparisons, geomeans, literal)}")
    cli.warn(PROG, warnings)
    return status


def report_history(args, analysis):
    baseline, columns, settings, runs = analysis.baseline, analysis.columns, analysis.settings, analysis.runs
    latest_run, latest, _ = columns[-1]
    regressions = [c for c in latest if c.verdict == REGRESSION]
    status = 1 if regressions and latest_run is not baseline else 0
    warnings = comparison.partial_warnings(runs)
    if args.format == "json":
        report.emit_json(report.clean_floats({
            "schema": "msealbench-compare-history", "schema_version": 1,
            "baseline": baseline.path, "settings": vars(settings),
            "runs": [{"path": run.path, "label": run.label, "date": run.date,
                      "comparisons": [c.as_dict() for c in comparisons],
                      "not_compared": [n.as_dict() for n in not_compared]}
                     for run, comparisons, not_compared in columns],
            "warnings": warnings, "regressions_in_latest": len(regressions), "exit_status": status}))
    else:
        literal = report.literal_for(args.format == "markdown")
        print(report.render_history(columns, baseline, settings, args.format == "markdown"))
        print(f"\nlatest run {literal(latest_run.label)}: {len(regressions)} regressions "
              f"against {literal(baseline.label)}")
    cli.warn(PROG, warnings)
    return status


def run_compare(args):
    settings = settings_from(args)
    inputs = args.inputs or [results.latest_run_path(os.path.join(TOP, "results"))]
    mode, runs = results.select_runs(inputs, args.history, args.order)
    if mode == "history" or args.no_counters:
        for run in runs:
            comparison.strip_counters(run.cells)
    settings, warnings = comparison.affordable_settings(settings, runs)
    cli.warn(PROG, warnings)
    analysis = comparison.analyse(mode, runs, settings, args.base_seal,
                                  comparison.candidate_seals(args.cand_seal),
                                  args.allow_unmatched, args.baseline)
    return (report_history if mode == "history" else report_pairwise)(args, analysis)


def main(argv):
    return cli.guarded(PROG, run_compare, parse_args(argv), {BadInput: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
