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
import json
import math
import os
import re
import sys

import msbcli
import msbcompare
from msbcompare import REGRESSION, IMPROVEMENT, INCONCLUSIVE, TIME, Settings
import msbresults
from msbresults import BadInput

PROG = "compare"
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERDICT_MARKS = {REGRESSION: "R", IMPROVEMENT: "I", msbcompare.EQUIVALENT: "=", INCONCLUSIVE: "?"}


# ------------------------------------------------------------------ inputs

def percent(text):
    """"2", "2%" or "2.5%" -> 0.02 / 0.025."""
    try:
        value = float(text.strip().rstrip("%")) / 100.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (e.g. 2 or 2%)") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0% and 100%")
    return value


def parse_args(argv):
    parser = msbcli.Parser(prog="compare.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", metavar="RUN",
                        help="results file(s) or a directory (default: the newest run in results/)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--margin", type=percent, default=percent("2"),
                        help="equivalence margin: whole CI inside +-margin (default 2%%)")
    parser.add_argument("--threshold", type=percent, default=percent("1"),
                        help="smallest significant change called a regression (default 1%%)")
    parser.add_argument("--alpha", type=msbcli.number_in(float, 1e-6, 0.5), default=0.05,
                        help="Mann-Whitney level (0.05)")
    parser.add_argument("--confidence", type=msbcli.number_in(float, 0.5, 0.9999), default=0.95,
                        help="CI level (0.95)")
    parser.add_argument("--bootstrap", type=msbcli.BOOTSTRAP, default=2000, help="resamples (2000; 100 to 20000)")
    parser.add_argument("--seed", type=msbcli.SEED, default=1, help="bootstrap seed (1)")
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


def input_mode(args):
    """"run", "files" or "history" from the shape of the inputs."""
    if len(args.inputs) == 1 and os.path.isdir(args.inputs[0]):
        return "history"
    if any(os.path.isdir(p) for p in args.inputs):
        raise BadInput("pass either one directory or results files, not both")
    if args.history or len(args.inputs) > 2:
        return "history"
    return "run" if len(args.inputs) == 1 else "files"


def partial_warnings(runs):
    return [f"{r.path} is partial (the run was interrupted): only its finished rounds are compared"
            for r in runs if r.partial]


def outlier_warnings(comparisons):
    """One line for all cells where more than 5% of the samples are outliers."""
    noisy = [f"{c.benchmark} [{msbresults.params_text(c.params)}] {c.base_name}/{c.cand_name}"
             for c in comparisons if c.metric == TIME and
             (c.base_outliers > 0.05 * c.n_base or c.cand_outliers > 0.05 * c.n_cand)]
    if not noisy:
        return []
    return [f"{len(noisy)} cells have more than 5% outliers (MAD rule; kept, the median resists them), "
            f"e.g. {noisy[0]}; per-cell counts are in --format json"]


# ------------------------------------------------------------ comparisons

def strip_counters(cells):
    for cell in cells:
        cell.counters = {}


def candidate_seals(args):
    return [s for s in args.cand_seal.split(",") if s] if args.cand_seal else None


def compare_run_modes(run, args, settings):
    pairs, unmatched = msbcompare.pairs_within_run(run, args.base_seal, candidate_seals(args))
    comparisons, not_compared = msbcompare.compare_pairs(
        pairs, settings, lambda b, c: (b.seal, c.seal), paired=True)
    return comparisons, unmatched + not_compared


def run_pair_names(base_run, cand_run):
    """names_of for two runs: 'label:seal' for each side (A and B when the labels agree)."""
    if base_run.label != cand_run.label:
        first, second = base_run.label, cand_run.label
    else:
        first, second = "A", "B"
    return lambda b, c: (f"{first}:{b.seal}", f"{second}:{c.seal}")


def compare_two_runs(base_run, cand_run, args, settings):
    pairs, unmatched = msbcompare.pairs_between_runs(base_run, cand_run, args.allow_unmatched)
    comparisons, not_compared = msbcompare.compare_pairs(
        pairs, settings, run_pair_names(base_run, cand_run), paired=False)
    return comparisons, unmatched + not_compared


