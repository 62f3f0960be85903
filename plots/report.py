#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench report: one page for the decision on CONFIG_MSEAL_SYSTEM_MAPPINGS (cost and
compatibility), as OUT/report.md and a self-contained OUT/report.html (inline CSS and SVG, no
script, nothing fetched), with the same content.

  report.py [--run RUN.json] [--ab DIR] [--probe FILE] [--history DIR] [--checks FILE]... [--out DIR]

Any mix of inputs, none required; the report says what each contributed and what is missing:
  --run      a run of msealbench run with seal modes (none,sysmap,all): the cost of userspace sealing
  --ab       a kernel A/B directory of msealbench vm: the cost of the option itself
  --probe    msealbench probe --json (or its TAP output): the compatibility matrix
  --history  a directory of runs: the trend and the latest run's regressions
  --checks   JSON results of real programs run plain and sealed (msealbench vm --compat, msealbench
             try): shown as a table of their fields
Verdicts are compare's (the same options). This system's kernel configuration and package
database (dpkg-query, rpm) say what the option would affect here, from data/affected-software.json.
Exit status: 0 written, 2 bad input or an output that cannot be written, 3 internal error.
"""
import argparse
import os
import platform
import sys

from msb import affected, cli, comparison, decision, figures, gnuplot, inputs, reference, results, tables
from msb.comparison import Settings
from msb.gnuplot import GnuplotError
from msb.results import BadInput
from msb.tables import Literal, Picture

PROG = "report"
SYSTEM_MAPPINGS = ("[vdso]", "[vvar]", "[vvar_vclock]", "[uprobes]", "[sigpage]", "[vectors]")


def parse_args(argv):
    parser = cli.Parser(prog="msealbench report", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", metavar="RUN.json", help="a results file with seal modes")
    parser.add_argument("--ab", metavar="DIR", help="kernel A/B: output directory of msealbench vm, or a directory of msealbench merge's files")
    parser.add_argument("--baseline", metavar="LABEL",
                        help="--ab: the baseline kernel (default: the one without the option)")
    parser.add_argument("--probe", metavar="FILE", help="msealbench probe --json output, or its TAP output")
    parser.add_argument("--history", metavar="DIR", help="a directory of runs (compare --history)")
    parser.add_argument("--per-reference", action="store_true",
                        help="the run's and the history's figures per reference, as compare --per-reference makes "
                        "them (a kernel A/B stays raw: the reference is not neutral between kernels)")
    parser.add_argument("--checks", metavar="FILE", action="append", default=[],
                        help="JSON of real-program checks (repeat for several)")
    parser.add_argument("--software", default=affected.default_path(), metavar="FILE",
                        help="the list of affected software (default: data/affected-software.json)")
    parser.add_argument("--out", default="report", help="output directory (default ./report)")
    parser.add_argument("--no-plots", action="store_true", help="draw no figures")
    parser.add_argument("--timeout", type=cli.number_in(float, 1, 86400), default=120.0,
                        help="seconds gnuplot may take per script")
    parser.add_argument("--margin", type=cli.percent, default=cli.percent("2"),
                        help="equivalence margin (default 2%%)")
    parser.add_argument("--threshold", type=cli.percent, default=cli.percent("1"))
    parser.add_argument("--bootstrap", type=cli.BOOTSTRAP, default=2000)
    parser.add_argument("--seed", type=cli.SEED, default=1)
    return parser.parse_args(argv)


def sealed_in_this_process():
    """The system mappings the kernel sealed in this freshly exec'd interpreter (VmFlags sl), or None."""
    try:
        with open("/proc/self/smaps", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    sealed, current = [], None
    for row in text.splitlines():
        fields = row.split()
        if fields and "-" in fields[0] and len(fields) >= 5:
            current = fields[5] if len(fields) > 5 and fields[5] in SYSTEM_MAPPINGS else None
        elif current and row.startswith("VmFlags:") and "sl" in fields[1:]:
            sealed.append(current)
    return sealed


def this_system():
    source, options = inputs.system_config()
    return {"release": platform.release(), "config_source": source, "options": options,
            "sealed": sealed_in_this_process()}


def located(runs, settings, mode, **kw):
    for run in runs:
        comparison.strip_counters(run.cells)  # counters are compared by compare, not here
    return comparison.analyse(mode, runs, settings, allow_unmatched=True, locations=True, **kw)


def per_reference(s, runs, what):
    """runs per reference (compare --per-reference), what they are said in the report's limits."""
    scaled = reference.per_reference(runs)
    s.warnings += [f"{what}: {note}" for note in scaled.notes] + scaled.warnings
    return scaled.runs


def analyse_inputs(args, s):
    settings = s.settings
    loaded = []
    if args.run:
        s.run = results.load_run(args.run)
        loaded.append(s.run)
    if args.ab:
        s.ab = inputs.load_ab(args.ab, args.baseline)
        loaded += [s.ab.baseline] + s.ab.candidates
    history_runs = results.runs_in(args.history) if args.history else []
    if args.per_reference and s.run:
        s.run = per_reference(s, [s.run], "the run")[0]
    if args.per_reference and len(history_runs) >= 2:
        history_runs = per_reference(s, history_runs, "the history")
    settings, notes = comparison.affordable_settings(settings, loaded + history_runs)
    s.settings, s.warnings = settings, s.warnings + notes
    if s.run:
        s.run_analysis = located([s.run], settings, "run")
        s.warnings += comparison.partial_warnings([s.run]) + comparison.undecidable_warnings(s.run_analysis.comparisons)
    if s.ab:
        for cand in s.ab.candidates:
            analysis = located([s.ab.baseline, cand], settings, "files")
            s.ab_analyses.append((cand, analysis))
            s.warnings += comparison.undecidable_warnings(analysis.comparisons)
        s.warnings += comparison.partial_warnings([s.ab.baseline] + s.ab.candidates)
        s.warnings += comparison.gate_warnings([s.ab.baseline] + s.ab.candidates)
    if history_runs:
        if len(history_runs) < 2:
            raise BadInput(f"{args.history}: a history needs at least two results files")
        s.history = located(results.order_runs(history_runs, "date"), settings, "history")
        s.warnings += comparison.gate_warnings(history_runs)
    s.warnings = list(dict.fromkeys(s.warnings))


# ------------------------------------------------------------------ figures

def main_sections(analysis):
    """The sections (baseline, candidate) a decision rests on: of two kernels, those measured
    without userspace sealing (":none" on both sides) when there are any; of a run, all."""
    found = list(comparison.sections(analysis.time_comparisons()))
    unsealed = [(b, c) for b, c in found if b.endswith(":none") and c.endswith(":none")]
    return unsealed if analysis.mode == "files" and unsealed else found


def wanted_figures(directory, analysis):
    """(figure, caption) of the plots that matter: the forest of verdicts, exec and fork bars
    (of the first main section), munmap scaling."""
    sections = main_sections(analysis)
    overviews = {"forest-" + gnuplot.slug(f"{base}-{cand}") + "-overview" for base, cand in sections}
    chosen = [(f, "group geomeans with their CIs against the equivalence band (forest overview)")
              for f in figures.forest_figures(directory, analysis) if f.name in overviews]
    if sections:
        base, cand = sections[0]
        bars = {"bars-" + gnuplot.slug(f"{family}-{base}-{cand}") for family in ("exec", "fork")}
        chosen += [(f, "medians with CIs, side by side") for f in figures.bars_figures(directory, analysis)
                   if f.name in bars or f.name.rsplit("-", 1)[0] in bars]
    for figure in figures.scaling_figures(directory, analysis):
        if "munmap" in figure.name and "-vmas" in figure.name:   # latency against the VMA count
            chosen.append((figure, "munmap latency against the number of VMAs"))
    return chosen


def history_figures(directory, analysis, limit=4):
    regressed = {(c.benchmark, results.params_text(c.params)) for c in analysis.columns[-1][1]
                 if c.verdict == comparison.REGRESSION}
    drawn = [f for f in figures.history_figures(directory, analysis)
             if any(f.name == "history-" + gnuplot.slug(f"{b}-{p}") for b, p in regressed)]
    return [(f, "history of a cell the latest run regressed") for f in drawn[:limit]]


def draw(args, s):
    """Pictures of the figures that matter, drawn as SVG under OUT/figures/."""
    if args.no_plots:
        s.figure_note = "no figures (--no-plots)"
        return
    groups = []   # (directory name, what the figures are of, analysis, chooser)
    if s.run_analysis and s.run_analysis.comparisons:
        groups.append(("run", ("run ", Literal(s.run.label)), s.run_analysis, wanted_figures))
    for cand, analysis in s.ab_analyses:
        groups.append(("ab-" + gnuplot.slug(cand.label), ("kernel A/B ", Literal(s.ab.baseline.label), " -> ",
                                                           Literal(cand.label)), analysis, wanted_figures))
    if s.history:
        groups.append(("history", ("history",), s.history, history_figures))
    if not groups:
        return
    try:
        gnuplot.require_gnuplot()
    except GnuplotError as e:
        s.figure_note = f"no figures: {e}"
        return
    for name, source, analysis, choose in groups:
        directory = os.path.join(args.out, "figures", name)
        cli.make_directory(directory)
        chosen = choose(directory, analysis)
        if not chosen:
            continue
        gnuplot.render([f for f, _ in chosen], directory, "report.gp", ["svg"], args.timeout)
        for figure, caption in chosen:
            path = os.path.join(directory, figure.name + ".svg")
            with open(path, encoding="utf-8", errors="replace") as f:
                svg = f.read()
            s.pictures.append(Picture(f"figures/{name}/{figure.name}.svg", svg,
                                      source + (": ", caption, " (", Literal(figure.name + ".svg"), ")")))


# ------------------------------------------------------------------ the command

def make_report(args):
    settings = Settings(margin=args.margin, threshold=args.threshold, iterations=args.bootstrap, seed=args.seed)
    s = decision.Sources(settings=settings, software_path=args.software, system=this_system())
    s.software = affected.load(args.software)
    if args.probe:
        s.probe = inputs.load_probe(args.probe)
    s.checks = [inputs.load_checks(path) for path in args.checks]
    analyse_inputs(args, s)
    s.databases = affected.find_installed(s.software)
    cli.make_directory(args.out)
    draw(args, s)
    document = decision.build(s)
    written = []
    for name, fmt in (("report.md", "markdown"), ("report.html", "html")):
        path = os.path.join(args.out, name)
        cli.write_file(path, tables.render(document, fmt) + ("\n" if fmt == "markdown" else ""))
        written.append(path)
    cli.warn(PROG, s.warnings)
    print(f"{PROG}: wrote {', '.join(cli.terminal_text(p) for p in written)} ({len(s.pictures)} figures)")
    return 0


def main(argv):
    return cli.guarded(PROG, make_report, parse_args(argv),
                       {BadInput: 2, cli.OutputError: 2, GnuplotError: 3})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
