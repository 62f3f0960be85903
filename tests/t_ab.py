#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Kernel A/B comparisons on synthetic runs with known truths: cell groups, geomean intervals,
boots as units, the control noise floor, runs too short to decide."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, compare_json, ok, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import comparison, merging, results, synth  # noqa: E402


COMPARE = os.path.join(TOP, "plots", "compare.py")
WORK = tempfile.mkdtemp(prefix="msealbench-t_ab.")


def spec(benchmark, median, effect=0.0, cv=0.02, params=None):
    return {"benchmark": benchmark, "family": benchmark.split(".")[0], "params": params or {},
            "seal": "none", "median": median, "cv": cv, "effect": effect}


def write(name, document):
    path = os.path.join(WORK, name)
    results.write_run(path, document)
    return path


def geomeans_by_group(doc):
    return {g.get("group", g["family"]): g for g in (doc or {}).get("geomeans", [])}


def test_denied_and_successful_paths_never_pooled():
    """The kernel patch of the known regression: successful mremap paths 10% slower, the denied
    (.sealed) paths 50% faster. Pooled, the family's geomean said improvement."""
    base, cand = [], []
    for pages in (1, 16):
        for name in ("mremap.move", "mremap.munmap"):
            base += [spec(name, 40000.0, params={"pages": pages})]
            cand += [spec(name, 40000.0, 0.10, params={"pages": pages})]
            base += [spec(name + ".sealed", 900.0, params={"pages": pages})]
            cand += [spec(name + ".sealed", 900.0, -0.50, params={"pages": pages})]
    a = write("groups-a.json", synth.synthetic_run(base, seed=1, rounds=12, label="A"))
    b = write("groups-b.json", synth.synthetic_run(cand, seed=2, rounds=12, label="B"))
    status, doc, err = compare_json(a, b)
    groups = geomeans_by_group(doc)
    ok(sorted(groups) == ["mremap denied", "mremap success"],
       "denied and successful mremap paths get a geomean each", f"{sorted(groups)} {err}")
    success, denied = groups.get("mremap success"), groups.get("mremap denied")
    ok(success and success["verdict"] == "regression" and success["note"] == "4 cells",
       "the success group shows the regression of its 4 cells", str(success))
    ok(denied and denied["verdict"] == "improvement" and denied["note"] == "4 cells",
       "the denied group shows the faster failures apart", str(denied))
    cells = [c for c in (doc or {}).get("comparisons", []) if c["metric"] == "time"]
    ok(cells and all((c["group"] == "mremap denied") == c["benchmark"].endswith(".sealed") for c in cells),
       "every cell names its group: .sealed cells the denied one")
    ok(status == 1, "the regression sets exit status 1", f"status {status}")


def test_groups_from_the_table():
    ok([comparison.cell_group(b, b.split(".")[0]) for b in
        ("mremap.mprotect.sealed", "mremap.mprotect", "harness.syscall.getppid", "vdso.getcpu", "fork.vfork")]
       == ["mremap denied", "mremap success", "harness/control", "vdso", "fork"],
       "cell_group: denied, success, harness/control, else the family")


def member(ratio, replicates, verdict):
    return comparison.Comparison(
        benchmark="vdso.x", family="vdso", params={}, metric="time", unit="ns/op", base_name="A",
        cand_name="B", paired=False, n_base=10, n_cand=10, rounds=5, base_median=1.0,
        cand_median=ratio, ratio=ratio, ci_low=min(replicates), ci_high=max(replicates), p_value=0.5,
        verdict=verdict, replicates=replicates)


