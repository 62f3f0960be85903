# SPDX-License-Identifier: GPL-2.0-only
"""The figures plot.py draws: bars per family, forest plots of changes (an overview of the group
geomeans and one per group), CDFs, scaling with a ratio panel, and history. Each is a
gnuplot.Figure WIDTH pixels wide with its data file written beside the script, its times in the
unit they read best in (ns, us, ms) and a caption naming the kernel, host, date and rounds it
shows and the verdicts behind it. They draw what comparison.analyse() returned (comparisons,
geomeans, each cell's median and CI) and compute no statistic of their own."""
import math
import os
import re

from . import comparison, gnuplot, results, stats
from .comparison import REGRESSION, IMPROVEMENT, EQUIVALENT, INCONCLUSIVE, NOT_ATTRIBUTABLE, UNDECIDABLE
from .gnuplot import Figure, script_string, slug

VERDICT_COLOURS = {REGRESSION: 0xd62728, IMPROVEMENT: 0x2ca02c, EQUIVALENT: 0x1f77b4, INCONCLUSIVE: 0x7f7f7f,
                   NOT_ATTRIBUTABLE: 0xff7f0e, UNDECIDABLE: 0xc7c7c7}
SERIES_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
CDF_POINTS = 2000  # beyond this a CDF looks the same and only makes the files bigger

WIDTH = 800          # every figure: what a mail client or a review page shows without scaling
CHAR = 1.0           # gnuplot character units one character of a label takes: pngcairo 'sans,9' and
                     # svg 'sans,10' draw benchmark names at 0.86 to 0.98 of their unit (measured)
LINE_PX = 15         # one line of text (pngcairo: 14 px, svg: 15 px)
KEY_SPACING = 1.4    # lines a key row takes: clear of the plot's top border
AXIS_LINES = 3.5     # lines under a plot for its tic labels and axis label, above the caption
ROW_LABEL = 40       # longer row labels lose their middle, so the left margin stays within 2/5 of WIDTH
TITLE_LABEL = 110    # characters of a title across WIDTH
KEY_LABEL = 30       # characters of a series name in a key
CAPTION_LABEL = 125  # characters of a caption line (font size 8) across WIDTH
MAX_ROWS = 32        # rows of one forest or bars figure; more continue on a further page
FOREST_ROW_PX = 20    # a row of a forest plot (the text is 12 px high)
BAR_ROW_PX = 26       # two bars of a cell and the gap to the next: 32 cells stay under 1000 px
CLAMP_REACH = 2.0    # a CI is drawn as far as this many times the farthest estimate (or 1.5 margins),
CLAMP_TYPICAL = 3.0  # or as this many times the median CI end, whichever is farther
TIME_UNITS = (("s", 1e9), ("ms", 1e6), ("us", 1e3))


# ------------------------------------------------------------------ helpers

def colour(index):
    return SERIES_COLOURS[index % len(SERIES_COLOURS)]


def verdict_title(verdict):
    return verdict + (" (no CI)" if verdict == UNDECIDABLE else "")  # as compare prints it


def keyentry(verdict, point_type=7):
    return (f"keyentry with points pt {point_type} ps 1.3 lc rgb '#{VERDICT_COLOURS[verdict]:06x}' "
            f"title '{verdict_title(verdict)}'")


def location(analysis, cell, divisor=1.0):
    """[median, low, high] of a cell, as compare computed it, divided by divisor."""
    found = analysis.location(cell)
    return [found.median / divisor, found.low / divisor, found.high / divisor]


def short_label(benchmark, params, family=None):
    name = benchmark[len(family) + 1:] if family and benchmark.startswith(family + ".") else benchmark
    return name if not params else f"{name} {results.params_text(params)}"


def spread_is_wide(values, factor):
    positive = [v for v in values if v and v > 0]
    return bool(positive) and max(positive) / min(positive) > factor


def data_path(out_dir, name):
    return os.path.join(out_dir, name + ".dat")


def fit(text, limit):
    """text in at most limit characters: a longer one keeps its start and its end (where the
    parameters are) around '...', so it is shortened where we choose, never cut by the canvas."""
    text = str(text)
    if len(text) <= limit:
        return text
    tail = limit // 3
    return text[:limit - 3 - tail] + "..." + text[-tail:]


def label_width(labels):
    """gnuplot character units the longest of labels takes."""
    return CHAR * max((len(label) for label in labels), default=0)


def scaled_unit(unit, values):
    """(divisor, unit) putting values of a time unit in ns into the unit they read best in: the
    largest of s, ms, us that the middle of their range (geometrically) is at least one of, so
    that 8 ms prints as 8 ms/op rather than 8e+06 ns/op. Other units stay as they are."""
    positive = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if not (unit == "ns" or unit.startswith("ns/")) or not positive:
        return 1.0, unit
    middle = math.sqrt(min(positive) * max(positive))
    for name, divisor in TIME_UNITS:
        if middle >= divisor:
            return divisor, name + unit[2:]
    return 1.0, unit


