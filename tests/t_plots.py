#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""plots/plot.py: every kind of figure is drawn, non-empty, 800 px wide with nothing cut or
overlapping, captioned, in readable units, wide CIs clamped and marked; hostile labels stay data."""
import glob
import html
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, skip, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import comparison, gnuplot, results, synth  # noqa: E402

PLOT = os.path.join(TOP, "plots", "plot.py")
WORK = tempfile.mkdtemp(prefix="msealbench-t_plots.")
MARKER = os.path.join(WORK, "gnuplot-ran-a-command")


def hostile(tag):
    """Text that runs `touch MARKER-tag` if gnuplot ever evaluates it as a command."""
    target = f"{MARKER}-{tag}"
    return (f'x"; system("touch {target}"); print "`touch {target}`'
            f"' . system('touch {target}') . '\\\n`touch {target}` @a {{}}")


def markers():
    return glob.glob(MARKER + "*")


def run_plot(*args, env=None):
    result = subprocess.run([sys.executable, PLOT, *args], capture_output=True, text=True,
                            timeout=120, env=env)
    return result.returncode, result.stdout, result.stderr


def hostile_run(label_tag, seed):
    specs = []
    for seal in ("none", "sysmap"):
        specs.append({"benchmark": "vdso." + hostile("bench"), "params": {}, "seal": seal,
                      "median": 25.0, "cv": 0.03})
        for pages in (1, 16, 256):
            specs.append({"benchmark": "mremap.move", "params": {hostile("param"): pages, "mode": hostile("pv")},
                          "seal": seal, "median": 4e4 * (1 + pages / 256), "cv": 0.03})
    document = synth.synthetic_run(specs, seed=seed, rounds=8, per_round=3, label=hostile(label_tag))
    for cell in document["cells"]:
        cell["unit"] = "ns/op " + hostile("unit")
    return document


def produced(out_dir, kind):
    return sorted(glob.glob(os.path.join(out_dir, f"{kind}-*.png")) +
                  glob.glob(os.path.join(out_dir, f"{kind}-*.svg")))


def test_quoting_helpers():
    text = "it's\n`x`"
    ok(gnuplot.script_string(text) == "'it'.\"'\".'s `x`'", "script strings are single-quoted, "
       "quotes joined on as \"'\", newline removed", gnuplot.script_string(text))
    ok(gnuplot.data_string('a "b"\tc') == "\"a 'b' c\"", "data strings lose inner double quotes and tabs")
    ok(gnuplot.slug("a/../b c") != gnuplot.slug("a_.._b_c") and "/" not in gnuplot.slug("a/../b c"),
       "slugs are file names and distinct for distinct texts")


def test_probe_detects_unsafe_quoting():
    """Control: the marker really appears when a label is pasted into a double-quoted
    gnuplot string, so the absence checks below mean something."""
    script = os.path.join(WORK, "unsafe.gp")
    target = MARKER + "-control"
    with open(script, "w") as f:
        f.write(f'set terminal svg\nset output "{WORK}/unsafe.svg"\nset title "a `touch {target}` b"\nplot x\n')
    subprocess.run(["gnuplot", script], capture_output=True, timeout=30)
    ok(os.path.exists(target), "control: unsafe quoting lets gnuplot run the hostile command")
    os.remove(target)


def test_run_plots():
    path = os.path.join(WORK, "hostile.json")
    results.write_run(path, hostile_run("label", 1))
    out_dir = os.path.join(WORK, "out")
    status, out, err = run_plot("--out", out_dir, path)
    ok(status == 0, "plot.py draws a run with hostile labels", f"status {status}: {err}")
    for kind in ("bars", "forest", "cdf", "scaling"):
        files = produced(out_dir, kind)
        ok(len(files) >= 2 and all(os.path.getsize(f) > 1000 for f in files),
           f"{kind}: PNG and SVG drawn and non-empty", f"{files}")
    pngs = glob.glob(os.path.join(out_dir, "*.png"))
    ok(pngs and all(open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for p in pngs), "PNG files are PNG")
    ok(not markers(), "hostile labels in a run did not make gnuplot run a command", str(markers()))
    names = os.listdir(out_dir)
    ok(names and all(re.fullmatch(r"[A-Za-z0-9._-]+", n) for n in names),
       "every output file name is plain letters, digits, '.', '_' and '-'", str(names[:3]))


def test_two_runs_and_history():
    directory = os.path.join(WORK, "history")
    for index in range(3):
        results.write_run(os.path.join(directory, f"run{index}.json"), hostile_run(f"label{index}", 10 + index))
    out_dir = os.path.join(WORK, "hout")
    status, out, err = run_plot("--out", out_dir, directory)
    files = produced(out_dir, "history")
    ok(status == 0 and len(files) >= 2 and all(os.path.getsize(f) > 1000 for f in files),
       "history figures drawn from a directory", f"status {status}: {err}")
    status, out, err = run_plot("--out", os.path.join(WORK, "pair"), "--formats", "svg",
                                os.path.join(directory, "run0.json"), os.path.join(directory, "run1.json"))
    ok(status == 0 and produced(os.path.join(WORK, "pair"), "forest"), "two runs: forest drawn", err)
    ok(not markers(), "hostile run labels in a history did not make gnuplot run a command", str(markers()))


def test_single_mode_run():
    path = os.path.join(WORK, "one-mode.json")
    specs = [{"benchmark": "mremap.move", "params": {"pages": n}, "seal": "none", "median": 1e4 * n, "cv": 0.03}
             for n in (1, 16)]
    results.write_run(path, synth.synthetic_run(specs, seed=2, rounds=6, per_round=3))
    out_dir = os.path.join(WORK, "one-mode")
    status, out, err = run_plot("--out", out_dir, path)
    ok(status == 0 and produced(out_dir, "scaling") and not produced(out_dir, "forest") and "one seal mode" in err,
       "a run with one seal mode draws scaling only and says why", f"status {status}: {err}")


def test_plot_draws_what_compare_computed():
    """plot computes no comparison of its own: one ratio bootstrap per comparison compare makes,
    one median bootstrap per cell (shared by bars and scaling), and figures draw from the analysis alone."""
    import plot  # plots/plot.py, in-process so that the statistics can be counted
    from msb import comparison, figures, stats
    path = os.path.join(WORK, "counted.json")
    specs = [{"benchmark": "mremap.move", "params": {"pages": n}, "seal": s, "median": 1e4 * n, "cv": 0.03}
             for n in (1, 16) for s in ("none", "sysmap", "all")]
    results.write_run(path, synth.synthetic_run(specs, seed=3, rounds=6, per_round=3))
    calls = {"ratio": 0, "median": 0}
    originals = {name: getattr(stats, f"bootstrap_rounds_{name}_replicates") for name in calls}

    def counted(name):
        def call(*args, **kw):
            calls[name] += 1
            return originals[name](*args, **kw)
        return call
    for name in calls:
        setattr(stats, f"bootstrap_rounds_{name}_replicates", counted(name))
    try:
        status = plot.main(["--out", os.path.join(WORK, "counted"), "--formats", "svg", path])
    finally:
        for name, original in originals.items():
            setattr(stats, f"bootstrap_rounds_{name}_replicates", original)
    ok(status == 0 and calls == {"ratio": 4, "median": 6},
       "plot bootstraps each of the 4 comparisons once and each of the 6 cells' medians once", str(calls))
    run = results.load_run(path)
    analysis = comparison.analyse("run", [run], comparison.Settings(iterations=200), locations=True)

    def refuse(*args, **kw):
        raise AssertionError("a figure computed a statistic")
    saved = {name: getattr(stats, name) for name in dir(stats) if name.startswith(("bootstrap", "median"))}
    for name in saved:
        setattr(stats, name, refuse)
    try:
        drawn = (figures.bars_figures(WORK, analysis) + figures.forest_figures(WORK, analysis)
                 + figures.cdf_figures(WORK, analysis) + figures.scaling_figures(WORK, analysis))
        problem = ""
    except AssertionError as e:
        drawn, problem = [], str(e)
    finally:
        for name, original in saved.items():
            setattr(stats, name, original)
    ok(len(drawn) >= 4 and not problem, "figures draw from compare's analysis without computing", problem)


# ------------------------------------------------ figures fit for a mail

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURE_WIDTH = 800
CAPTION_KERNEL, CAPTION_HOST = "6.99.0-caption", "caption-host"
LONG_NAME = "mremap.madvise_dontneed.sealed_with_a_name_longer_than_any_real_one"
WIDE_CELL = ("mseal.range", {"vmas": 16}, "sysmap")   # its CI is made far wider than the others'
GLYPH = 0.6      # em a character of DejaVu Sans takes in benchmark names (0.57 to 0.65 measured)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24]) if head[:8] == PNG_MAGIC else None


def png_rows(path):
    """(width, height, bytes per pixel, rows of bytes) of an 8-bit, non-interlaced PNG, as
    pngcairo writes them: the standard library has no PNG reader."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[pos + 8:pos + 8 + 13])
        elif kind == b"IDAT":
            idat.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or interlace or colour_type not in (2, 6):
        raise ValueError(f"{path}: unexpected PNG format {header}")
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind in (1, 3, 4):
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                if kind == 1:
                    line[x] = (line[x] + left) & 255
                elif kind == 3:
                    line[x] = (line[x] + ((left + previous[x]) >> 1)) & 255
                else:
                    up, corner = previous[x], previous[x - bpp] if x >= bpp else 0
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = rows[-1]
    return width, height, bpp, rows


