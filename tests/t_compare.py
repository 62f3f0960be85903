#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""plots/compare.py on crafted results files: verdicts, exit codes, bad input."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import comparison, results, synth  # noqa: E402

COMPARE = os.path.join(TOP, "plots", "compare.py")
WORK = tempfile.mkdtemp(prefix="msealbench-t_compare.")


def cell(benchmark, seal, median, cv=0.02, **extra):
    spec = {"benchmark": benchmark, "params": {}, "seal": seal, "median": median, "cv": cv}
    spec.update(extra)
    return spec


def write(name, document):
    path = os.path.join(WORK, name)
    if isinstance(document, str):
        with open(path, "w") as f:
            f.write(document)
    else:
        results.write_run(path, document)
    return path


def run_compare(*args):
    result = subprocess.run([sys.executable, COMPARE, *args], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def compare_json(*args):
    status, out, err = run_compare("--format", "json", "--bootstrap", "500", *args)
    try:
        return status, json.loads(out), err
    except json.JSONDecodeError:
        return status, None, err


def verdict_of(document, benchmark):
    for c in (document or {}).get("comparisons", []):
        if c["benchmark"] == benchmark and c["metric"] == "time":
            return c
    return None


def test_time_verdicts_do_not_depend_on_counters():
    """When the inputs are too big for the full bootstrap, the time CIs get the same resamples
    whether counters are compared beside them (compare) or stripped (plot, report)."""
    specs = [cell(f"vdso.c{i}", seal, 100.0, counters={"instructions:k": 300.0, "cycles": 500.0})
             for i in range(4) for seal in ("none", "sysmap")]
    path = write("big.json", synth.synthetic_run(specs, seed=5, rounds=30, per_round=2))
    saved = comparison.DRAW_BUDGET
    comparison.DRAW_BUDGET = 200_000   # 240 time rounds: 833 resamples; with counters 720 rounds
    try:
        found = []
        for strip in (False, True):
            run = results.load_run(path)
            if strip:
                comparison.strip_counters(run.cells)
            settings, _ = comparison.affordable_settings(comparison.Settings(), [run])
            analysis = comparison.analyse("run", [run], settings)
            found.append({(c.benchmark, c.cand_name): (c.ci_low, c.ci_high) for c in analysis.time_comparisons()})
    finally:
        comparison.DRAW_BUDGET = saved
    ok(found[0] and found[0] == found[1], "a cell's time CI is the same with counters compared beside it or not",
       str(list(found[0].items())[:1]) + " vs " + str(list(found[1].items())[:1]))


def test_verdicts_in_one_run():
    run = synth.synthetic_run([
        cell("vdso.slow", "none", 100.0), cell("vdso.slow", "sysmap", 110.0),
        cell("vdso.same", "none", 100.0, cv=0.005), cell("vdso.same", "sysmap", 100.0, cv=0.005),
        cell("vdso.fast", "none", 100.0), cell("vdso.fast", "sysmap", 90.0),
    ], seed=11, rounds=20, per_round=5)
    path = write("modes.json", run)
    status, doc, err = compare_json(path)
    ok(status == 1, "one run with a 10% slower sysmap cell exits 1", f"status {status}: {err}")
    slow, same, fast = (verdict_of(doc, b) for b in ("vdso.slow", "vdso.same", "vdso.fast"))
    ok(slow and slow["verdict"] == "regression" and slow["paired"], "10% slower is a paired regression", str(slow))
    ok(same and same["verdict"] == "equivalent", "same distribution is equivalent", str(same))
    ok(fast and fast["verdict"] == "improvement", "10% faster is an improvement", str(fast))
    ok(slow and 1.05 < slow["ci_low"] and slow["ci_high"] < 1.15, "CI of the 10% regression is around 1.10",
       str(slow and (slow["ci_low"], slow["ci_high"])))
    families = [g["family"] for g in doc["geomeans"]] if doc else []
    ok(families == ["vdso"], "one geomean row for the family", str(families))


def test_equivalent_exits_zero():
    run = synth.synthetic_run([cell("mremap.a", "none", 5000.0, cv=0.01),
                               cell("mremap.a", "sysmap", 5000.0, cv=0.01)], seed=3, rounds=40)
    status, out, err = run_compare(write("equal.json", run))
    ok(status == 0, "equivalent run exits 0", f"status {status}: {err}")
    ok("equivalent" in out and "geomean mremap" in out, "text table names the verdict and the geomean row")
    ok("( " in out and "%)" in out, "text table shows changes as value ( x.xx%)")


def test_inconclusive_says_how_many_more():
    run = synth.synthetic_run([cell("fork.x", "none", 1e6, cv=0.15),
                               cell("fork.x", "sysmap", 1.01e6, cv=0.15)], seed=5, rounds=4, per_round=2)
    status, doc, err = compare_json(write("noisy.json", run))
    found = verdict_of(doc, "fork.x")
    ok(status == 0 and found and found["verdict"] == "inconclusive", "wide CI is inconclusive, exit 0",
       f"status {status} {found}")
    ok(found and isinstance(found["more_rounds"], int) and found["more_rounds"] > 0,
       "inconclusive names how many more rounds would settle it", str(found and found["more_rounds"]))


def test_two_files_and_counters():
    base = synth.synthetic_run([cell("vdso.a", "none", 50.0, counters={"instructions:k": 300.0})], seed=1)
    cand = synth.synthetic_run([cell("vdso.a", "none", 55.0, counters={"instructions:k": 330.0})], seed=2)
    status, doc, err = compare_json(write("base.json", base), write("cand.json", cand))
    found = verdict_of(doc, "vdso.a")
    ok(status == 1 and found and found["verdict"] == "regression" and not found["paired"],
       "two files: 10% slower candidate is an unpaired regression, exit 1", f"status {status}: {err}")
    counters = [c for c in (doc or {}).get("comparisons", []) if c["metric"] == "instructions:k"]
    ok(len(counters) == 1 and counters[0]["verdict"] == "regression",
       "counters are compared the same way", str(counters))
    zeros = json.loads(json.dumps(cand))
    values = zeros["cells"][0]["counters"]["values"]["instructions:k"]
    zeros["cells"][0]["counters"]["values"]["instructions:k"] = [0.0] * len(values)
    status, doc, err = compare_json(os.path.join(WORK, "base.json"), write("zeros.json", zeros))
    names = [c["metric"] for c in (doc or {}).get("comparisons", [])]
    ok(status == 1 and names == ["time"], "a counter whose candidate median is 0 is left out, not a crash",
       f"status {status}: {err} {names}")


def test_runs_that_differ_in_the_gate():
    """A gated run measures the host's fast periods only: compare says when two runs (or a
    history) differ in --gate, and says nothing when they agree."""
    base = synth.synthetic_run([cell("vdso.a", "none", 50.0)], seed=1)
    gated = json.loads(json.dumps(base))
    gated["context"]["options"]["gate"] = True
    plain, on = write("gate-off.json", base), write("gate-on.json", gated)
    _, _, err = run_compare(plain, on)
    ok("warning: the runs differ in the contention gate (on in " in err and "gate-on.json" in err
       and "off in " in err and "same --gate" in err and err.count("contention gate") == 1,
       "two runs, one gated: one warning naming which is which", err)
    _, _, err = run_compare(on, write("gate-on-too.json", gated))
    ok("contention gate" not in err, "two gated runs: no gate warning", err)
    _, _, err = run_compare(plain, write("gate-off-too.json", base))
    ok("contention gate" not in err, "two ungated runs: no gate warning", err)
    _, _, err = run_compare("--history", plain, on, os.path.join(WORK, "gate-off-too.json"))
    ok("differ in the contention gate" in err and "and 1 more" in err,
       "a history that mixes gated and ungated runs is warned about", err)


def test_skipped_cells_are_listed_not_compared():
    run = synth.synthetic_run([
        cell("exec.a", "none", 100.0), cell("exec.a", "sysmap", 100.0, status="skipped",
                                             reason="mseal: Function not implemented"),
        cell("exec.b", "none", 100.0), cell("exec.b", "sysmap", 100.0)], seed=4, partial=True)
    status, out, err = run_compare(write("skipped.json", run))
    ok(status == 0, "a skipped cell does not fail the comparison", f"status {status}: {err}")
    ok("exec.a" in out and "Function not implemented" in out and "not compared" in out,
       "the skipped cell is listed with its reason")
    ok("partial" in err, "a partial file is warned about", err)


def test_bad_input(name, content, expect_in_message):
    status, out, err = run_compare(write(name, content))
    clean = status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    ok(clean and expect_in_message in err, f"bad input {name}: exit 2 with one clear line",
       f"status {status}, stderr {err!r}")


def test_bad_inputs():
    good = synth.synthetic_run([cell("vdso.a", "none", 50.0), cell("vdso.a", "sysmap", 50.0)], seed=1)
    test_bad_input("malformed.json", '{"schema": "msealbench-results", ', "not valid JSON")
    test_bad_input("other.json", json.dumps({"schema": "something-else", "cells": []}),
                   "not a msealbench results file")
    test_bad_input("v2.json", json.dumps(dict(good, schema_version=2)), "schema_version 2")
    broken = json.loads(json.dumps(good))
    broken["cells"][0]["rounds"] = broken["cells"][0]["rounds"][:-1]
    test_bad_input("rounds.json", json.dumps(broken), "rounds")
    strings = json.loads(json.dumps(good))
    strings["cells"][1]["samples"][0] = "fast"
    test_bad_input("strings.json", json.dumps(strings), "finite numbers")
    status, out, err = run_compare(os.path.join(WORK, "does-not-exist.json"))
    ok(status == 2 and "no such file" in err and "Traceback" not in err, "missing file exits 2", err)
    other = synth.synthetic_run([cell("vdso.other", "none", 50.0), cell("vdso.other", "sysmap", 50.0)], seed=1)
    status, out, err = run_compare(write("good.json", good), write("mismatch.json", other))
    ok(status == 2 and "share no cell" in err, "files without a common cell exit 2", err)
    partly = synth.synthetic_run([cell("vdso.a", "none", 50.0)], seed=1)
    status, out, err = run_compare(os.path.join(WORK, "good.json"), write("partly.json", partly))
    ok(status == 2 and "do not match" in err, "cells that do not match exit 2", err)
    status, out, err = run_compare("--allow-unmatched", os.path.join(WORK, "good.json"),
                                   os.path.join(WORK, "partly.json"))
    ok(status == 0 and "not in" in out, "--allow-unmatched lists the unmatched cells", err)


def test_formats_and_reproducibility():
    path = os.path.join(WORK, "modes.json")
    first = compare_json(path)[1]
    second = compare_json(path)[1]
    ok(first is not None and first == second, "json output is identical run to run (seeded bootstrap)")
    status, out, err = run_compare("--format", "markdown", path)
    ok(status == 1 and "| `benchmark` |" in out and "|---|" in out, "markdown table", err)


def test_history():
    directory = os.path.join(WORK, "history")
    for index, slowdown in enumerate((1.0, 1.0, 1.0, 1.08)):
        run = synth.synthetic_run([cell("mremap.m", "none", 1000.0 * slowdown, cv=0.01)], seed=20 + index,
                                  label=f"6.{9 + index}", date=f"2026-11-0{1 + index}T00:00:00Z")
        results.write_run(os.path.join(directory, f"r{3 - index}.json"), run)
    status, out, err = run_compare(directory)
    ok(status == 1 and "6.12" in out and "*R" in out, "history: the 8% slower latest run exits 1 and is marked",
       f"status {status}: {err}")
    ok(out.index("6.9") < out.index("6.10") < out.index("6.12"), "history ordered by date, not file name")
    status, out, err = run_compare("--baseline", "6.12", directory)
    ok(status == 0, "history against the latest run as baseline exits 0", f"status {status}: {err}")


def test_latest_run():
    directory = os.path.join(WORK, "latest")
    for name, date in (("b.json", "2026-11-02T00:00:00Z"), ("a.json", "2026-11-03T00:00:00Z"),
                       ("c.json", "2026-11-01T00:00:00Z")):
        results.write_run(os.path.join(directory, name),
                         synth.synthetic_run([cell("vdso.a", "none", 50.0)], seed=1, date=date))
    ok(results.latest_run_path(directory).endswith("a.json"), "the newest run is chosen by date, not name")
    os.symlink("a.json", os.path.join(directory, "latest.json"))
    ok(len(results.runs_in(directory)) == 3, "a link such as results/latest.json counts once in a history")
    empty = os.path.join(WORK, "empty")
    os.makedirs(empty)
    try:
        results.latest_run_path(empty)
        ok(False, "an empty results directory is refused")
    except results.BadInput as e:
        ok("make bench" in str(e), "an empty results directory is refused with what to do", str(e))


def test_verdict_rules():
    s = comparison.Settings()
    ok(comparison.decide_verdict(1.03, 1.02, 1.04, 0.001, s) == "regression", "rule: significant +3% regresses")
    ok(comparison.decide_verdict(1.03, 1.02, 1.04, 0.2, s) != "regression", "rule: no regression without p < alpha")
    ok(comparison.decide_verdict(1.005, 1.001, 1.009, 0.001, s) == "equivalent",
       "rule: significant but below the threshold is equivalent")
    ok(comparison.decide_verdict(1.0, 0.97, 1.03, 0.5, s) == "inconclusive", "rule: CI beyond the margin is inconclusive")
    more = comparison.more_rounds_to_settle(20, 1.0, 0.97, 1.03, s)
    ok(more is not None and 20 <= more <= 40, "halving a CI takes about 4x the samples", str(more))


def test_one_renderer_is_a_format():
    """A new output format is one renderer in msb/tables.py: compare (and validate) offer it
    through --format with no other edit, and it sees the same report as text and markdown."""
    import io
    import contextlib
    import compare  # plots/compare.py, in-process so that a renderer can be added
    from msb import tables
    path = write("renderer.json", synth.synthetic_run([cell("vdso.a", "none", 50.0), cell("vdso.a", "sysmap", 50.0)],
                                                      seed=1, rounds=4))
    tables.RENDERERS["tables-count"] = lambda report: f"{sum(isinstance(b, tables.Table) for b in report.blocks)} tables"
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            status = compare.main(["--format", "tables-count", "--bootstrap", "200", path])
    finally:
        del tables.RENDERERS["tables-count"]
    ok(status in (0, 1) and out.getvalue().strip() == "1 tables",
       "a renderer added to msb/tables.py is a --format of compare", out.getvalue()[-300:])
    status, text, _ = run_compare("--bootstrap", "200", path)
    status_md, markdown, _ = run_compare("--bootstrap", "200", "--format", "markdown", path)
    ok("verdicts: " in text and "verdicts: " in markdown and "| `benchmark` |" in markdown,
       "text and markdown render the same report (verdict line included)", markdown[-300:])


try:
    test_one_renderer_is_a_format()
    test_verdicts_in_one_run()
    test_time_verdicts_do_not_depend_on_counters()
    test_equivalent_exits_zero()
    test_inconclusive_says_how_many_more()
    test_two_files_and_counters()
    test_runs_that_differ_in_the_gate()
    test_skipped_cells_are_listed_not_compared()
    test_bad_inputs()
    test_formats_and_reproducibility()
    test_history()
    test_verdict_rules()
    test_latest_run()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
done()
