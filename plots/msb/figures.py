"""The figures plot.py draws: bars per family, a forest plot of changes, CDFs, scaling and
history, each a gnuplot.Figure with its data file written beside the script. They draw what
comparison.analyse() returned (comparisons, geomeans, each cell's median and CI) and compute
no statistic of their own."""
import os

from . import comparison, gnuplot, results, stats
from .comparison import REGRESSION, IMPROVEMENT, EQUIVALENT, INCONCLUSIVE, NOT_ATTRIBUTABLE, UNDECIDABLE
from .gnuplot import Figure, script_string, slug

VERDICT_COLOURS = {REGRESSION: 0xd62728, IMPROVEMENT: 0x2ca02c, EQUIVALENT: 0x1f77b4, INCONCLUSIVE: 0x7f7f7f,
                   NOT_ATTRIBUTABLE: 0xff7f0e, UNDECIDABLE: 0xc7c7c7}
SERIES_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
CDF_POINTS = 2000  # beyond this a CDF looks the same and only makes the files bigger


# ------------------------------------------------------------------ helpers

def colour(index):
    return SERIES_COLOURS[index % len(SERIES_COLOURS)]


def keyentry(verdict, point_type=7):
    return (f"keyentry with points pt {point_type} ps 1.3 lc rgb '#{VERDICT_COLOURS[verdict]:06x}' "
            f"title '{verdict}'")


def location(analysis, cell):
    """[median, low, high] of a cell, as compare computed it."""
    found = analysis.location(cell)
    return [found.median, found.low, found.high]


def short_label(benchmark, params, family=None):
    name = benchmark[len(family) + 1:] if family and benchmark.startswith(family + ".") else benchmark
    return name if not params else f"{name} {results.params_text(params)}"


def spread_is_wide(values, factor):
    positive = [v for v in values if v and v > 0]
    return bool(positive) and max(positive) / min(positive) > factor


def data_path(out_dir, name):
    return os.path.join(out_dir, name + ".dat")


# ---------------------------------------------------------- bars per family

def bars_figure(out_dir, family, section, comparisons, analysis):
    base_name, cand_name = section
    settings = analysis.settings
    rows = []
    for c in comparisons:
        rows.append([short_label(c.benchmark, c.params, family), *location(analysis, c.base_cell),
                     *location(analysis, c.cand_cell)])
    name = "bars-" + slug(f"{family}-{base_name}-{cand_name}")
    gnuplot.write_data(data_path(out_dir, name),
                          [(["cell", base_name, "low", "high", cand_name, "low", "high"], rows)])
    unit = comparisons[0].unit
    values = [r[1] for r in rows] + [r[4] for r in rows]
    body = [
        f"set title {script_string(f'{family}: median {unit} with {settings.confidence:.0%} CI, {base_name} and {cand_name}')}",
        "set style data histogram", "set style histogram errorbars gap 2 lw 1",
        "set style fill solid 0.75 border -1", "set grid ytics", "set key top left",
        "set xtics rotate by 30 right nomirror", "set bmargin 8",
        f"set ylabel {script_string(unit)}",
        "set logscale y" if spread_is_wide(values, 30) else "set yrange [0:*]",
        f"plot '{name}.dat' using 2:3:4:xtic(1) title columnheader(2) lc rgb '{colour(0)}', "
        f"'' using 5:6:7 title columnheader(5) lc rgb '{colour(1)}'",
    ]
    width = min(2000, max(640, 160 + 70 * len(rows)))
    return Figure(name, body, width, 480)


def bars_figures(out_dir, analysis):
    figures = []
    for section, members in comparison.sections(analysis.time_comparisons()).items():
        families = {}
        for c in members:
            families.setdefault(c.family, []).append(c)
        for family, in_family in families.items():
            figures.append(bars_figure(out_dir, family, section, in_family, analysis))
    return figures


# --------------------------------------------------------------- forest plot

def forest_rows(comparisons):
    return [[short_label(c.benchmark, c.params), (c.ratio - 1) * 100, (c.ci_low - 1) * 100,
             (c.ci_high - 1) * 100, VERDICT_COLOURS[c.verdict]] for c in comparisons]


def forest_xrange(comparisons, margin):
    """Wide enough for every CI, the zero line and the whole margin band."""
    ends = [(c.ci_low - 1) * 100 for c in comparisons] + [(c.ci_high - 1) * 100 for c in comparisons]
    ends = [e for e in ends if e == e and abs(e) != float("inf")]
    low = min(ends + [-1.5 * margin])
    high = max(ends + [1.5 * margin])
    pad = (high - low) * 0.05
    return low - pad, high + pad