def png_touches_edge(path, frame=2):
    """Whether anything dark lies in the outer frame pixels of the image: a label the canvas
    cuts reaches its edge."""
    width, height, bpp, rows = png_rows(path)

    def dark(row, x):
        return min(row[x * bpp:x * bpp + 3]) < 160
    edge_rows = rows[:frame] + rows[-frame:]
    if any(dark(row, x) for row in edge_rows for x in range(width)):
        return True
    columns = list(range(frame)) + list(range(width - frame, width))
    return any(dark(row, x) for row in rows for x in columns)


SVG_TEXT = re.compile(r'<g transform="translate\(([-\d.]+),([-\d.]+)\)(?: rotate\(([-\d.]+)\))?"[^>]*?'
                      r'font-size="([\d.]+)"[^>]*?text-anchor="(\w+)">\s*<text>(.*?)</text>', re.S)


def svg_texts(path):
    """(canvas width, height, [(x, y, angle, font size, anchor, text)]) of a gnuplot SVG."""
    with open(path) as f:
        svg = f.read()
    width, height = map(float, re.search(r'width="(\d+)" height="(\d+)"', svg).groups())
    texts = [(float(x), float(y), float(angle or 0), float(size), anchor,
              html.unescape(re.sub(r"<[^>]+>", "", text)))
             for x, y, angle, size, anchor, text in SVG_TEXT.findall(svg)]
    return width, height, texts


