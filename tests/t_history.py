#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Histories: gzip-compressed results files, change points per cell (plots/msb/changepoints.py)
with compare's exit status, the rolling baseline, and hostile run labels in the history output
and plot."""
import glob
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, skip, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import changepoints, results, synth  # noqa: E402

COMPARE = os.path.join(TOP, "plots", "compare.py")
PLOT = os.path.join(TOP, "plots", "plot.py")
EVAL = os.path.join(TOP, "tools", "changepoints_eval.py")
WORK = tempfile.mkdtemp(prefix="msealbench-t_history.")
MARKER = os.path.join(WORK, "gnuplot-ran-a-command")


def specs(benchmark="vdso.getcpu", median=30.0):
    return [{"benchmark": benchmark, "family": benchmark.split(".")[0], "params": {}, "seal": seal,
             "median": median, "cv": 0.02} for seal in ("none", "sysmap")]


def history_dir(name, runs, step=None, seed=7, label=None, gz=False):
    """A directory of a synthetic history (quiet machine: drift sd 0.005); step = (fraction, first run)."""
    directory = os.path.join(WORK, name)
    documents = synth.synthetic_history(specs(), runs, seed=seed, rounds=10, drift_sd=0.005,
                                        step=(step[0], step[1], None) if step else None)
    for number, (file_name, document) in enumerate(documents, 1):
        if label:
            document["context"]["label"] = label(number)
        path = os.path.join(directory, file_name)
        results.write_run(path, document)
        if gz:
            with open(path, "rb") as f:
                data = f.read()
            with open(path + ".gz", "wb") as f:
                f.write(gzip.compress(data))
            os.unlink(path)
    return directory


def run_tool(tool, *args, memory=None):
    """tool's status, stdout and stderr; memory: an address-space limit in bytes for it."""
    limit = (lambda: resource.setrlimit(resource.RLIMIT_AS, (memory, memory))) if memory else None
    result = subprocess.run([sys.executable, tool, *args], capture_output=True, text=True, timeout=300,
                            preexec_fn=limit)
    return result.returncode, result.stdout, result.stderr


def compare_json(*args):
    status, out, err = run_tool(COMPARE, "--format", "json", "--bootstrap", "200", *args)
    try:
        return status, json.loads(out), err
    except json.JSONDecodeError:
        return status, None, err


def change_points_of(document):
    """{(benchmark, seal): [labels of its change points]}."""
    cells = ((document or {}).get("change_points") or {}).get("cells", [])
    return {(c["benchmark"], c["seal"]): [p["label"] for p in c["change_points"]] for c in cells}


# ------------------------------------------------------------------ gzip

def test_gzip():
    plain = os.path.join(WORK, "plain.json")
    results.write_run(plain, synth.synthetic_run(specs(), seed=3, rounds=5))
    packed = os.path.join(WORK, "packed.json.gz")
    with open(plain, "rb") as f, open(packed, "wb") as g:
        g.write(gzip.compress(f.read()))
    try:
        a, b = results.load_run(plain), results.load_run(packed)
        same, why = [c.samples for c in a.cells] == [c.samples for c in b.cells] and b.label == "packed", b.label
    except results.BadInput as e:
        same, why = False, str(e)
    ok(same, "a .json.gz results file reads as the plain file does (label without .json.gz)", why)
    status, out, err = run_tool(COMPARE, "--bootstrap", "200", packed)
    ok(status in (0, 1) and "seal modes compared" in out, "compare reads a .json.gz run", err)
    directory = history_dir("gz-history", 4, gz=True)
    status, document, err = compare_json(directory)
    ok(document is not None and len(document["runs"]) == 4, "a directory of .json.gz files is a history", err)


def test_gzip_bomb():
    bomb = os.path.join(WORK, "bomb.json.gz")
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(bomb, "wb") as f:
        f.write(packer.compress(b" " * (results.MAX_FILE_BYTES + (1 << 20))) + packer.flush())
    small = os.path.getsize(bomb) < 1 << 20
    status, out, err = run_tool(COMPARE, bomb)
    lines = err.strip().splitlines()
    ok(small and status == 2 and len(lines) == 1 and "decompresses to more than 64 MiB" in err,
       "a gzip bomb (small file, 65 MiB of text) is one line, exit 2", f"status {status}: {err[-300:]}")
    # 300 gzip members of 8 MiB each: 2.4 GiB of text in a 2.5 MB file, read under a 1 GiB
    # address-space limit: only a reader that stops at the limit gets to say so
    huge = os.path.join(WORK, "huge.json.gz")
    with open(huge, "wb") as f:
        f.write(gzip.compress(b" " * (8 << 20)) * 300)
    status, out, err = run_tool(COMPARE, huge, memory=1 << 30)
    ok(status == 2 and len(err.strip().splitlines()) == 1 and "decompresses to more than 64 MiB" in err,
       "a 2.4 GiB gzip bomb is refused within 1 GiB of memory: one line, exit 2", f"status {status}: {err[-300:]}")
    damaged = os.path.join(WORK, "damaged.json.gz")
    with open(damaged, "wb") as f:
        f.write(gzip.compress(b'{"schema": "msealbench-results"}')[:20])
    status, out, err = run_tool(COMPARE, damaged)
    ok(status == 2 and len(err.strip().splitlines()) == 1 and "gzip" in err,
       "a truncated .json.gz is one line naming gzip, exit 2", f"status {status}: {err[-300:]}")