def test_geomean_interval_holds_its_estimate():
    """Medians of resampled rounds can sit on one side of the full data's estimate (arm64
    TCG: "geomean mremap: regression 1.9137 [1.2029, 1.7896]"): the interval must hold it."""
    settings = comparison.Settings(iterations=200)
    skewed = [member(1.9, [1.2 + 0.6 * i / 199 for i in range(200)], "inconclusive") for _ in range(3)]
    row, = comparison.group_geomeans(skewed, settings)
    ok(row.ci_low <= row.ratio <= row.ci_high, "a geomean's CI holds its estimate when the replicates sit below it",
       f"{row.ratio:.4f} [{row.ci_low:.4f}, {row.ci_high:.4f}]")
    outside = 0
    for seed in range(6):
        base = [spec(f"mremap.m{i}", 1000.0, cv=0.2) for i in range(4)]
        cand = [spec(f"mremap.m{i}", 1000.0, 0.3 * i, cv=0.2) for i in range(4)]
        a = results.load_run(write("gm-a.json", synth.synthetic_run(base, seed=seed, rounds=3, per_round=2)))
        b = results.load_run(write("gm-b.json", synth.synthetic_run(cand, seed=seed + 50, rounds=3, per_round=2)))
        analysis = comparison.analyse("files", [a, b], settings)
        outside += sum(not (g.ci_low <= g.ratio <= g.ci_high) for g in analysis.geomeans)
    ok(outside == 0, "no geomean of noisy 3-round A/Bs has its estimate outside its CI", f"{outside} outside")


def test_group_verdict_no_firmer_than_its_cells():
    settings = comparison.Settings(iterations=400)
    members = [member(1.08, [1.08 * (0.97 + 0.06 * i / 399) for i in range(400)], "inconclusive")
               for _ in range(4)]
    row, = comparison.group_geomeans(members, settings)
    ok(row.ci_low > 1.0 and row.verdict == "inconclusive" and "no cell" in getattr(row, "why", ""),
       "a pooled CI clear of 1 over inconclusive cells is no group regression",
       f"{row.verdict} [{row.ci_low:.4f}, {row.ci_high:.4f}] {getattr(row, 'why', '')}")
    members[0].verdict = "regression"
    row, = comparison.group_geomeans(members, settings)
    ok(row.verdict == "regression", "with one cell a regression on its own, the group is one too", row.verdict)



AB_SUITE = [("harness.syscall.getppid", 200.0), ("vdso.clock_gettime.monotonic", 25.0),
            ("fork.vfork", 40000.0), ("mremap.move", 40000.0), ("mremap.munmap", 42000.0),
            ("mremap.mprotect", 30000.0), ("exec.fork_execve.static", 600000.0)]


def kernel_boots(label, seed, shifts, suite=AB_SUITE, rounds=4):
    """The results file msealbench vm writes for a kernel booted len(shifts) times, merged by
    msb/merging.py; shifts[i] slows every cell of boot i+1 by that fraction (a slow period
    of the host); a suite entry (name, median, effect) is a true change of the kernel."""
    runs = []
    for boot, shift in enumerate(shifts, 1):
        specs = [spec(name, median, (1 + shift) * (1 + (more[0] if more else 0.0)) - 1, cv=0.02)
                 for name, median, *more in suite]
        runs.append((boot, synth.synthetic_run(specs, seed=seed * 100 + boot, rounds=rounds, per_round=3, drift_sd=0.005,
                                               label=label)))
    document = json.loads(json.dumps(runs[0][1]))
    document["cells"] = merging.merge_cells(runs)
    return write(f"{label}-{seed}.json", document)


def regressions(doc):
    return [c["benchmark"] for c in (doc or {}).get("comparisons", []) + (doc or {}).get("geomeans", [])
            if c["metric"] == "time" and c["verdict"] == "regression"]