def forest_elements(name, with_geomeans):
    elements = [f"'{name}.dat' index 0 using 3:1:4:5:6:ytic(2) with xerrorbars pt 7 ps 1.2 lc rgb variable notitle"]
    if with_geomeans:
        elements.append(f"'{name}.dat' index 1 using 3:1:4:5:6:ytic(2) with xerrorbars pt 13 ps 1.8 "
                        "lc rgb variable notitle")
    elements += [keyentry(v) for v in VERDICT_COLOURS]
    if with_geomeans:
        elements.append("keyentry with points pt 13 ps 1.5 lc rgb 'black' title 'group geomean'")
    return elements


def forest_figure(out_dir, section, comparisons, geomeans, settings):
    """Every cell's change with its CI against the +-margin band; geomeans as diamonds."""
    base_name, cand_name = section
    ordered = []
    for group in dict.fromkeys(c.group for c in comparisons):
        ordered += [("cell", c) for c in comparisons if c.group == group]
        ordered += [("geomean", g) for g in geomeans if g.group == group]
    total = len(ordered)
    blocks = {"cell": [], "geomean": []}
    for position, (kind, c) in enumerate(ordered):
        blocks[kind].append([total - 1 - position] + forest_rows([c])[0])
    name = "forest-" + slug(f"{base_name}-{cand_name}")
    gnuplot.write_data(data_path(out_dir, name), [(None, blocks["cell"]), (None, blocks["geomean"])])
    margin = settings.margin * 100
    low, high = forest_xrange([c for _, c in ordered], margin)
    title = (f"{cand_name} against {base_name}: change of the median with {settings.confidence:.0%} CI; "
             f"band +-{margin:g}%")
    body = [
        f"set title {script_string(title)}",
        "set xlabel 'change of the median (%), + is slower'",
        f"set yrange [-1:{total}]", f"set xrange [{low:g}:{high:g}]", "set ytics nomirror", "set grid xtics",
        f"set object 1 rect from first {-margin:g}, graph 0 to first {margin:g}, graph 1 behind "
        "fc rgb '#e6efe6' fs solid 1.0 noborder",
        "set arrow 1 from first 0, graph 0 to first 0, graph 1 nohead dt 2 lc rgb '#555555'",
        "set key outside bottom center horizontal",
        "plot " + ", ".join(forest_elements(name, bool(blocks["geomean"]))),
    ]
    return Figure(name, body, 900, min(3000, 160 + 22 * total))


def forest_figures(out_dir, analysis):
    figures = []
    for section, members in comparison.sections(analysis.time_comparisons()).items():
        section_geomeans = [g for g in analysis.geomeans if (g.base_name, g.cand_name) == section]
        figures.append(forest_figure(out_dir, section, members, section_geomeans, analysis.settings))
    return figures


# ------------------------------------------------------------ distributions

def cdf_points(samples, limit=CDF_POINTS):
    """The empirical CDF, at most limit steps (evenly spaced in rank) however many samples."""
    ordered = sorted(samples)
    n = len(ordered)
    ranks = range(n) if n <= limit else sorted({round(j * (n - 1) / (limit - 1)) for j in range(limit)})
    return [[ordered[i], (i + 1) / n] for i in ranks]


def cdf_figure(out_dir, section, base, cand):
    base_name, cand_name = section
    name = "cdf-" + slug(f"{base.benchmark}-{base.params_text}-{base_name}-{cand_name}")
    gnuplot.write_data(data_path(out_dir, name), [([base_name], cdf_points(base.samples)),
                                                     ([cand_name], cdf_points(cand.samples))])
    label = short_label(base.benchmark, base.params)
    body = [
        f"set title {script_string(f'{label}: distribution of samples')}",
        f"set xlabel {script_string(base.unit)}", "set ylabel 'fraction of samples at or below'",
        "set yrange [0:1]", "set grid", "set key bottom right",
        "set logscale x" if spread_is_wide(base.samples + cand.samples, 10) else "",
        f"plot '{name}.dat' index 0 using 1:2 with steps lw 2 lc rgb '{colour(0)}' title columnheader(1), "
        f"'' index 1 using 1:2 with steps lw 2 lc rgb '{colour(1)}' title columnheader(1)",
    ]
    return Figure(name, body, 720, 440)