def load_history(args):
    if len(args.inputs) == 1 and os.path.isdir(args.inputs[0]):
        runs = msbresults.runs_in(args.inputs[0])
    else:
        runs = [msbresults.load_run(p) for p in args.inputs]
    if len(runs) < 2:
        raise BadInput(f"{args.inputs[0]}: a history needs at least two results files")
    return msbresults.order_runs(runs, args.order)


# ------------------------------------------------------------ formatting

def format_value(value):
    """About four significant digits without exponents: 25.31, 2001234, 0.5000."""
    if value is None or not math.isfinite(value):
        return "-"
    magnitude = math.floor(math.log10(abs(value))) if value else 0
    decimals = min(6, max(0, 3 - magnitude))
    return f"{value:.{decimals}f}"


def format_change(fraction):
    return "(    -   )" if not math.isfinite(fraction) else f"({fraction * 100:+8.2f}%)"


def significance_mark(c, settings):
    """'*' when the change is statistically significant: the CI excludes 1, and for an
    unpaired comparison the Mann-Whitney p is below alpha too."""
    p_ok = c.paired or c.p_value is None or c.p_value < settings.alpha
    return "*" if p_ok and (c.ci_low > 1.0 or c.ci_high < 1.0) else " "


def format_ci(c):
    return f"{c.ratio:.4f} [{c.ci_low:.4f}, {c.ci_high:.4f}]"


def format_p(c):
    if c.p_value is None:
        return "-"
    return "<0.0001" if c.p_value < 0.0001 else f"{c.p_value:.4f}"


def verdict_text(c):
    if c.verdict != INCONCLUSIVE or c.note:  # a geomean row (note: "N cells") has no rounds of its own
        return c.verdict
    if c.rounds < 2:
        return f"{c.verdict} (one round: no spread between processes; run --repetitions 2 or more)"
    if c.more_rounds is None:
        return f"{c.verdict} (more rounds would not settle it soon)"
    return f"{c.verdict} (~{c.more_rounds} more rounds)"


def row_label(c):
    if c.metric != TIME:
        return f"  {c.metric}"
    return c.benchmark


def table_rows(comparisons, geomeans, settings):
    """Rows of cells in family order, each family closed by its geomean row."""
    header = ["benchmark", "params", "n (rounds)", "baseline", "candidate (change)", "ratio [CI]", "p", "verdict"]
    rows = []
    geomean_by_family = {g.family: g for g in geomeans}
    families = []
    for c in comparisons:
        if c.family not in families:
            families.append(c.family)
    for family in families:
        for c in (c for c in comparisons if c.family == family):
            rows.append([row_label(c), msbresults.params_text(c.params) if c.metric == TIME else "",
                         f"{c.n_base}/{c.n_cand} ({c.rounds})", format_value(c.base_median),
                         f"{format_value(c.cand_median)} {format_change(c.change)}{significance_mark(c, settings)}",
                         format_ci(c), format_p(c), verdict_text(c)])
        if family in geomean_by_family:
            g = geomean_by_family[family]
            rows.append([g.benchmark, f"{g.note}", "", "",
                         f"{format_change(g.change)}{significance_mark(g, settings)}",
                         format_ci(g), "-", verdict_text(g)])
    return header, rows


def render_text_table(header, rows):
    header, rows = [msbcli.terminal_text(h) for h in header], [[msbcli.terminal_text(c) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in [header] + rows]
    return "\n".join(lines)


def markdown_code(text):
    """text as a markdown code span: GitHub renders no HTML, link, image, emphasis,
    autolink or @mention inside one; control characters are shown as escapes."""
    text = msbcli.terminal_text(text)
    if not text.strip():
        return ""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " "):
        text = f" {text} "  # CommonMark strips one space from each end of such a span
    return fence + text + fence


def markdown_cell(text):
    """A table cell: a code span whose '|' the table does not split on (GFM reads '\\|' as
    '|' even inside code, and a backslash before it as escaping the next backslash)."""
    return re.sub(r"(\\*)\|", lambda m: m.group(1) * 2 + "\\|", markdown_code(text))