def percent(value):
    return f"{value:+.0f}%" if abs(value) >= 10 else f"{value:+.1f}%"


def paged(stem, items, limit=MAX_ROWS):
    """[(file name, title suffix, items)]: items in pages of at most limit rows, as evenly filled
    as that allows; one page keeps the plain name."""
    count = max(1, math.ceil(len(items) / limit))
    size = math.ceil(len(items) / count)
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    if len(chunks) == 1:
        return [(stem, "", chunks[0])]
    return [(f"{stem}-{n}", f" ({n}/{len(chunks)})", chunk) for n, chunk in enumerate(chunks, 1)]


def title_command(text):
    return f"set title {script_string(fit(text, TITLE_LABEL))}"


def key_on_top(titles, side_margins):
    """Commands putting the key in a band between the title and the plot (gnuplot's own 'outside
    top' puts it above the title; 'below' collides with the x label), and the lines they take.
    Columns are counted as gnuplot fits them: in the width of the plot (WIDTH less side_margins,
    in character units of 8 px), a character unit per character and 12 more per entry."""
    plot_width = WIDTH / 8 - side_margins
    columns = max(1, int(plot_width / (max(len(t) for t in titles) + 12)))
    lines = KEY_SPACING * math.ceil(len(titles) / columns)
    return [f"set key at graph 0.5, graph 1 center bottom horizontal maxcols {columns} spacing {KEY_SPACING:g}",
            f"set title offset 0, {lines:g}", f"set tmargin {lines + 2.5:g}"], lines + 2.5


def height_for(rows, row_px, top_lines, bottom_lines):
    return int(rows * row_px + (top_lines + bottom_lines) * LINE_PX + 10)


# ------------------------------------------------------------------ captions

def context_text(run, *keys):
    value = run.context
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return "?" if value is None or value == "" else str(value)


def short_date(text):
    """An ISO 8601 date as 'YYYY-MM-DD HH:MM' (other text as it is): a caption has no room for
    seconds."""
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d.*", text):
        return f"{text[:10]} {text[11:16]}{' UTC' if text.endswith('Z') else ''}"
    return text


def run_facts(run):
    """What a reader must know to trust a figure of run: which kernel, host, date, rounds."""
    rounds = max((len(set(c.rounds)) for c in run.ok_cells()), default=0)
    return (f"run {fit(run.label, 30)}: kernel {fit(context_text(run, 'kernel', 'release'), 40)}, "
            f"host {fit(context_text(run, 'host'), 30)}, {fit(short_date(run.date), 25) or 'no date'}, {rounds} rounds")


def verdict_counts(comparisons):
    counts = comparison.count_verdicts(comparisons)
    return ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n) or "nothing compared"


def caption(analysis, section=None):
    """The lines under a figure: the runs it shows and the verdict counts of their cells, a line
    per (baseline, candidate) pair (only section's, when given)."""
    runs = analysis.runs
    if analysis.mode == "history":
        found = [c for _, members, _ in analysis.columns for c in members]
        return [f"baseline the last {analysis.rolling} runs (rolling)" if analysis.rolling
                else f"baseline {run_facts(analysis.baseline)}",
                f"{len(runs)} runs, {runs[0].date[:10] or '?'} to {runs[-1].date[:10] or '?'}; cells against the "
                f"baseline: {verdict_counts(found)}"]
    if analysis.mode == "files":
        lines = [f"baseline {run_facts(runs[0])}", f"candidate {run_facts(runs[1])}"]
    else:
        lines = [f"{run_facts(runs[0])}; seal modes {', '.join(runs[0].seal_modes())}"]
    by_section = comparison.sections(analysis.time_comparisons())
    if section is not None:
        by_section = {section: by_section.get(section, [])}
    return lines + [f"{fit(cand, KEY_LABEL)} against {fit(base, KEY_LABEL)}: {verdict_counts(members)}"
                    for (base, cand), members in by_section.items()]


def caption_commands(lines):
    """gnuplot labels writing lines at the bottom left of the canvas, below everything else
    (the figure's bottom margin keeps a line for each)."""
    return [f"set label {script_string(fit(line, CAPTION_LABEL))} at character 1, character "
            f"{0.8 + (len(lines) - 1 - i):g} left font ',8' textcolor rgb '#333333'"
            for i, line in enumerate(lines)]


# ----------------------------------------------- clamped confidence intervals