def text_ends(text, glyph=GLYPH):
    """The two ends of a text's baseline, from its length, anchor and angle."""
    x, y, angle, size, anchor, words = text
    length = len(words) * size * glyph
    start = {"start": 0.0, "middle": -length / 2, "end": -length}[anchor]
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(x + dx * s, y + dy * s) for s in (start, start + length)]


def text_outside(width, height, texts):
    """Texts reaching beyond the canvas."""
    return [t[5] for t in texts
            if any(not (0 <= px <= width and t[3] * 0.75 <= py <= height - t[3] * 0.25)
                   for px, py in text_ends(t))]


def texts_overlapping(texts):
    """Pairs of horizontal texts whose boxes overlap (glyphs taken narrow, so that only a real
    collision counts)."""
    boxes = []
    for t in texts:
        if t[2] == 0 and t[5].strip():
            (x0, _), (x1, _) = text_ends(t, glyph=0.5)
            boxes.append((x0, x1, t[1] - 0.7 * t[3], t[1] + 0.2 * t[3], t[5]))
    return [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[0] < b[1] - 1 and b[0] < a[1] - 1 and a[2] < b[3] - 1 and b[2] < a[3] - 1]


def figure_specs():
    """The default synthetic suite with a 3% cost of sysmap (regressions), exec cells of
    milliseconds and a benchmark with a very long name."""
    specs = synth.suite_specs(["none", "sysmap"], effects={"sysmap": 0.03})
    for seal in ("none", "sysmap"):
        specs += [{"benchmark": "exec.fork_execve.dynamic.to_main", "family": "exec", "params": {}, "seal": seal,
                   "median": 4.5e6, "cv": 0.05},
                  {"benchmark": "exec.posix_spawn.static", "family": "exec", "params": {}, "seal": seal,
                   "median": 2.5e6, "cv": 0.05}]
        specs += [{"benchmark": LONG_NAME, "family": "mremap", "params": {"pages": 1, "vmas": vmas}, "seal": seal,
                   "median": 450.0 * (1 + vmas / 512), "cv": 0.04} for vmas in (1, 64, 4096)]
    return specs