def test_a_slow_boot_is_no_regression():
    """arm64 under TCG: boots 2-4 of A B A B A B ran at half speed; every cell looked slower on the
    second kernel and the family geomeans said regression. Boots are the units, paired A/B."""
    a = kernel_boots("A", 1, [0.0, 0.0, 0.0])
    b = kernel_boots("B", 2, [0.0, 0.5, 0.0])
    doc = json.load(open(a))
    ok(all(c.get("boots") == sorted(c.get("boots", [])) and set(c.get("boots", [])) == {1, 2, 3} and len(c.get("boots", [])) == len(c["samples"])
           for c in doc["cells"]), "the vm merge keeps each sample's boot")
    status, doc, err = compare_json(a, b)
    ok(doc is not None and not regressions(doc) and status == 0,
       "one boot of B 50% slower is no regression (cells, groups), exit 0",
       f"status {status}: {regressions(doc)} {err}")
    cells = [c for c in (doc or {}).get("comparisons", []) if c["metric"] == "time"]
    ok(cells and all(c.get("boots") == 3 and c["paired"] for c in cells),
       "boot n of A is paired with boot n of B: 3 boots are the units")
    ok(cells and all(c.get("boot_spread") and c["boot_spread"] > 0.3 for c in cells),
       "the between-boot spread is reported (the slow boot: about 50%)",
       str([round(c.get("boot_spread") or 0, 3) for c in cells]))
    status, out, err = run_text(a, b)
    ok("boots" in out and ("more boots" in out or "undecidable" in out or "not attributable" in out),
       "the text says boots, and what would settle an open cell", out[-600:])
    real = kernel_boots("R", 3, [0.0, 0.0, 0.0], suite=[(n, m, 0.10 if n.startswith("mremap") else 0.0)
                                                         for n, m in AB_SUITE])
    status, doc, err = compare_json(a, real)
    ok(status == 1 and "geomean mremap success" in regressions(doc),
       "a real 10% mremap regression over 3 boots is still found", f"status {status}: {regressions(doc)} {err}")