# ------------------------------------------------------------------ change points

def test_step_found_at_its_run():
    for seed in (1, 2, 3):
        directory = history_dir(f"step{seed}", 20, step=(0.03, 12), seed=seed)
        status, document, err = compare_json(directory)
        found = change_points_of(document)
        ok(found and all(labels == ["r12"] for labels in found.values()),
           f"seed {seed}: a 3% step from run 12 of 20 is one change point per cell, at r12", f"{found} {err}")
        points = [p for c in document["change_points"]["cells"] for p in c["change_points"]] if document else []
        ok(points and all(p["kind"] == "regression" and p["ci_low"] <= p["ratio"] <= p["ci_high"]
                          and 1.01 < p["ratio"] < 1.06 and p["p_value"] <= 0.01 for p in points),
           f"seed {seed}: the shift is a regression near +3% with its CI and p", str(points[:1]))
        ok(status == 0, f"seed {seed}: a change point 9 runs back is not new: exit 0", err)


def test_flat_has_none():
    for seed in (1, 2, 3):
        directory = history_dir(f"flat{seed}", 20, seed=seed)
        status, document, err = compare_json(directory)
        found = change_points_of(document)
        ok(found and not any(found.values()) and status == 0,
           f"seed {seed}: a flat 20-run history has no change point, exit 0", f"status {status}: {found} {err}")


def test_newest_regression_exit_status():
    directory = history_dir("new-step", 14, step=(0.05, 10), seed=4)
    status, document, err = compare_json(directory)
    found = change_points_of(document)
    ok(status == 1 and document["change_points"]["new_regressions"] == 2 and all(
        labels == ["r10"] for labels in found.values()),
       "a 5% step at run 10 of 14 is a new regression the newest run is past: exit 1",
       f"status {status}: {found} {err}")
    status, out, err = run_tool(COMPARE, "--bootstrap", "200", directory)
    ok("new regressions the newest run is past: 2" in out and "regression (new)" in out,
       "the text report names the new regressions", out[-600:])
    status, _, err = compare_json("--recent", "3", directory)
    ok(status == 0, "with --recent 3 the same change point (5 runs back) is not new: exit 0", err)
    improved = history_dir("new-improvement", 14, step=(-0.05, 10), seed=4)
    status, document, err = compare_json(improved)
    ok(status == 0 and all(labels == ["r10"] for labels in change_points_of(document).values()),
       "a new improvement is a change point but exit 0", f"status {status}: {err}")
    status, _, err = compare_json("--cp-alpha", "0.0005", directory)
    ok(status == 2 and "raise --permutations" in err, "--cp-alpha below what the permutations can give: exit 2", err)


def test_detection_is_deterministic():
    levels = [100.0] * 8 + [104.0] * 8
    levels = [v * (1 + 0.004 * ((i * 7) % 5 - 2)) for i, v in enumerate(levels)]
    labels = [f"r{i}" for i in range(16)]
    first = changepoints.change_points(levels, labels, 5, changepoints.Detection(), 0.01, 0.95, 16, list(range(16)))
    again = changepoints.change_points(levels, labels, 5, changepoints.Detection(), 0.01, 0.95, 16, list(range(16)))
    ok(first == again and [p.label for p in first] == ["r8"], "change points are the same for the same seed",
       str(first))
    tau, _ = changepoints.best_split([0, 0, 0, 0, 5, 5, 5], 2)
    ok(tau == 4, "best_split puts a clean step where it is", str(tau))


# ------------------------------------------------------------------ rolling baseline