def figure_run(path):
    """A run holding what makes figures hard to lay out (figure_specs), with a caption to find,
    and WIDE_CELL made bimodal: 3 of 8 rounds five times slower, so its median barely moves
    and its CI reaches far past everyone else's."""
    document = synth.synthetic_run(figure_specs(), seed=5, rounds=8, per_round=4)
    document["context"]["kernel"]["release"] = CAPTION_KERNEL
    document["context"]["host"] = CAPTION_HOST
    benchmark, params, seal = WIDE_CELL
    for cell in document["cells"]:
        if (cell["benchmark"], cell["params"], cell["seal"]) == WIDE_CELL:
            cell["samples"] = [v * (5 if r in (0, 3, 5) else 1) for v, r in zip(cell["samples"], cell["rounds"])]
            cell["summary"] = results.cell_summary(cell["samples"])
    results.write_run(path, document)


def rerun_scripts(out_dir):
    """gnuplot's messages when it runs the scripts plot.py left in out_dir again."""
    messages = []
    for script in sorted(glob.glob(os.path.join(out_dir, "*.gp"))):
        result = subprocess.run(["gnuplot", os.path.basename(script)], cwd=out_dir, capture_output=True,
                                text=True, timeout=300)
        messages += [f"{os.path.basename(script)}: {line}" for line in result.stderr.splitlines() if line.strip()]
    return messages


def draw_figures():
    """Every figure kind from synthetic data: one run (bars, forest, cdf, scaling) and a
    history of three runs. Returns {kind: [stems]}, the output directories and plot's stderr."""
    run_path = os.path.join(WORK, "figures.json")
    figure_run(run_path)
    history = os.path.join(WORK, "figure-history")
    for index in range(3):
        document = synth.synthetic_run(synth.suite_specs(["none", "sysmap"], ["mremap.move"]), seed=20 + index,
                                       rounds=6, per_round=3, label=f"6.{20 + index}-rc{index}",
                                       date=f"2026-11-{20 + index}T07:00:00Z")
        document["context"]["host"] = CAPTION_HOST
        results.write_run(os.path.join(history, f"run{index}.json"), document)
    dirs = {"run": os.path.join(WORK, "figures"), "history": os.path.join(WORK, "figures-history")}
    status, _, err = run_plot("--out", dirs["run"], run_path)
    status2, _, err2 = run_plot("--out", dirs["history"], history)
    ok(status == 0 and status2 == 0, "every figure kind drawn from synthetic data", err + err2)
    stems = {}
    for directory in dirs.values():
        for path in sorted(glob.glob(os.path.join(directory, "*.svg"))):
            stems.setdefault(os.path.basename(path).split("-")[0], []).append(path[:-4])
    return stems, dirs, err + err2


