#!/usr/bin/env python3
"""plots/plot.py: every kind of figure is drawn, non-empty, and hostile labels stay data."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, skip, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import gnuplot, results, synth  # noqa: E402

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
    test_failures_are_clear()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
done()