def test_rolling_baseline():
    directory = history_dir("rolling", 10, step=(0.10, 6), seed=5)
    status, document, err = compare_json("--baseline", "rolling:3", "--no-change-points", directory)

    def verdicts(index):
        return {c["verdict"] for c in document["runs"][index]["comparisons"]} if document else set()
    ok(document is not None and document["baseline"] == "rolling:3" and not document["runs"][0]["comparisons"],
       "--baseline rolling:3: the first run has no baseline", err)
    ok(verdicts(5) == {"regression"}, "rolling: the first slower run regresses against the 3 runs before it",
       str(verdicts(5)))
    ok("regression" not in verdicts(9) and status == 0,
       "rolling: the newest run is level with the 3 slower runs before it: no regression, exit 0",
       f"{verdicts(9)} status {status}")
    status, document, err = compare_json("--no-change-points", directory)
    ok(status == 1 and verdicts(9) == {"regression"}, "against the first run the same newest run regresses, exit 1",
       f"status {status} {verdicts(9)}")
    for bad in ("rolling:0", "rolling:x", "rolling:"):
        status, _, err = compare_json("--baseline", bad, directory)
        ok(status == 2 and len(err.strip().splitlines()) == 1, f"--baseline {bad}: one line, exit 2", err)


# ------------------------------------------------------------------ hostile labels

def hostile(tag):
    target = f"{MARKER}-{tag}"
    return (f'x"; system("touch {target}"); `touch {target}`'
            f"' . system('touch {target}') . '\x1b[31m\n| **b** <img src=x>")


def test_hostile_labels():
    directory = history_dir("hostile", 12, step=(0.06, 7), seed=6, label=lambda n: hostile(f"l{n}") + f" {n:02d}")
    status, out, err = run_tool(COMPARE, "--bootstrap", "200", directory)
    ok(status in (0, 1) and "\x1b" not in out and "\\x1b[31m" in out and "change points per cell" in out,
       "text history: labels with control characters are escaped, change points listed", err)
    rows = [line for line in out.splitlines() if line.startswith("vdso.getcpu")]
    ok(len(rows) == 4 and all("\\n" in r for r in rows[2:]),
       "text history: a newline in a label stays inside its row", "\n".join(rows)[:400])
    status, out, err = run_tool(COMPARE, "--bootstrap", "200", "--format", "markdown", directory)
    table = [line for line in out.splitlines() if line.startswith("| `vdso.getcpu`")]
    header = next((line for line in out.splitlines() if line.startswith("| `benchmark`")), "")

    def pipes(line):
        return len(re.findall(r"(?<!\\)\|", line))
    ok(len(table) == 4 and pipes(header) == 16 and [pipes(line) for line in table] == [16, 16, 10, 10] and
       "\\| **b** <img" in out and "\n| **b**" not in out,
       "markdown history: labels only inside code spans, their '|' escaped, table rows intact", out[-500:])
    if subprocess.run(["sh", "-c", "command -v gnuplot"], capture_output=True).returncode != 0:
        skip("history plot with hostile labels", "gnuplot not installed (make deps-check installs it)")
        return
    out_dir = os.path.join(WORK, "plot")
    status, out, err = run_tool(PLOT, "--out", out_dir, "--formats", "svg", "--bootstrap", "200", directory)
    script = open(os.path.join(out_dir, "history.gp")).read() if status == 0 else ""
    data = "".join(open(p).read() for p in glob.glob(os.path.join(out_dir, "history-*.dat")))
    ok(status == 0 and "set arrow from first 5.5" in script and "set object rect" in script and "p=0.0" in data,
       "history plot: the change point at r07 drawn, its segments shaded, its label in the data file", err)
    ok(not glob.glob(MARKER + "*") and "at x'; system(" in data,
       "history plot: hostile labels stay data (in the data file) and never run a command", str(glob.glob(MARKER + "*")))


def test_eval_small():
    status, out, err = run_tool(EVAL, "--seeds", "3", "--steps", "0,3", "--drift", "0.005", "--rounds", "10")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip().endswith(tuple("0123456789"))
            and line.strip()[0].isdigit()}
    ok(status == 0 and "target" in out and "met" in out and rows.get("3%", [""] * 7)[6] == "3"
       and rows.get("0%", [""] * 8)[7] == "0",
       "changepoints_eval.py (3 seeds): the 3% step found in every history, no change point in flat ones",
       out + err)


def main():
    test_gzip()
    test_gzip_bomb()
    test_detection_is_deterministic()
    test_step_found_at_its_run()
    test_flat_has_none()
    test_newest_regression_exit_status()
    test_rolling_baseline()
    test_hostile_labels()
    test_eval_small()
    done()


if __name__ == "__main__":
    main()