def test_figures_fit():
    stems, dirs, err = draw_figures()
    every = [stem for kind in stems.values() for stem in kind]
    ok(sorted(stems) == ["bars", "cdf", "forest", "history", "scaling"], "bars, forest, cdf, scaling and history drawn",
       str(sorted(stems)))
    sizes = {os.path.basename(s): png_size(s + ".png") for s in every}
    ok(every and all(size and size[0] == FIGURE_WIDTH and 150 <= size[1] <= 1000 for size in sizes.values()),
       f"every figure is {FIGURE_WIDTH} px wide (PNG header) and at most 1000 px high",
       str({k: v for k, v in sizes.items() if not v or v[0] != FIGURE_WIDTH or not 150 <= v[1] <= 1000}))
    ok("gnuplot" not in err, "plot.py passed on no gnuplot message", err)
    messages = rerun_scripts(dirs["run"]) + rerun_scripts(dirs["history"])
    ok(not messages, "gnuplot prints no warning running the scripts again", "; ".join(messages[:3]))
    outside, overlapping = {}, {}
    for stem in every:
        width, height, texts = svg_texts(stem + ".svg")
        outside[stem] = text_outside(width, height, texts)
        overlapping[stem] = texts_overlapping(texts)
    ok(not any(outside.values()), "no text reaches beyond the canvas (SVG, text extents from their length)",
       str({os.path.basename(k): v[:2] for k, v in outside.items() if v}))
    ok(not any(overlapping.values()), "no two texts overlap: key, axis labels, tics and caption apart (SVG)",
       str({os.path.basename(k): v[:2] for k, v in overlapping.items() if v}))
    # One PNG of each kind, the one with the longest labels: pixels at its edges mean a cut label.
    chosen = [max(members, key=lambda s: max(len(t[5]) for t in svg_texts(s + ".svg")[2]))
              for members in stems.values()]
    touching = [os.path.basename(s) for s in chosen if png_touches_edge(s + ".png")]
    ok(not touching, "nothing drawn at the edges of the PNG with the longest labels of each kind", str(touching))
    return stems


def test_captions(stems):
    missing = {}
    for stem in [s for kind in stems.values() for s in kind]:
        text = " ".join(t[5] for t in svg_texts(stem + ".svg")[2])
        wanted = [CAPTION_HOST, "rounds", "2026-11-"] + ([] if "history" in stem else [f"kernel {CAPTION_KERNEL}"])
        absent = [w for w in wanted if w not in text]
        if not re.search(r"\d+ (regression|improvement|equivalent|inconclusive|not attributable|undecidable)", text):
            absent.append("verdict counts")
        if absent:
            missing[os.path.basename(stem)] = absent
    ok(not missing, "every figure's caption names kernel, host, date and rounds and counts the verdicts",
       str(dict(list(missing.items())[:3])))


def test_units(stems):
    exec_bars = [s for s in stems["bars"] if os.path.basename(s).startswith("bars-exec-")]
    texts = [t[5] for s in exec_bars for t in svg_texts(s + ".svg")[2]]
    ok(exec_bars and any("ms/op" in t for t in texts) and not any("ns/op" in t for t in texts),
       "cells of milliseconds are drawn in ms/op", str([t for t in texts if "/op" in t]))
    cdf = [s for s in stems["cdf"] if "exec.posix_spawn" in s]
    texts = [t[5] for s in cdf for t in svg_texts(s + ".svg")[2]]
    ok(cdf and any(t == "ms/op" for t in texts), "a CDF of milliseconds has an axis in ms/op", str(texts[-6:]))
    exponents = {os.path.basename(s): t[5] for kind in stems.values() for s in kind
                 for t in svg_texts(s + ".svg")[2] if re.fullmatch(r"\s*-?[\d.]+e[+-]\d+\s*", t[5])}
    ok(not exponents, "no tic label in exponent notation (1e+06) in any figure", str(dict(list(exponents.items())[:3])))