def clamped_axis(estimates, intervals, margin):
    """(low, high) of an axis of changes around 0 showing every estimate, the +-margin band with
    room to spare and each CI as far as the larger of CLAMP_REACH times the farthest of those
    and CLAMP_TYPICAL times the typical (median) CI end: one CI far wider than the others
    cannot squeeze them into a line. CI ends beyond are drawn cut (drawn_interval)."""
    finite = [e for e in estimates if math.isfinite(e)]
    ends = [e for interval in intervals for e in interval if math.isfinite(e)]
    typical = sorted(abs(e) for e in ends)[len(ends) // 2] if ends else 0.0
    reach = max(CLAMP_REACH * max([abs(e) for e in finite] + [1.5 * margin]), CLAMP_TYPICAL * typical)
    shown = finite + [-1.5 * margin, 1.5 * margin] + [max(-reach, min(reach, e)) for e in ends]
    low, high = min(shown), max(shown)
    pad = (high - low) * 0.04
    return as_written(low - pad), as_written(high + pad)


def as_written(value):
    """value as a script writes it ('%g'): an arrow ending on the edge of an axis written so must
    end exactly there, or gnuplot leaves it out as outside the range."""
    return float(f"{value:g}")


def shown_interval(c):
    """(ratio, low, high) of a comparison as compare shows it: an undecidable one has no interval
    (report.format_ci), so its ends are its estimate."""
    if c.verdict == UNDECIDABLE:
        return c.ratio, c.ratio, c.ratio
    return c.ratio, c.ci_low, c.ci_high


def drawn_interval(low, high, axis):
    """(low, high, cut sides) of a CI drawn on axis: ends beyond it stop at its edge and are listed
    in cut as -1 (low end) or +1; an interval that is not finite is not drawn (NaN)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return math.nan, math.nan, []
    cut = ([-1] if low < axis[0] else []) + ([1] if high > axis[1] else [])
    return max(low, axis[0]), min(high, axis[1]), cut


def clamp_marks(position, cut, axis, colour_value, horizontal):
    """Arrow rows (x, y, dx, dy, colour) pointing out of the axis where a CI was cut."""
    length = (0.035 if horizontal else 0.1) * (axis[1] - axis[0])  # the ratio panel is short
    rows = []
    for side in cut:
        edge = axis[0] if side < 0 else axis[1]
        start, step = edge - side * length, side * length * 0.999  # ends inside, never rounded out
        rows.append([start, position, step, 0, colour_value] if horizontal
                    else [position, start, 0, step, colour_value])
    return rows


CLAMP_TITLE = "CI beyond the axis"
CLAMP_KEY = f"keyentry with vectors head filled size screen 0.014,30 lc rgb '#555555' title '{CLAMP_TITLE}'"


def clamp_element(name, index):
    return (f"'{name}.dat' index {index} using 1:2:3:4:5 with vectors head filled size screen 0.014,30 "
            "lw 1.5 lc rgb variable notitle")


# ---------------------------------------------------------- bars per family

def bars_figure(out_dir, name, part, comparisons, analysis, footer):
    """Horizontal bars, baseline and candidate median of each cell with their CIs: the cell
    names read across, however long, and a family of any size fits WIDTH."""
    family = comparisons[0].family
    base_name, cand_name = comparisons[0].base_name, comparisons[0].cand_name
    values = [v for c in comparisons for cell in (c.base_cell, c.cand_cell) for v in location(analysis, cell)]
    divisor, unit = scaled_unit(comparisons[0].unit, values)
    total = len(comparisons)
    rows = [[total - 1 - i, fit(short_label(c.benchmark, c.params, family), ROW_LABEL),
             *location(analysis, c.base_cell, divisor), *location(analysis, c.cand_cell, divisor)]
            for i, c in enumerate(comparisons)]
    gnuplot.write_data(data_path(out_dir, name),
                       [(["y", "cell", fit(base_name, KEY_LABEL), "low", "high", fit(cand_name, KEY_LABEL), "low", "high"],
                         rows)])
    medians = [r[2] for r in rows] + [r[5] for r in rows]
    shown = [v for r in rows for v in r[2:] if math.isfinite(v) and v > 0]
    logscale = spread_is_wide(medians, 30)
    floor, top = (min(shown) / 1.6, max(shown) * 1.6) if logscale else (0.0, max(shown) * 1.06)

    def bar(source, offset, column, colour_value):
        return (f"{source} using ({floor:g}):($1{offset:+g}):({floor:g}):{column}:($1{offset - 0.17:+g}):"
                f"($1{offset + 0.17:+g}) with boxxyerror lc rgb '{colour_value}' title columnheader({column})")

    def interval(offset, column):
        return (f"'' using {column}:($1{offset:+g}):{column + 1}:{column + 2} with xerrorbars pt 0 "
                "lc rgb 'black' notitle")
    left = label_width(r[1] for r in rows) + 2
    key, key_lines = key_on_top([fit(base_name, KEY_LABEL), fit(cand_name, KEY_LABEL)], left + 4)
    body = [
        title_command(f"{family}: median with {analysis.settings.confidence:.0%} CI, {base_name} and "
                      f"{cand_name}{part}"), *key,
        f"set xlabel {script_string(unit + ' (median, CI)')}",
        "set style fill solid 0.75 border -1", "set grid xtics",
        f"set yrange [-0.6:{total - 0.4}]", f"set xrange [{floor:g}:{top:g}]", "set ytics nomirror scale 0",
        "set logscale x" if logscale else "", "set format x '%g'",
        f"set lmargin {left:g}", "set rmargin 4",
        f"set bmargin {AXIS_LINES + len(footer):g}", *caption_commands(footer),
        "plot " + ", ".join([bar(f"'{name}.dat'", 0.2, 3, colour(0)), bar("''", -0.2, 6, colour(1)),
                             interval(0.2, 3), interval(-0.2, 6),
                             "'' using 3:1:ytic(2) with points ps 0 notitle"]),
    ]
    return Figure(name, body, WIDTH, height_for(total, BAR_ROW_PX, key_lines, AXIS_LINES + len(footer)))


def bars_figures(out_dir, analysis):
    figures = []
    for section, members in comparison.sections(analysis.time_comparisons()).items():
        families = {}
        for c in members:
            families.setdefault(c.family, []).append(c)
        footer = caption(analysis, section)
        for family, in_family in families.items():
            stem = "bars-" + slug(f"{family}-{section[0]}-{section[1]}")
            for name, part, chunk in paged(stem, in_family):
                figures.append(bars_figure(out_dir, name, part, chunk, analysis, footer))
    return figures


# --------------------------------------------------------------- forest plots

def forest_figure(out_dir, name, title, rows, settings, footer):
    """rows: [(label, Comparison, diamond)] top to bottom: each change with its CI against the
    +-margin band, on an axis that no single wide CI can stretch (clamped_axis); a clamped CI
    ends in an arrow at the edge and its true ends are written in the right margin."""
    margin = settings.margin * 100
    changes = [tuple((v - 1) * 100 for v in shown_interval(c)) for _, c, _ in rows]
    axis = clamped_axis([change for change, _, _ in changes], [(low, high) for _, low, high in changes], margin)
    total = len(rows)
    blocks, marks, notes = {False: [], True: []}, [], []
    for position, ((label, c, diamond), (change, low, high)) in enumerate(zip(rows, changes)):
        y = total - 1 - position
        drawn_low, drawn_high, cut = drawn_interval(low, high, axis)
        blocks[diamond].append([y, fit(label, ROW_LABEL), change, drawn_low, drawn_high, VERDICT_COLOURS[c.verdict]])
        marks += clamp_marks(y, cut, axis, VERDICT_COLOURS[c.verdict], horizontal=True)
        if cut:
            notes.append((y, (percent(low) if -1 in cut else "") + ".." + (percent(high) if 1 in cut else "")))
    written = [(kind, block) for kind, block in ((False, blocks[False]), (True, blocks[True]), (None, marks)) if block]
    gnuplot.write_data(data_path(out_dir, name), [(None, block) for _, block in written])
    elements = []
    for index, (kind, _) in enumerate(written):
        if kind is None:
            elements.append(clamp_element(name, index))
        else:
            elements.append(f"'{name}.dat' index {index} using 3:1:4:5:6:ytic(2) with xerrorbars "
                            f"pt {13 if kind else 7} ps {1.8 if kind else 1.2} lc rgb variable notitle")
    present = {c.verdict for _, c, _ in rows}
    elements += [keyentry(v) for v in VERDICT_COLOURS if v in present]
    titles = [verdict_title(v) for v in VERDICT_COLOURS if v in present]
    if blocks[True] and blocks[False]:
        elements.append("keyentry with points pt 13 ps 1.5 lc rgb 'black' title 'group geomean'")
        titles.append("group geomean")
    if marks:
        elements.append(CLAMP_KEY)
        titles.append(CLAMP_TITLE)
    left = label_width(r[1] for block in blocks.values() for r in block) + 2
    right = label_width(text for _, text in notes) + 2 if notes else 4
    key, key_lines = key_on_top(titles, left + right)
    body = [
        title_command(title), *key,
        "set xlabel 'change of the median (%), + is slower'", "set format x '%g'",
        f"set yrange [-0.7:{total - 0.3}]", f"set xrange [{axis[0]:g}:{axis[1]:g}]",
        "set ytics nomirror scale 0", "set grid xtics",
        f"set object 1 rect from first {max(-margin, axis[0]):g}, graph 0 to first {min(margin, axis[1]):g}, "
        "graph 1 behind fc rgb '#e6efe6' fs solid 1.0 noborder",
        "set arrow 1 from first 0, graph 0 to first 0, graph 1 nohead dt 2 lc rgb '#555555'",
        f"set lmargin {left:g}", f"set rmargin {right:g}",
        f"set bmargin {AXIS_LINES + len(footer):g}", *caption_commands(footer),
        *[f"set label {script_string(text)} at graph 1, first {y} offset character 0.6, 0 left font ',8'"
          for y, text in notes],
        "plot " + ", ".join(elements),
    ]
    return Figure(name, body, WIDTH, height_for(total, FOREST_ROW_PX, key_lines, AXIS_LINES + len(footer)))


def forest_figures(out_dir, analysis):
    """Per (baseline, candidate): an overview of the group geomeans, then one figure per group
    of its cells closed by the group's geomean (as compare prints them)."""
    settings, figures = analysis.settings, []
    band = f"{settings.confidence:.0%} CI; band +-{settings.margin * 100:g}%"
    for section, members in comparison.sections(analysis.time_comparisons()).items():
        base_name, cand_name = section
        footer = caption(analysis, section)
        geomeans = {g.group: g for g in analysis.geomeans if (g.base_name, g.cand_name) == section}
        stem = "forest-" + slug(f"{base_name}-{cand_name}")
        if geomeans:
            rows = [(f"{g.group} ({g.note})", g, True) for g in geomeans.values()]
            figures.append(forest_figure(out_dir, stem + "-overview",
                                         f"{cand_name} against {base_name}: geomean of each group with {band}",
                                         rows, settings, footer))
        for group in dict.fromkeys(c.group for c in members):
            in_group = [c for c in members if c.group == group]
            rows = [(short_label(c.benchmark, c.params, c.family), c, False) for c in in_group]
            if group in geomeans:
                rows.append((f"geomean {group}", geomeans[group], True))
            for name, part, chunk in paged(stem + "-" + slug(group), rows):
                figures.append(forest_figure(out_dir, name, f"{group}: {cand_name} against {base_name}, "
                                             f"change with {band}{part}", chunk, settings, footer))
    return figures


# ------------------------------------------------------------ distributions

def cdf_points(samples, limit=CDF_POINTS, divisor=1.0):
    """The empirical CDF, at most limit steps (evenly spaced in rank) however many samples."""
    ordered = sorted(samples)
    n = len(ordered)
    ranks = range(n) if n <= limit else sorted({round(j * (n - 1) / (limit - 1)) for j in range(limit)})
    return [[ordered[i] / divisor, (i + 1) / n] for i in ranks]


def cdf_figure(out_dir, section, base, cand, footer):
    base_name, cand_name = section
    name = "cdf-" + slug(f"{base.benchmark}-{base.params_text}-{base_name}-{cand_name}")
    divisor, unit = scaled_unit(base.unit, base.samples + cand.samples)
    gnuplot.write_data(data_path(out_dir, name), [([fit(base_name, KEY_LABEL)], cdf_points(base.samples, divisor=divisor)),
                                                  ([fit(cand_name, KEY_LABEL)], cdf_points(cand.samples, divisor=divisor))])
    label = short_label(base.benchmark, base.params)
    body = [
        title_command(f"{label}: distribution of samples"),
        f"set xlabel {script_string(unit)}", "set ylabel 'fraction of samples at or below'",
        "set yrange [0:1]", "set grid", "set key bottom right", "set format x '%g'",
        "set logscale x" if spread_is_wide(base.samples + cand.samples, 10) else "",
        f"set bmargin {AXIS_LINES + len(footer):g}", *caption_commands(footer),
        f"plot '{name}.dat' index 0 using 1:2 with steps lw 2 lc rgb '{colour(0)}' title columnheader(1), "
        f"'' index 1 using 1:2 with steps lw 2 lc rgb '{colour(1)}' title columnheader(1)",
    ]
    return Figure(name, body, WIDTH, 440 + len(footer) * LINE_PX)


def cdf_figures(out_dir, analysis):
    footers = {section: caption(analysis, section) for section in comparison.sections(analysis.time_comparisons())}
    return [cdf_figure(out_dir, (c.base_name, c.cand_name), c.base_cell, c.cand_cell,
                       footers[(c.base_name, c.cand_name)])
            for c in analysis.time_comparisons()]


# ------------------------------------------------------------------ scaling

def numeric_params(cells):
    """Parameter names holding at least two distinct numbers across the cells."""
    values = {}
    for cell in cells:
        for key, value in cell.params.items():
            if results.is_number(value):
                values.setdefault(key, set()).add(value)
    return [k for k, v in values.items() if len(v) >= 2]


def other_params(params, param):
    return results.params_text({k: v for k, v in params.items() if k != param})


def scaling_groups(series_cells):
    """(benchmark, parameter, other parameters) -> {series: [cells]} for every benchmark
    with a numeric parameter."""
    by_benchmark = {}
    for series, cell in series_cells:
        by_benchmark.setdefault(cell.benchmark, []).append((series, cell))
    groups = {}
    for benchmark, members in by_benchmark.items():
        for param in numeric_params([c for _, c in members]):
            for series, cell in members:
                if not results.is_number(cell.params.get(param)):
                    continue  # a cell without this parameter, or with a text value
                key = (benchmark, param, other_params(cell.params, param))
                groups.setdefault(key, {}).setdefault(series, []).append(cell)
    return groups


def scaling_ratios(comparisons, key):
    """{(baseline, candidate): comparisons along the parameter} of one scaling figure."""
    benchmark, param, others = key
    found = {}
    for c in comparisons:
        if (c.benchmark == benchmark and results.is_number(c.params.get(param))
                and other_params(c.params, param) == others):
            found.setdefault((c.base_name, c.cand_name), []).append(c)
    return {section: sorted(members, key=lambda c: c.params[param]) for section, members in found.items()}


def value_axis(axis, values):
    """A log axis tight around positive values spread over 30x or more (gnuplot would widen it to
    whole decades, and a two-fold range then looks flat), else a linear one (a log axis over less
    than two decades has one tic label or none)."""
    shown = [v for v in values if math.isfinite(v)]
    if not spread_is_wide(shown, 30) or min(shown) <= 0:
        return [f"set format {axis} '%g'"]
    low, high = min(shown), max(shown)
    pad = max((high / low) ** 0.06, 1.05)
    return [f"set logscale {axis}", f"set {axis}range [{low / pad:g}:{high * pad:g}]", f"set format {axis} '%g'"]


def parameter_axis(xs):
    if min(xs) > 0:
        return f"[{min(xs) / 1.25:g}:{max(xs) * 1.25:g}]", "set logscale x 2"
    pad = (max(xs) - min(xs)) * 0.05 or 1
    return f"[{min(xs) - pad:g}:{max(xs) + pad:g}]", ""


def ratio_panel(name, first_index, param, ratios, settings):
    """The panel under a scaling figure: candidate/baseline with its CI against the parameter and
    the 1 +- margin band, clamped as the forest plots are. Returns (data blocks, plot elements,
    axis)."""
    compared = [c for members in ratios.values() for c in members]
    changes = clamped_axis([c.ratio - 1 for c in compared], [(low - 1, high - 1) for _, low, high in
                                                              map(shown_interval, compared)],
                           settings.margin)
    axis = (as_written(1 + changes[0]), as_written(1 + changes[1]))
    blocks, marks, elements = [], [], []
    for number, ((base_name, cand_name), members) in enumerate(ratios.items()):
        rows = []
        for c in members:
            low, high, cut = drawn_interval(*shown_interval(c)[1:], axis)
            rows.append([c.params[param], c.ratio, low, high])
            marks += clamp_marks(c.params[param], cut, axis, int(colour(number + 2)[1:], 16), horizontal=False)
        blocks.append(([fit(f"{cand_name}/{base_name}", 2 * KEY_LABEL)], rows))
        elements.append(f"'{name}.dat' index {first_index + number} using 1:2:3:4 with yerrorlines lw 2 pt 5 "
                        f"lc rgb '{colour(number + 2)}' title columnheader(1)")
    if marks:
        blocks.append((None, marks))
        elements += [clamp_element(name, first_index + len(ratios)), CLAMP_KEY]
    return blocks, elements, axis


def scaling_figure(out_dir, key, by_series, ratios, analysis, footer):
    """Median and CI of each series against a numeric parameter, log axes; under it, when
    something was compared, the ratio panel (ratio_panel), where a difference too small to see
    between two curves on a log axis shows."""
    benchmark, param, others = key
    every_cell = [c for cells in by_series.values() for c in cells]
    divisor, unit = scaled_unit(every_cell[0].unit, [v for c in every_cell for v in location(analysis, c)])
    blocks = []
    for series, cells in by_series.items():
        rows = [[c.params[param], *location(analysis, c, divisor)]
                for c in sorted(cells, key=lambda c: c.params[param])]
        blocks.append(([fit(series, KEY_LABEL)], rows))
    name = "scaling-" + slug(f"{benchmark}-{param}-{others}")
    xs = [r[0] for _, rows in blocks for r in rows]
    xrange, xlog = parameter_axis(xs)
    title = f"{benchmark}: median against {param}" + ("" if others == "-" else f" ({others})")
    curves = [f"'{name}.dat' index {i} using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '{colour(i)}' "
              "title columnheader(1)" for i in range(len(blocks))]
    both = [f"set xrange {xrange}", xlog, "set grid", "set lmargin 12", "set rmargin 4"]
    latency = [title_command(title), f"set ylabel {script_string(unit + ' (median, CI)')}", "set key top left",
               *value_axis("y", [v for _, rows in blocks for r in rows for v in r[1:]]), *caption_commands(footer)]
    xlabel = [f"set xlabel {script_string(param)}", "set format x '%g'", f"set bmargin {AXIS_LINES + len(footer):g}"]
    if not ratios:
        gnuplot.write_data(data_path(out_dir, name), blocks)
        body = both + latency + xlabel + ["plot " + ", ".join(curves)]
        return Figure(name, body, WIDTH, 480 + len(footer) * LINE_PX)
    ratio_blocks, ratio_elements, axis = ratio_panel(name, len(blocks), param, ratios, analysis.settings)
    gnuplot.write_data(data_path(out_dir, name), blocks + ratio_blocks)
    margin = analysis.settings.margin
    height = 660 + len(footer) * LINE_PX
    lower = (190 + (AXIS_LINES + len(footer)) * LINE_PX) / height
    body = [
        "set multiplot", *both, f"set origin 0,{lower:g}", f"set size 1,{1 - lower:g}", *latency,
        "set format x ''", "set bmargin 1", "plot " + ", ".join(curves),
        "unset label", "unset title", "unset logscale y", "set origin 0,0", f"set size 1,{lower:g}",
        *xlabel, "set tmargin 1.5", "set ylabel 'candidate/baseline (CI)'", f"set yrange [{axis[0]:g}:{axis[1]:g}]",
        f"set object 1 rect from graph 0, first {max(1 - margin, axis[0]):g} to graph 1, first "
        f"{min(1 + margin, axis[1]):g} behind fc rgb '#e6efe6' fs solid 1.0 noborder",
        "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#555555'",
        "set key at graph 1, graph 1 right bottom horizontal",
        "plot " + ", ".join(ratio_elements), "unset multiplot",
    ]
    return Figure(name, body, WIDTH, height)


def scaling_figures(out_dir, analysis):
    runs = analysis.runs
    several = len(runs) > 1
    series_cells = [(f"{run.label}:{cell.seal}" if several else cell.seal, cell)
                    for run in runs for cell in run.ok_cells()]
    groups = scaling_groups(series_cells)
    footer = caption(analysis)
    compared = analysis.time_comparisons()
    return [scaling_figure(out_dir, key, by_series, scaling_ratios(compared, key), analysis, footer)
            for key, by_series in groups.items()
            if any(len(cells) >= 2 for cells in by_series.values())]


# ------------------------------------------------------------------ history

def history_figure(out_dir, group, cells, verdicts, analysis, histories=None):
    """group: (benchmark, params text); cells[(seal, run.path)] -> cell;
    verdicts[(seal, run.path)] -> verdict against the baseline; histories[seal] -> the
    changepoints.CellHistory of the cell: its change points are dashed lines, the level of each
    segment between them a line over a shaded span."""
    benchmark, params = group
    runs, settings = analysis.runs, analysis.settings
    seals = sorted({seal for seal, _ in cells}, key=results.seal_order(*runs))
    divisor, unit = scaled_unit(next(iter(cells.values())).unit,
                                [v for cell in cells.values() for v in location(analysis, cell)])
    footer = caption(analysis)
    blocks = []
    for seal in seals:
        rows = []
        for index, run in enumerate(runs):
            cell = cells.get((seal, run.path))
            if cell is None:
                continue
            marked = verdicts.get((seal, run.path)) == REGRESSION
            rows.append([index, fit(run.label, 20), *location(analysis, cell, divisor),
                         1 if marked else 0])
        blocks.append(([seal, "run", "median", "low", "high", "regression"], rows))
    name = "history-" + slug(f"{benchmark}-{params}")
    levels, marks, spans = change_point_elements(seals, histories or {}, len(runs), divisor)
    gnuplot.write_data(data_path(out_dir, name), blocks + levels + marks)
    plots = []
    for i in range(len(blocks)):
        source = f"'{name}.dat' index {i}"
        plots += [f"{source} using 1:4:5 with filledcurves lc rgb '{colour(i)}' notitle",
                  f"{source} using 1:3:xtic(2) with linespoints lw 2 pt 7 lc rgb '{colour(i)}' title columnheader(1)",
                  f"{source} using 1:($6 > 0 ? $3 : NaN) with points pt 6 ps 2.5 lw 2 "
                  f"lc rgb '#{VERDICT_COLOURS[REGRESSION]:06x}' notitle"]
    plots.append(f"keyentry with points pt 6 ps 2 lw 2 lc rgb '#{VERDICT_COLOURS[REGRESSION]:06x}' "
                 f"title {script_string('regression against ' + history_baseline(analysis))}")
    plots += change_point_plots(name, [seals.index(header[0]) for header, _ in levels], len(blocks))
    label = benchmark if params == "-" else f"{benchmark} {params}"
    body = [
        title_command(f"{label}: median with {settings.confidence:.0%} CI per run"),
        f"set ylabel {script_string(unit)}", "set format y '%g'",
        f"set xrange [-0.5:{len(runs) - 0.5}]", "set xtics rotate by 30 right nomirror",
        f"set bmargin {AXIS_LINES + 0.5 * label_width(r[1] for _, rows in blocks for r in rows) + len(footer):g}",
        f"set lmargin {max(10, 0.87 * label_width([fit(runs[0].label, 20)]) + 2):g}",
        "set grid ytics", *key_on_top(seals + ["regression against " + history_baseline(analysis)], 14)[0],
        *caption_commands(footer),
        "set style fill transparent solid 0.2 noborder", *spans,
        "plot " + ", ".join(plots),
    ]
    return Figure(name, body, WIDTH, 480 + len(footer) * LINE_PX)


def history_baseline(analysis):
    if analysis.rolling:
        return f"the last {analysis.rolling} runs"
    return analysis.baseline.label


def change_point_elements(seals, histories, run_count, divisor=1.0):
    """Data blocks of segment levels ([x from, level, x length, 0]) and change-point marks
    ([x, height, text]) per seal mode that has change points, and the script lines that shade
    each segment (numbers only: the text stays in the data file) and draw each change point. The
    texts stand at the highest level drawn, one line apart per seal mode (change_point_plots)."""
    levels, marks, spans = [], [], []
    top = max((v / divisor for h in histories.values() if h.change_points for v in h.levels), default=0.0)
    for number, seal in enumerate(seals):
        history = histories.get(seal)
        if history is None or not history.change_points:
            continue
        edges = [0] + [p.run_index for p in history.change_points] + [run_count]
        rows = []
        for segment in range(len(edges) - 1):
            start, end = edges[segment] - 0.5, edges[segment + 1] - 0.5
            inside = [v for i, v in zip(history.run_indexes, history.levels) if edges[segment] <= i < edges[segment + 1]]
            if inside:
                rows.append([start, stats.median(inside) / divisor, end - start, 0])
            spans.append(f"set object rect from first {start:g}, graph 0 to first {end:g}, graph 1 behind "
                         f"fc rgb '{colour(number)}' fs transparent solid {0.05 if segment % 2 == 0 else 0.13:g} noborder")
        levels.append(([seal, "from", "level", "length", "zero"], rows))
        marks.append(([seal, "x", "height", "text"],
                      [[p.run_index - 0.5, top, f"{p.change * 100:+.1f}% p={p.p_value:.3f} at {p.label}"]
                       for p in history.change_points]))
        spans += [f"set arrow from first {p.run_index - 0.5:g}, graph 0 to first {p.run_index - 0.5:g}, graph 1 "
                  f"nohead dt 2 lw 2 lc rgb '{colour(number)}'" for p in history.change_points]
    return levels, marks, spans


def change_point_plots(name, numbers, first_block):
    """The plot elements of change_point_elements' data blocks (after the first_block ones), one
    level block and one mark block for each seal mode of numbers (its index: its colour)."""
    plots = []
    for i, number in enumerate(numbers):
        level_block, mark_block = first_block + i, first_block + len(numbers) + i
        plots += [f"'{name}.dat' index {level_block} using 1:2:3:4 with vectors nohead lw 3 lc rgb '{colour(number)}' "
                  "notitle",
                  f"'{name}.dat' index {mark_block} using 1:2:3 with labels left offset 0.5,{1 + 1.4 * i:g} "
                  f"tc rgb '{colour(number)}' notitle"]
    if numbers:
        plots.append("keyentry with lines dt 2 lw 2 lc rgb 'black' title 'change point (level per segment)'")
    return plots


def history_figures(out_dir, analysis):
    cells, verdicts = {}, {}
    for run, comparisons, _ in analysis.columns:
        for cell in run.ok_cells():
            group = (cell.benchmark, cell.params_text)
            cells.setdefault(group, {})[(cell.seal, run.path)] = cell
        for c in comparisons:
            verdicts[(c.benchmark, results.params_text(c.params), c.cand_name, run.path)] = c.verdict
    histories = {}
    for history in analysis.histories:
        histories.setdefault((history.benchmark, results.params_text(history.params)), {})[history.seal] = history
    figures = []
    for group, group_cells in cells.items():
        group_verdicts = {(seal, path): v for (b, p, seal, path), v in verdicts.items() if (b, p) == group}
        figures.append(history_figure(out_dir, group, group_cells, group_verdicts, analysis, histories.get(group)))
    return figures
