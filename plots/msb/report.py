"""compare's output: verdict tables and reports built from comparisons, in text or markdown.

Text from results files (benchmarks, labels, paths, reasons) is data: literal_for() escapes it
for the output kind, so neither a terminal nor a markdown renderer acts on it.
"""
import json
import math
import re
import sys

from . import cli, comparison, results
from .comparison import REGRESSION, IMPROVEMENT, EQUIVALENT, INCONCLUSIVE, TIME

VERDICT_MARKS = {REGRESSION: "R", IMPROVEMENT: "I", EQUIVALENT: "=", INCONCLUSIVE: "?"}

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
            rows.append([row_label(c), results.params_text(c.params) if c.metric == TIME else "",
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
    header, rows = [cli.terminal_text(h) for h in header], [[cli.terminal_text(c) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in [header] + rows]
    return "\n".join(lines)


def markdown_code(text):
    """text as a markdown code span: GitHub renders no HTML, link, image, emphasis,
    autolink or @mention inside one; control characters are shown as escapes."""
    text = cli.terminal_text(text)
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
    return markdown_code if markdown else cli.terminal_text


def settings_line(settings):
    return (f"margin +-{settings.margin * 100:g}%, threshold {settings.threshold * 100:g}%, "
            f"alpha {settings.alpha:g}, {settings.confidence * 100:g}% CI from "
            f"{settings.iterations} bootstrap resamples (seed {settings.seed})")


LEGEND = ("change = candidate median against baseline median, + is slower; * significant "
          "(the CI excludes 1; unpaired, also Mann-Whitney p < alpha). One round of a cell is one process: "
          "the CI and p count rounds, not samples, since the samples of a process share its luck.")


def not_compared_lines(not_compared, literal):
    return [f"{literal(n.benchmark)} {literal('[' + results.params_text(n.params) + ']')} "
            f"seal={literal(n.seal)}: {literal(n.reason)}" for n in not_compared]


def render_report(title, comparisons, geomeans, not_compared, settings, markdown):
    """title: already written with literal_for(markdown)."""
    literal = literal_for(markdown)
    out = [("## " if markdown else "") + title, settings_line(settings), ""]
    render = render_markdown_table if markdown else render_text_table
    for (base_name, cand_name), members in comparison.sections(comparisons).items():
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
    counts = comparison.count_verdicts([c for c in comparisons if c.metric == TIME])
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
            key = (c.benchmark, results.params_text(c.params), c.base_name)
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