def cdf_figures(out_dir, analysis):
    return [cdf_figure(out_dir, (c.base_name, c.cand_name), c.base_cell, c.cand_cell)
            for c in analysis.time_comparisons()]


# ------------------------------------------------------------------ scaling

def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numeric_params(cells):
    """Parameter names holding at least two distinct numbers across the cells."""
    values = {}
    for cell in cells:
        for key, value in cell.params.items():
            if is_number(value):
                values.setdefault(key, set()).add(value)
    return [k for k, v in values.items() if len(v) >= 2]


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
                if not is_number(cell.params.get(param)):
                    continue  # a cell without this parameter, or with a text value
                others = {k: v for k, v in cell.params.items() if k != param}
                key = (benchmark, param, results.params_text(others))
                groups.setdefault(key, {}).setdefault(series, []).append(cell)
    return groups


def scaling_figure(out_dir, key, by_series, analysis):
    benchmark, param, others = key
    blocks = []
    for series, cells in by_series.items():
        rows = [[c.params[param], *location(analysis, c)]
                for c in sorted(cells, key=lambda c: c.params[param])]
        blocks.append(([series], rows))
    name = "scaling-" + slug(f"{benchmark}-{param}-{others}")
    gnuplot.write_data(data_path(out_dir, name), blocks)
    xs = [r[0] for _, rows in blocks for r in rows]
    ys = [r[1] for _, rows in blocks for r in rows]
    unit = next(iter(by_series.values()))[0].unit
    title = f"{benchmark}: median against {param}" + ("" if others == "-" else f" ({others})")
    plots = [f"'{name}.dat' index {i} using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '{colour(i)}' "
             "title columnheader(1)" for i in range(len(blocks))]
    body = [
        f"set title {script_string(title)}", f"set xlabel {script_string(param)}",
        f"set ylabel {script_string(unit + ' (median, CI)')}", "set grid", "set key top left",
        "set logscale x 2" if min(xs) > 0 else "", "set logscale y" if min(ys) > 0 else "",
        "set format y '%g'",
        "plot " + ", ".join(plots),
    ]
    return Figure(name, body, 720, 480)


def scaling_figures(out_dir, analysis):
    runs = analysis.runs
    several = len(runs) > 1
    series_cells = [(f"{run.label}:{cell.seal}" if several else cell.seal, cell)
                    for run in runs for cell in run.ok_cells()]
    groups = scaling_groups(series_cells)
    return [scaling_figure(out_dir, key, by_series, analysis)
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
    blocks = []
    for seal in seals:
        rows = []
        for index, run in enumerate(runs):
            cell = cells.get((seal, run.path))
            if cell is None:
                continue
            marked = verdicts.get((seal, run.path)) == REGRESSION
            rows.append([index, run.label, *location(analysis, cell),
                         1 if marked else 0])
        blocks.append(([seal, "run", "median", "low", "high", "regression"], rows))
    name = "history-" + slug(f"{benchmark}-{params}")
    levels, marks, spans = change_point_elements(seals, histories or {}, len(runs))
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
        f"set title {script_string(f'{label}: median with {settings.confidence:.0%} CI per run')}",
        f"set ylabel {script_string(next(iter(cells.values())).unit)}",
        f"set xrange [-0.5:{len(runs) - 0.5}]", "set xtics rotate by 30 right nomirror", "set bmargin 8",
        "set grid ytics", "set key outside bottom center horizontal",
        "set style fill transparent solid 0.2 noborder", *spans,
        "plot " + ", ".join(plots),
    ]
    return Figure(name, body, min(2000, max(720, 120 + 60 * len(runs))), 480)


def history_baseline(analysis):
    if analysis.rolling:
        return f"the last {analysis.rolling} runs"
    return analysis.baseline.label


def change_point_elements(seals, histories, run_count):
    """Data blocks of segment levels ([x from, level, x length, 0]) and change-point marks
    ([x, height, text]) per seal mode that has change points, and the script lines that shade
    each segment (numbers only: the text stays in the data file) and draw each change point. The
    texts stand at the highest level drawn, one line apart per seal mode (change_point_plots)."""
    levels, marks, spans = [], [], []
    top = max((v for h in histories.values() if h.change_points for v in h.levels), default=0.0)
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
                rows.append([start, stats.median(inside), end - start, 0])
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