def render_markdown_table(header, rows):
    lines = ["| " + " | ".join(markdown_cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def literal_for(markdown):
    """How text from results files (and paths) is written in this output kind."""
    return markdown_code if markdown else msbcli.terminal_text


def settings_line(settings):
    return (f"margin +-{settings.margin * 100:g}%, threshold {settings.threshold * 100:g}%, "
            f"alpha {settings.alpha:g}, {settings.confidence * 100:g}% CI from "
            f"{settings.iterations} bootstrap resamples (seed {settings.seed})")


LEGEND = ("change = candidate median against baseline median, + is slower; * significant "
          "(the CI excludes 1; unpaired, also Mann-Whitney p < alpha). One round of a cell is one process: "
          "the CI and p count rounds, not samples, since the samples of a process share its luck.")


def sections(comparisons):
    """Comparisons grouped by (baseline name, candidate name) in first-seen order."""
    grouped = {}
    for c in comparisons:
        grouped.setdefault((c.base_name, c.cand_name), []).append(c)
    return grouped


def not_compared_lines(not_compared, literal):
    return [f"{literal(n.benchmark)} {literal('[' + msbresults.params_text(n.params) + ']')} "
            f"seal={literal(n.seal)}: {literal(n.reason)}" for n in not_compared]


def render_report(title, comparisons, geomeans, not_compared, settings, markdown):
    """title: already written with literal_for(markdown)."""
    literal = literal_for(markdown)
    out = [("## " if markdown else "") + title, settings_line(settings), ""]
    render = render_markdown_table if markdown else render_text_table
    for (base_name, cand_name), members in sections(comparisons).items():
        paired = " (paired by round)" if all(c.paired for c in members) else ""
        out.append(("### " if markdown else "") + f"{literal(base_name)} -> {literal(cand_name)}{paired}")
        section_geomeans = [g for g in geomeans if (g.base_name, g.cand_name) == (base_name, cand_name)]
        out += [render(*table_rows(members, section_geomeans, settings)), ""]
    out.append(LEGEND)
    if not_compared:
        out += ["", "not compared (never part of a verdict):"]
        out += [("- " if markdown else "  ") + line for line in not_compared_lines(not_compared, literal)]
    return "\n".join(out)


def verdict_summary(comparisons, geomeans, literal):
    counts = msbcompare.count_verdicts([c for c in comparisons if c.metric == TIME])
    text = ", ".join(f"{n} {v}" for v, n in counts.items())
    family_regressions = [literal(g.family) for g in geomeans if g.verdict == REGRESSION]
    if family_regressions:
        text += f"; family geomean regression: {', '.join(family_regressions)}"
    return text


def gating_regressions(comparisons, geomeans):
    """What sets exit status 1: time regressions of cells and of family geomeans.
    Counter verdicts are shown but do not gate."""
    return [c for c in comparisons + geomeans if c.metric == TIME and c.verdict == REGRESSION]


# ------------------------------------------------------------ history output

def history_table(columns, baseline, settings):
    cells = {}
    for run, comparisons, _ in columns:
        for c in comparisons:
            key = (c.benchmark, msbresults.params_text(c.params), c.base_name)
            cells.setdefault(key, {})[run.path] = c
    header = ["benchmark", "params", "seal"] + [run.label + (" (base)" if run is baseline else "")
                                               for run, _, _ in columns]
    rows = []
    for (benchmark, params, seal), by_run in cells.items():
        any_c = next(iter(by_run.values()))
        row = [benchmark, params, seal]
        for run, _, _ in columns:
            c = by_run.get(run.path)
            if run is baseline:
                row.append(format_value(any_c.base_median))
            elif c is None:
                row.append("-")
            else:
                row.append(f"{format_value(c.cand_median)} {format_change(c.change)}"
                           f"{significance_mark(c, settings)}{VERDICT_MARKS[c.verdict]}")
        rows.append(row)
    return header, rows


def render_history(columns, baseline, settings, markdown):
    render = render_markdown_table if markdown else render_text_table
    literal = literal_for(markdown)
    out = [("## " if markdown else "") + f"history of {len(columns)} runs against {literal(baseline.label)}",
           settings_line(settings), "", render(*history_table(columns, baseline, settings)), "",
           LEGEND + "; verdict R regression, I improvement, = equivalent, ? inconclusive"]
    for run, _, not_compared in columns:
        for line in not_compared_lines(not_compared, literal):
            out.append(f"  {literal(run.label)}: not compared: {line}")
    return "\n".join(out)


# ------------------------------------------------------------ main

def emit_json(document):
    json.dump(document, sys.stdout, indent=1, allow_nan=False, default=str)
    sys.stdout.write("\n")


def clean_floats(value):
    """NaN and infinities become null so the JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_floats(v) for v in value]
    return value


def print_warnings(warnings, prog=PROG):
    for warning in warnings:
        print(f"{prog}: warning: {msbcli.terminal_text(warning)}", file=sys.stderr)


def report_pairwise(args, settings, runs, comparisons, not_compared):
    geomeans = msbcompare.family_geomeans(comparisons, settings)
    regressions = gating_regressions(comparisons, geomeans)
    warnings = partial_warnings(runs) + outlier_warnings(comparisons)
    status = 1 if regressions else 0
    if args.format == "json":
        emit_json(clean_floats({
            "schema": "msealbench-compare", "schema_version": 1,
            "inputs": [r.path for r in runs], "settings": vars(settings),
            "comparisons": [c.as_dict() for c in comparisons],
            "geomeans": [g.as_dict() for g in geomeans],
            "not_compared": [n.as_dict() for n in not_compared],
            "warnings": warnings, "verdicts": msbcompare.count_verdicts(
                [c for c in comparisons if c.metric == TIME]),
            "regressions": len(regressions), "exit_status": status}))
    else:
        literal = literal_for(args.format == "markdown")
        title = (f"{literal(runs[0].path)}: seal modes compared" if len(runs) == 1
                 else f"{literal(runs[0].path)} (baseline) -> {literal(runs[1].path)} (candidate)")
        print(render_report(title, comparisons, geomeans, not_compared, settings,
                            args.format == "markdown"))
        print(f"\nverdicts: {verdict_summary(comparisons, geomeans, literal)}")
    print_warnings(warnings)
    return status


def report_history(args, settings, runs):
    baseline = msbcompare.pick_baseline(runs, args.baseline)
    columns = msbcompare.compare_history(runs, baseline, settings)
    latest_run, latest, _ = columns[-1]
    regressions = [c for c in latest if c.verdict == REGRESSION]
    status = 1 if regressions and latest_run is not baseline else 0
    warnings = partial_warnings(runs)
    if args.format == "json":
        emit_json(clean_floats({
            "schema": "msealbench-compare-history", "schema_version": 1,
            "baseline": baseline.path, "settings": vars(settings),
            "runs": [{"path": run.path, "label": run.label, "date": run.date,
                      "comparisons": [c.as_dict() for c in comparisons],
                      "not_compared": [n.as_dict() for n in not_compared]}
                     for run, comparisons, not_compared in columns],
            "warnings": warnings, "regressions_in_latest": len(regressions), "exit_status": status}))
    else:
        literal = literal_for(args.format == "markdown")
        print(render_history(columns, baseline, settings, args.format == "markdown"))
        print(f"\nlatest run {literal(latest_run.label)}: {len(regressions)} regressions "
              f"against {literal(baseline.label)}")
    print_warnings(warnings)
    return status


def run_compare(args):
    settings = settings_from(args)
    if not args.inputs:
        args.inputs = [msbresults.latest_run_path(os.path.join(TOP, "results"))]
    mode = input_mode(args)
    if mode == "history":
        runs = load_history(args)
        for run in runs:
            strip_counters(run.cells)
        settings, warnings = msbcompare.affordable_settings(settings, runs)
        print_warnings(warnings)
        return report_history(args, settings, runs)
    runs = [msbresults.load_run(p) for p in args.inputs]
    if args.no_counters:
        for run in runs:
            strip_counters(run.cells)
    settings, warnings = msbcompare.affordable_settings(settings, runs)
    print_warnings(warnings)
    if mode == "run":
        comparisons, not_compared = compare_run_modes(runs[0], args, settings)
    else:
        comparisons, not_compared = compare_two_runs(runs[0], runs[1], args, settings)
    return report_pairwise(args, settings, runs, comparisons, not_compared)


def main(argv):
    return msbcli.guarded(PROG, run_compare, parse_args(argv), {BadInput: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
