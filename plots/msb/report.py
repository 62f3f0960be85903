"""compare's output: a tables.Report per comparison (verdict tables by section, the history
table), with the data behind it for --format json. The renderers of msb/tables.py write it.
"""
import math

from . import comparison, results
from .comparison import REGRESSION, IMPROVEMENT, EQUIVALENT, INCONCLUSIVE, NOT_ATTRIBUTABLE, UNDECIDABLE, TIME
from .tables import Heading, Items, Literal, Report, Table, blank, line

VERDICT_MARKS = {REGRESSION: "R", IMPROVEMENT: "I", EQUIVALENT: "=", INCONCLUSIVE: "?", NOT_ATTRIBUTABLE: "~",
                 UNDECIDABLE: "u"}

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
    """An undecidable comparison's interval means nothing: it is not shown."""
    if c.verdict == UNDECIDABLE:
        return f"{c.ratio:.4f} [no CI]"
    return f"{c.ratio:.4f} [{c.ci_low:.4f}, {c.ci_high:.4f}]"


def format_p(c):
    if c.p_value is None:
        return "-"
    return "<0.0001" if c.p_value < 0.0001 else f"{c.p_value:.4f}"


def verdict_text(c):
    if c.why:
        return f"{c.verdict} ({c.why})"
    if c.verdict != INCONCLUSIVE or c.note:  # a geomean row (note: "N cells") has no rounds of its own
        return c.verdict
    units = "boots" if c.boots else "rounds"
    if c.more_rounds is None:
        return f"{c.verdict} (more {units} would not settle it soon)"
    return f"{c.verdict} (~{c.more_rounds} more {units})"


def units_text(c):
    """The independent units behind a cell's CI: rounds, or boots with how far they disagree."""
    if c.boots:
        return f"{c.boots} boots, {c.boot_spread * 100:.0f}% apart"
    return f"{c.rounds}"


def row_label(c):
    if c.metric != TIME:
        return f"  {c.metric}"
    return c.benchmark


def table_rows(comparisons, geomeans, settings):
    """Rows of cells in group order (comparison.cell_group), each group closed by its geomean row."""
    header = ["benchmark", "params", "n (rounds)", "baseline", "candidate (change)", "ratio [CI]", "p", "verdict"]
    rows = []
    geomean_by_group = {g.group: g for g in geomeans}
    for group in groups_in_order(comparisons):
        for c in (c for c in comparisons if c.group == group):
            rows.append([row_label(c), results.params_text(c.params) if c.metric == TIME else "",
                         f"{c.n_base}/{c.n_cand} ({units_text(c)})", format_value(c.base_median),
                         f"{format_value(c.cand_median)} {format_change(c.change)}{significance_mark(c, settings)}",
                         format_ci(c), format_p(c), verdict_text(c)])
        if group in geomean_by_group:
            g = geomean_by_group[group]
            rows.append([g.benchmark, f"{g.note}", "", "",
                         f"{format_change(g.change)}{significance_mark(g, settings)}",
                         format_ci(g), "-", verdict_text(g)])
    return header, rows


def groups_in_order(comparisons):
    """The cell groups of comparisons, first seen first."""
    return list(dict.fromkeys(c.group for c in comparisons))


def settings_line(settings):
    return (f"margin +-{settings.margin * 100:g}%, threshold {settings.threshold * 100:g}%, "
            f"alpha {settings.alpha:g}, {settings.confidence * 100:g}% CI from "
            f"{settings.iterations} bootstrap resamples (seed {settings.seed})")


LEGEND = ("baseline, candidate: the median of round medians (of boot medians across boots), what the "
          "ratio is made of; change = candidate against baseline, + is slower; * significant "
          "(the CI excludes 1; unpaired, also Mann-Whitney p < alpha). One round of a cell is one process: "
          "the CI and p count rounds, not samples, since the samples of a process share its luck.")


def not_compared_parts(n):
    return (Literal(n.benchmark), " ", Literal("[" + results.params_text(n.params) + "]"),
            " seal=", Literal(n.seal), ": ", Literal(n.reason))


def not_compared_items(not_compared):
    """A line per cell that was not compared; counters without a ratio (a counter that stays
    at zero has none, in every cell) summed up in a line per counter and reason."""
    lines, counters = [], {}
    for n in not_compared:
        if n.metric == TIME:
            lines.append(not_compared_parts(n))
        else:
            counters.setdefault((n.metric, n.reason), []).append(n)
    for (metric, reason), cells in counters.items():
        first = cells[0]
        lines.append(("counter ", Literal(metric), f" in {len(cells)} cell{'s' if len(cells) > 1 else ''} (e.g. ",
                      Literal(first.benchmark), " ", Literal("[" + results.params_text(first.params) + "]"),
                      " seal=", Literal(first.seal), "): ", Literal(reason)))
    return lines


