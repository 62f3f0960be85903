#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Draw msealbench results with gnuplot: PNG and SVG into plots/out/.

  plot.py                      the newest run in results/
  plot.py RUN.json             one run: seal modes side by side (bars, forest, CDFs, scaling)
  plot.py BASE.json CAND.json  two runs: the same plots, baseline run against candidate run
  plot.py DIR | F1 F2 F3 ...   history: median and CI per run, regressions marked, change
                               points drawn with the level of each segment shaded
                               (also --history for two files)

Each kind of plot is one generated gnuplot script (bars.gp, forest.gp, cdf.gp, scaling.gp,
history.gp) with its data files beside it in the output directory, so a figure can be
restyled by editing the script and running gnuplot on it again.
Exit status: 0 drawn, 2 bad input or an output that cannot be written (a full disk),
3 gnuplot missing or failed (or an internal error).
"""
import argparse
import sys

from msb import changepoints, cli, comparison, figures, gnuplot, paths, results
from msb.comparison import Settings
from msb.gnuplot import GnuplotError
from msb.results import BadInput

PROG = "plot"


def parse_args(argv):
    parser = cli.Parser(prog="plot.py", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", metavar="RUN")
    parser.add_argument("--out", default=paths.work_path("plots", "out"),
                        help="output directory (plots/out/ of the source tree, or of the current directory)")
    parser.add_argument("--formats", default="png,svg",
                        help="image formats, png,svg (default both); text output is compare's --format")
    parser.add_argument("--timeout", type=cli.number_in(float, 1, 86400), default=120.0,
                        help="seconds gnuplot may take per script (1 to 86400)")
    parser.add_argument("--latest", default=paths.work_path("results"),
                        help="without inputs: draw the newest run of this directory (results/)")
    parser.add_argument("--history", action="store_true")
    parser.add_argument("--order", choices=("date", "label", "files"), default="date")
    parser.add_argument("--baseline", help="history: first (default), rolling:N, or the label or file name of a run")
    parser.add_argument("--base-seal", default="none")
    parser.add_argument("--cand-seal")
    parser.add_argument("--margin", type=cli.percent, default=cli.percent("2"))
    parser.add_argument("--threshold", type=cli.percent, default=cli.percent("1"))
    parser.add_argument("--bootstrap", type=cli.BOOTSTRAP, default=2000)
    parser.add_argument("--seed", type=cli.SEED, default=1)
    changepoints.add_options(parser)
    args = parser.parse_args(argv)
    args.formats = [f for f in args.formats.split(",") if f]
    unknown = [f for f in args.formats if f not in gnuplot.FORMATS]
    if unknown or not args.formats:
        parser.error(f"--formats: {','.join(unknown) or 'none'} unknown; use png, svg or both")
    return args


def figures_of(out_dir, analysis):
    """{script name: figures} for what analyse() found."""
    if analysis.mode == "history":
        return {"history": figures.history_figures(out_dir, analysis)}
    if analysis.mode == "run" and len(analysis.runs[0].seal_modes()) < 2:
        print(f"{PROG}: warning: {cli.terminal_text(analysis.runs[0].path)} holds one seal mode: nothing to "
              "compare, drawing scaling figures only", file=sys.stderr)
        return {"scaling": figures.scaling_figures(out_dir, analysis)}
    return {"bars": figures.bars_figures(out_dir, analysis),
            "forest": figures.forest_figures(out_dir, analysis),
            "cdf": figures.cdf_figures(out_dir, analysis),
            "scaling": figures.scaling_figures(out_dir, analysis)}


def draw(args):
    settings = Settings(margin=args.margin, threshold=args.threshold, iterations=args.bootstrap,
                        seed=args.seed)
    gnuplot.require_gnuplot()
    mode, runs = results.select_runs(args.inputs or [results.latest_run_path(args.latest)],
                                     args.history, args.order)
    for run in runs:
        comparison.strip_counters(run.cells)  # counters are compared, not plotted
    settings, warnings = comparison.affordable_settings(settings, runs)
    cli.warn(PROG, warnings)
    analysis = comparison.analyse(mode, runs, settings, args.base_seal,
                                  comparison.candidate_seals(args.cand_seal), allow_unmatched=True,
                                  baseline=args.baseline, locations=True,
                                  detection=changepoints.detection_from(args) if mode == "history" else None)
    cli.make_directory(args.out)
    drawn_figures = figures_of(args.out, analysis)
    drawn = []
    for script, members in drawn_figures.items():
        if members:
            files, messages = gnuplot.render(members, args.out, script + ".gp", args.formats, args.timeout)
            drawn += files
            cli.warn(PROG, messages)
    summary = ", ".join(f"{len(m)} {k}" for k, m in drawn_figures.items())
    print(f"{PROG}: {len(drawn)} files in {cli.terminal_text(args.out)} ({summary} figures)")
    cli.warn(PROG, comparison.partial_warnings(runs) + comparison.gate_warnings(runs))
    return 0


def main(argv):
    return cli.guarded(PROG, draw, parse_args(argv), {BadInput: 2, cli.OutputError: 2, GnuplotError: 3})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