def test_forests_and_ratio_panels(stems):
    forests = [os.path.basename(s) for s in stems["forest"]]
    groups = {c for c in ("vdso", "mremap_success", "mseal", "fork", "exec", "harness_control")}
    ok(any(f.endswith("-overview") for f in forests) and all(any(g in f for f in forests) for g in groups),
       "a forest overview of the group geomeans and one forest per group", str(forests))
    from msb import figures
    pages = figures.paged("forest-a-b-big", list(range(70)))
    ok([name for name, _, _ in pages] == ["forest-a-b-big-1", "forest-a-b-big-2", "forest-a-b-big-3"]
       and all(len(rows) <= figures.MAX_ROWS for _, _, rows in pages)
       and [row for _, _, rows in pages for row in rows] == list(range(70)),
       f"a group of 70 cells is drawn on 3 pages of at most {figures.MAX_ROWS} rows", str(pages)[:200])
    scaling = [s for s in stems["scaling"] if "mremap.munmap-vmas" in s]
    texts = [t[5] for s in scaling for t in svg_texts(s + ".svg")[2]]
    ok(scaling and "candidate/baseline (CI)" in texts and "sysmap/none" in texts,
       "a scaling figure has the ratio panel, sysmap/none against the parameter", str(texts[-8:]))


def test_clamped_interval(stems):
    run = results.load_run(os.path.join(WORK, "figures.json"))
    analysis = comparison.analyse("run", [run], comparison.Settings())
    benchmark, params, _ = WIDE_CELL
    wide = next(c for c in analysis.time_comparisons() if (c.benchmark, c.params) == (benchmark, params))
    forest = next(s for s in stems["forest"] if os.path.basename(s).endswith("-mseal"))
    texts = [t for t in svg_texts(forest + ".svg")[2]]
    tics = [float(t[5]) for t in texts if re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", t[5]) and t[2] == 0]
    notes = [t[5] for t in texts if t[5].startswith("..") or t[5].endswith("..")]
    ok(wide.ci_high - 1 > 1.0 and abs(wide.ratio - 1) < 0.2,
       "control: the bimodal cell's CI reaches past +100% while its estimate stays near 0",
       f"{wide.ratio:.3f} [{wide.ci_low:.3f}, {wide.ci_high:.3f}]")
    ok(tics and max(abs(v) for v in tics) < 50, "the forest's axis is not stretched by the one wide CI",
       f"tics {tics}")
    ok("CI beyond the axis" in [t[5] for t in texts] and f"..{(wide.ci_high - 1) * 100:+.0f}%" in notes,
       "the clamped CI is marked: an arrow in the key and its true end beside its row", str(notes))


def test_failures_are_clear():
    env = dict(os.environ, MSEALBENCH_GNUPLOT=os.path.join(WORK, "no-gnuplot-here"))
    status, out, err = run_plot("--out", os.path.join(WORK, "x"), os.path.join(WORK, "hostile.json"), env=env)
    ok(status == 3 and "not found" in err and "gnuplot" in err and "Traceback" not in err,
       "missing gnuplot: exit 3 with a clear message", f"status {status}: {err}")
    status, out, err = run_plot("--out", os.path.join(WORK, "x"), os.path.join(WORK, "missing.json"))
    ok(status == 2 and "no such file" in err, "missing results file: exit 2", f"status {status}: {err}")


try:
    test_quoting_helpers()
    if shutil.which("gnuplot") is None:
        skip("plots drawn", "gnuplot is not installed (apt install gnuplot-nox)")
    else:
        test_probe_detects_unsafe_quoting()
        test_run_plots()
        test_two_runs_and_history()
        test_single_mode_run()
        test_plot_draws_what_compare_computed()
        drawn = test_figures_fit()
        test_captions(drawn)
        test_units(drawn)
        test_forests_and_ratio_panels(drawn)
        test_clamped_interval(drawn)
    test_failures_are_clear()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
done()
