#!/usr/bin/env python3
"""Kernel A/B comparisons on synthetic runs with known truths: cell groups, geomean intervals,
boots as units, the control noise floor, runs too short to decide."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import comparison, results, synth  # noqa: E402

COMPARE = os.path.join(TOP, "plots", "compare.py")
WORK = tempfile.mkdtemp(prefix="msealbench-t_ab.")


def spec(benchmark, median, effect=0.0, cv=0.02, params=None):
    return {"benchmark": benchmark, "family": benchmark.split(".")[0], "params": params or {},
            "seal": "none", "median": median, "cv": cv, "effect": effect}


def write(name, document):
    path = os.path.join(WORK, name)
    results.write_run(path, document)
    return path


def compare_json(*paths):
    r = subprocess.run([sys.executable, COMPARE, "--format", "json", "--bootstrap", "500", *paths],
                       capture_output=True, text=True, timeout=120)
    try:
        return r.returncode, json.loads(r.stdout), r.stderr
    except json.JSONDecodeError:
        return r.returncode, None, r.stderr


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


if __name__ == "__main__":
    test_groups_from_the_table()
    test_denied_and_successful_paths_never_pooled()
    done()