def gating_regressions(analysis):
    """What sets exit status 1: time regressions of cells and of group geomeans.
    Counter verdicts are shown but do not gate."""
    return [c for c in analysis.comparisons + analysis.geomeans if c.metric == TIME and c.verdict == REGRESSION]


def verdict_parts(analysis):
    counts = comparison.count_verdicts(analysis.time_comparisons())
    parts = [", ".join(f"{n} {v}" for v, n in counts.items())]
    group_regressions = [g.group for g in analysis.geomeans if g.verdict == REGRESSION]
    for number, group in enumerate(group_regressions):
        parts += ["; group geomean regression: " if number == 0 else ", ", Literal(group)]
    return parts


def pairwise(analysis, warnings, status):
    """The report of one run's seal modes or of two runs."""
    runs, settings = analysis.runs, analysis.settings
    comparisons, geomeans, not_compared = analysis.comparisons, analysis.geomeans, analysis.not_compared
    title = ((Literal(runs[0].path), ": seal modes compared") if len(runs) == 1 else
             (Literal(runs[0].path), " (baseline) -> ", Literal(runs[1].path), " (candidate)"))
    blocks = [Heading(1, title), line(settings_line(settings)), blank()]
    for (base_name, cand_name), members in comparison.sections(comparisons).items():
        paired = "" if not all(c.paired for c in members) else (
            " (paired by boot)" if all(c.boots for c in members) else " (paired by round)")
        blocks.append(Heading(2, (Literal(base_name), " -> ", Literal(cand_name), paired)))
        section_geomeans = [g for g in geomeans if (g.base_name, g.cand_name) == (base_name, cand_name)]
        blocks += [Table(*table_rows(members, section_geomeans, settings)), blank()]
        floor = analysis.control_floors.get((base_name, cand_name))
        if floor:
            blocks += [line(f"controls moved up to {floor[0] * 100:.1f}% between these runs ({floor[1]} control "
                            f"cells: {', '.join(comparison.CONTROLS)}): a smaller change is not attributable"),
                       blank()]
    blocks.append(line(LEGEND))
    if not_compared:
        blocks += [blank(), line("not compared (never part of a verdict):"),
                   Items(not_compared_items(not_compared))]
    blocks += [blank(), line("verdicts: ", *verdict_parts(analysis))]
    data = {"schema": "msealbench-compare", "schema_version": 1,
            "inputs": [r.path for r in runs], "settings": vars(settings),
            "comparisons": [c.as_dict() for c in comparisons],
            "geomeans": [g.as_dict() for g in geomeans],
            "not_compared": [n.as_dict() for n in not_compared],
            "control_floors": [{"baseline": b, "candidate": c, "moved_pct": round(f * 100, 4), "controls": n}
                               for (b, c), (f, n) in analysis.control_floors.items()],
            "warnings": warnings, "verdicts": comparison.count_verdicts(analysis.time_comparisons()),
            "regressions": len(gating_regressions(analysis)), "exit_status": status}
    return Report(blocks, data, analysis)


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


def latest_regressions(analysis):
    """Regressions of the newest run against the baseline (none when it is the baseline)."""
    return [c for c in analysis.columns[-1][1] if c.verdict == REGRESSION]


def history(analysis, warnings, status):
    """The report of many runs, each against the baseline."""
    columns, baseline, settings = analysis.columns, analysis.baseline, analysis.settings
    latest_run = columns[-1][0]
    regressions = latest_regressions(analysis)
    blocks = [Heading(1, (f"history of {len(columns)} runs against ", Literal(baseline.label))),
              line(settings_line(settings)), blank(), Table(*history_table(columns, baseline, settings)), blank(),
              line(LEGEND + "; verdict R regression, I improvement, = equivalent, ? inconclusive, "
                   "u undecidable (too few rounds)")]
    blocks += [line("  ", Literal(run.label), ": not compared: ", *not_compared_parts(n))
               for run, _, not_compared in columns for n in not_compared]
    blocks += [blank(), line("latest run ", Literal(latest_run.label), f": {len(regressions)} regressions against ",
                             Literal(baseline.label))]
    data = {"schema": "msealbench-compare-history", "schema_version": 1,
            "baseline": baseline.path, "settings": vars(settings),
            "runs": [{"path": run.path, "label": run.label, "date": run.date,
                      "comparisons": [c.as_dict() for c in comparisons],
                      "not_compared": [n.as_dict() for n in not_compared]}
                     for run, comparisons, not_compared in columns],
            "warnings": warnings, "regressions_in_latest": len(regressions), "exit_status": status}
    return Report(blocks, data, analysis)