def run_text(*paths):
    r = subprocess.run([sys.executable, COMPARE, "--bootstrap", "500", *paths],
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr



def test_changes_within_the_control_floor_are_not_attributable():
    """Two kernel builds of one source: getppid and the vDSO clock (controls) 8% slower from code
    layout; mremap.move 5% slower is within that, mremap.munmap 20% slower is beyond it."""
    moved = {"harness.syscall.getppid": 0.08, "vdso.clock_gettime.monotonic": 0.08, "fork.vfork": 0.02,
             "mremap.move": 0.05, "mremap.munmap": 0.20}
    names = [(n, m) for n, m in AB_SUITE if n in moved]
    a = write("floor-a.json", synth.synthetic_run([spec(n, m, cv=0.01) for n, m in names],
                                                   seed=7, rounds=15, drift_sd=0.002, label="A"))
    b = write("floor-b.json", synth.synthetic_run([spec(n, m, moved[n], cv=0.01) for n, m in names],
                                                   seed=8, rounds=15, drift_sd=0.002, label="B"))
    status, doc, err = compare_json(a, b)
    cells = {c["benchmark"]: c for c in (doc or {}).get("comparisons", []) if c["metric"] == "time"}
    move, munmap = cells.get("mremap.move", {}), cells.get("mremap.munmap", {})
    floors = (doc or {}).get("control_floors") or [{}]
    ok(7.0 < (floors[0].get("moved_pct") or 0) < 9.0 and floors[0].get("controls") == 3,
       "compare reports how far the 3 controls moved (about 8%)", str(floors))
    ok(move.get("verdict") == "not attributable" and 1.03 < move.get("ratio", 0) < 1.07,
       "a 5% slowdown within the controls' 8% is not attributable", str(move.get("verdict")))
    ok(munmap.get("verdict") == "regression", "a 20% slowdown beyond the floor stays a regression",
       str(munmap.get("verdict")))
    ok(cells.get("vdso.clock_gettime.monotonic", {}).get("verdict") == "not attributable",
       "a control that moved is not attributable either")
    vdso = geomeans_by_group(doc).get("vdso", {})
    ok(vdso.get("verdict") == "not attributable", "so is the geomean of a group that moved with the controls",
       str(vdso.get("verdict")))
    ok(status == 1 and regressions(doc) == ["mremap.munmap", "geomean mremap success"],
       "only the regression beyond the floor (and its group) gates",
       f"status {status}: {regressions(doc)}")
    a2 = write("floor-a2.json", synth.synthetic_run([spec(n, m, cv=0.01) for n, m in names if n != "mremap.munmap"],
                                                     seed=7, rounds=15, drift_sd=0.002, label="A"))
    b2 = write("floor-b2.json", synth.synthetic_run(
        [spec(n, m, moved[n], cv=0.01) for n, m in names if n != "mremap.munmap"], seed=8, rounds=15,
        drift_sd=0.002, label="B"))
    status, out, err = run_text(a2, b2)
    ok(status == 0 and "controls moved up to 8." in out and "not attributable" in out,
       "the text says how far the controls moved, and exit 0 (no regression)", f"status {status}: {out[-500:]}")



def test_quick_runs_cannot_decide():
    """msealbench run --quick: 3 rounds. A round bootstrap of 3 rounds puts estimates on an end of
    their own CI (1.0416 [0.8839, 1.0416]); compare says the run cannot decide instead."""
    suite = [spec(n, m, 0.10 if n.startswith("mremap") else 0.0, cv=0.03) for n, m in AB_SUITE]
    a = write("quick-a.json", synth.synthetic_run([dict(x, effect=0.0) for x in suite], seed=5, rounds=3, label="A"))
    b = write("quick-b.json", synth.synthetic_run(suite, seed=6, rounds=3, label="B"))
    status, doc, err = compare_json(a, b)
    rows = [c for c in (doc or {}).get("comparisons", []) + (doc or {}).get("geomeans", []) if c["metric"] == "time"]
    ok(rows and all(c["verdict"] == "undecidable" for c in rows),
       "every cell and group of a 3-round A/B is undecidable", str([c["verdict"] for c in rows]))
    cells = [c for c in rows if not c["benchmark"].startswith("geomean")]
    ok(cells and all(c["why"] == "3 rounds, at least 4 needed" and c["more_rounds"] == 1 for c in cells),
       "each says why: 3 rounds, at least 4 needed", str(cells and cells[0]["why"]))
    status, out, err = run_text(a, b)
    warnings = [w for w in err.splitlines() if "undecidable" in w]
    ok(status == 0 and "[no CI]" in out and "undecidable (3 rounds, at least 4 needed)" in out
       and not any(c["benchmark"] in line and ", " in line.split("[", 1)[-1].split("]")[0]
                   for c in cells for line in out.splitlines() if line.startswith(c["benchmark"] + " ")),
       "the text prints no interval for them, exit 0", f"status {status}: {out[:900]}")
    ok(len(warnings) == 1 and "at least 4 rounds could decide" in warnings[0],
       "one warning line names the rounds that could decide", err)
    ok(comparison.undecidable_why(9, None, 1.0416, 0.8839, 1.0416) and comparison.undecidable_why(3, 3, 1.2, 1.2, 1.5)
       and not comparison.undecidable_why(9, None, 1.0, 0.99, 1.01) and not comparison.undecidable_why(9, None, 1.0, 1.0, 1.0),
       "an estimate on an end of its CI cannot decide either; an exact CI of no width can")
    a4 = write("four-a.json", synth.synthetic_run([dict(x, effect=0.0) for x in suite], seed=5, rounds=4, label="A"))
    b4 = write("four-b.json", synth.synthetic_run(suite, seed=6, rounds=4, label="B"))
    status, doc, err = compare_json(a4, b4)
    verdicts = {c["verdict"] for c in (doc or {}).get("comparisons", []) if c["metric"] == "time"}
    ok("undecidable" not in verdicts, "4 rounds give intervals again", str(verdicts))


if __name__ == "__main__":
    test_groups_from_the_table()
    test_denied_and_successful_paths_never_pooled()
    test_geomean_interval_holds_its_estimate()
    test_group_verdict_no_firmer_than_its_cells()
    test_a_slow_boot_is_no_regression()
    test_changes_within_the_control_floor_are_not_attributable()
    test_quick_runs_cannot_decide()
    done()
