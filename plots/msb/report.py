# SPDX-License-Identifier: GPL-2.0-only
"""compare's output: a tables.Report per comparison (verdict tables by section, the history
table), with the data behind it for --format json. The renderers of msb/tables.py write it.
"""
import math

from . import changepoints, comparison, results, stats
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


def pairwise(analysis, warnings, status, notes=()):
    """The report of one run's seal modes or of two runs; notes: lines under the settings."""
    runs, settings = analysis.runs, analysis.settings
    comparisons, geomeans, not_compared = analysis.comparisons, analysis.geomeans, analysis.not_compared
    title = ((Literal(runs[0].path), ": seal modes compared") if len(runs) == 1 else
             (Literal(runs[0].path), " (baseline) -> ", Literal(runs[1].path), " (candidate)"))
    blocks = [Heading(1, title), line(settings_line(settings))] + [line(n) for n in notes] + [blank()]
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

def history_table(columns, baseline, settings, rolling=None):
    """One row per cell, one column per run: its median, and against the baseline (the
    baseline run, or with rolling the runs before it) the change, significance and verdict."""
    cells = {}
    for run, comparisons, _ in columns:
        for c in comparisons:
            key = (c.benchmark, results.params_text(c.params), c.base_name)
            cells.setdefault(key, {})[run.path] = c
    header = ["benchmark", "params", "seal"] + [run.label + (" (base)" if run is baseline and not rolling else "")
                                               for run, _, _ in columns]
    rows = []
    for (benchmark, params, seal), by_run in cells.items():
        row = [benchmark, params, seal]
        for run, _, _ in columns:
            c = by_run.get(run.path)
            if run is baseline:
                own = next((cell for cell in run.ok_cells() if (cell.benchmark, cell.params_text, cell.seal)
                            == (benchmark, params, seal)), None)
                row.append(format_value(stats.median(own.samples)) if own else "-")
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


def change_point_gate(analysis):
    """Whether change points decide the exit status: they were sought and the history is long
    enough to hold one; otherwise the newest run's verdicts against the baseline do."""
    return analysis.detection is not None and changepoints.long_enough(analysis.runs, analysis.detection)


def history_status(analysis):
    """1 when the newest run is past a new regression: a change point (change_point_gate) or,
    for a short history, a regression against the baseline; else 0."""
    if change_point_gate(analysis):
        return 1 if changepoints.new_regressions(analysis.histories) else 0
    return 1 if latest_regressions(analysis) else 0


def format_shift(point):
    return (f"{point.change * 100:+.2f}% [{(point.ci_low - 1) * 100:+.2f}%, "
            f"{(point.ci_high - 1) * 100:+.2f}%]")


def change_point_table(histories):
    header = ["benchmark", "params", "seal", "at run", "level before -> after", "change [CI]", "p",
              "runs before/after", "kind"]
    rows = []
    for history in histories:
        for point in history.change_points:
            rows.append([history.benchmark, results.params_text(history.params), history.seal, point.label,
                         f"{format_value(point.before)} -> {format_value(point.after)}", format_shift(point),
                         f"{point.p_value:.4f}", f"{point.runs_before}/{point.runs_after}",
                         point.kind + (" (new)" if point.new else "")])
    return header, rows


def detection_line(detection, settings):
    return (f"change points: E-divisive means, kept when the permutation p <= {detection.alpha:g} "
            f"({detection.permutations} permutations, seed {settings.seed}), at least {detection.min_size} runs "
            f"on each side; a change of at least {settings.threshold * 100:g}% is a regression or improvement, "
            f"new within the last {detection.recent} runs")


def change_point_blocks(analysis):
    """The change-point section of a history report, and what decided the exit status."""
    detection = analysis.detection
    if detection is None:
        return []
    blocks = [blank(), Heading(2, ("change points per cell",)), line(detection_line(detection, analysis.settings))]
    if not changepoints.long_enough(analysis.runs, detection):
        return blocks + [line(f"{len(analysis.runs)} runs: too few for a change point (at least "
                              f"{2 * detection.min_size}); the exit status follows the newest run's verdicts")]
    header, rows = change_point_table(analysis.histories)
    blocks += [Table(header, rows) if rows else line("none found")]
    found = changepoints.new_regressions(analysis.histories)
    blocks.append(line(f"new regressions the newest run is past: {len(found)}"))
    blocks += [line("  ", Literal(changepoints.describe(h)), " at run ", Literal(p.label), f": {format_shift(p)}")
               for h, p in found]
    return blocks


def baseline_name(analysis):
    if analysis.rolling:
        return f"the median of the last {analysis.rolling} runs before each"
    return analysis.baseline.label


def history(analysis, warnings, status, notes=()):
    """The report of many runs, each against the baseline, and the change points of each cell;
    notes: lines under the settings."""
    columns, baseline, settings = analysis.columns, analysis.baseline, analysis.settings
    latest_run = columns[-1][0]
    regressions = latest_regressions(analysis)
    against = Literal(baseline.label) if not analysis.rolling else baseline_name(analysis)
    blocks = [Heading(1, (f"history of {len(columns)} runs against ", against)),
              line(settings_line(settings))] + [line(n) for n in notes] + [blank(),
              Table(*history_table(columns, baseline, settings, analysis.rolling)), blank(),
              line(LEGEND + "; verdict R regression, I improvement, = equivalent, ? inconclusive, "
                   "u undecidable (too few rounds)")]
    blocks += [line("  ", Literal(run.label), ": not compared: ", *not_compared_parts(n))
               for run, _, not_compared in columns for n in not_compared]
    blocks += [blank(), line("latest run ", Literal(latest_run.label), f": {len(regressions)} regressions against ",
                             against)]
    blocks += change_point_blocks(analysis)
    data = {"schema": "msealbench-compare-history", "schema_version": 1,
            "baseline": baseline.path if not analysis.rolling else f"rolling:{analysis.rolling}",
            "settings": vars(settings),
            "runs": [{"path": run.path, "label": run.label, "date": run.date,
                      "comparisons": [c.as_dict() for c in comparisons],
                      "not_compared": [n.as_dict() for n in not_compared]}
                     for run, comparisons, not_compared in columns],
            "warnings": warnings, "regressions_in_latest": len(regressions), "exit_status": status}
    if analysis.detection is not None:
        data["change_points"] = {"detection": vars(analysis.detection),
                                 "decides_exit_status": change_point_gate(analysis),
                                 "cells": [h.as_dict() for h in analysis.histories],
                                 "new_regressions": len(changepoints.new_regressions(analysis.histories))}
    return Report(blocks, data, analysis)
