#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench merge: the runs of one kernel, each made in its own boot, merged into one file whose
boots compare takes as its units (a kernel A/B on real hardware); what it refuses, and that it
never writes over anything but a regular file or over one of its runs."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, TOP, check_schema, compare_json, done, ok  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import results, synth  # noqa: E402

WORK = tempfile.mkdtemp(prefix="msealbench-t_merge.")
SUITE = [("harness.syscall.getppid", 200.0, 0.0), ("vdso.clock_gettime.monotonic", 25.0, 0.0),
         ("fork.vfork", 40000.0, 0.0), ("mremap.move", 40000.0, 0.0), ("mremap.munmap", 42000.0, 0.0)]


def spec(benchmark, median, effect):
    return {"benchmark": benchmark, "family": benchmark.split(".")[0], "params": {}, "seal": "none",
            "median": median, "cv": 0.02, "effect": effect}


def boot_runs(label, seed, shifts, mremap_cost=0.0):
    """One results file per boot of a kernel: shifts[i] slows every cell of boot i+1 (a slow period
    of the host); mremap_cost is a true change of the kernel's mremap paths."""
    paths = []
    for boot, shift in enumerate(shifts, 1):
        specs = [spec(name, median, (1 + shift) * (1 + (mremap_cost if name.startswith("mremap") else effect)) - 1)
                 for name, median, effect in SUITE]
        document = synth.synthetic_run(specs, seed=seed * 100 + boot, rounds=4, per_round=3, drift_sd=0.005,
                                       label=label, date=f"2026-12-0{boot}T10:00:00Z")
        path = os.path.join(WORK, f"{label}-{boot}.json")
        results.write_run(path, document)
        paths.append(path)
    return paths


def merge(*args):
    return subprocess.run([MSEALBENCH, "merge", *args], capture_output=True, text=True, timeout=120)


def regressions(doc):
    return [c["benchmark"] for c in (doc or {}).get("comparisons", []) + (doc or {}).get("geomeans", [])
            if c["metric"] == "time" and c["verdict"] == "regression"]


def merged(label, paths):
    out = os.path.join(WORK, f"{label}.json")
    r = merge("--out", out, *paths)
    ok(r.returncode == 0 and os.path.isfile(out), f"merge {label}: {len(paths)} runs written to one file",
       r.stderr[-300:])
    return out


def test_boots_are_units():
    a_runs = boot_runs("A", 1, [0.0, 0.0, 0.0])
    b_runs = boot_runs("B", 2, [0.0, 0.5, 0.0])
    a, b = merged("A", a_runs), merged("B", b_runs)
    doc = json.load(open(a))
    cells = [c for c in doc["cells"] if c["samples"]]
    ok(cells and all(c["boots"] == [1] * 12 + [2] * 12 + [3] * 12 and c["rounds"] == sorted(c["rounds"])
                     and len(set(c["rounds"])) == 12 for c in cells),
       "run n's samples are boot n's; rounds continue from one run to the next (4 + 4 + 4)",
       json.dumps([(c["boots"][:3], c["rounds"][:3]) for c in cells[:2]]))
    runs = doc["context"].get("merged", {}).get("runs", [])
    ok([(r["boot"], r["file"], r["rounds"]) for r in runs] == [(1, "A-1.json", 4), (2, "A-2.json", 4), (3, "A-3.json", 4)]
       and doc["context"]["label"] == "A" and doc["partial"] is False,
       "context.merged names each run, its boot and rounds", json.dumps(runs)[:300])
    check_schema([a, b], "a merged file follows results/schema-v1.json")

    status, doc, err = compare_json(a, b)
    rows = [c for c in (doc or {}).get("comparisons", []) if c["metric"] == "time"]
    ok(doc is not None and status == 0 and not regressions(doc),
       "one boot of B 50% slower is no regression once the runs are merged, exit 0",
       f"status {status}: {regressions(doc)} {err[-300:]}")
    ok(rows and all(c.get("boots") == 3 and c["paired"] for c in rows),
       "compare takes the 3 boots as units, boot n of A paired with boot n of B",
       json.dumps([(c.get("boots"), c["paired"]) for c in rows])[:300])

    real_runs = boot_runs("R", 3, [0.0, 0.0, 0.0], mremap_cost=0.10)
    real = merged("R", real_runs)
    status, doc, err = compare_json(a, real)
    ok(status == 1 and "geomean mremap success" in regressions(doc),
       "a real 10% mremap cost over 3 boots each is found", f"status {status}: {regressions(doc)} {err[-300:]}")
    return a_runs, a


def refused(what, args, needle, out=None):
    r = merge(*args)
    lines = r.stderr.strip().splitlines()
    ok(r.returncode == 2 and len(lines) == 1 and needle in r.stderr and (out is None or not os.path.exists(out)),
       f"refused, exit 2, one line: {what}", f"{r.returncode}: {r.stderr[-300:]}")


def test_refusals(a_runs, a_merged):
    out = os.path.join(WORK, "never.json")
    refused("a single run", ["--out", out, a_runs[0]], "two runs or more", out)
    refused("a file given twice", ["--out", out, a_runs[0], a_runs[1], a_runs[0]], "given twice", out)
    refused("an already merged file", ["--out", out, a_merged, a_runs[0]], "already merged", out)
    other = json.load(open(a_runs[1]))
    other["context"]["kernel"]["version"] = "#2"
    other_path = os.path.join(WORK, "other-build.json")
    results.write_run(other_path, other)
    refused("runs of another build of the kernel", ["--out", out, a_runs[0], other_path], "another kernel", out)
    bad = os.path.join(WORK, "bad.json")
    with open(bad, "w") as f:
        f.write("{\"schema\": \"msealbench-results\", \"schema_version\": 1, \"cells\": [")
    refused("a damaged file", ["--out", out, a_runs[0], bad], "not valid JSON", out)

    before = open(a_runs[0], "rb").read()
    refused("--out is one of the runs", ["--out", a_runs[0], a_runs[0], a_runs[1]], "is one of the runs")
    ok(open(a_runs[0], "rb").read() == before, "and that run is left as it was")
    directory = os.path.join(WORK, "a-directory")
    os.mkdir(directory)
    refused("--out is a directory", ["--out", directory, a_runs[0], a_runs[1]], "is a directory")
    target = os.path.join(WORK, "target.txt")
    with open(target, "w") as f:
        f.write("keep\n")
    link = os.path.join(WORK, "link.json")
    os.symlink(target, link)
    refused("--out is a symbolic link", ["--out", link, a_runs[0], a_runs[1]], "not a regular file")
    ok(open(target).read() == "keep\n" and os.path.islink(link), "the link and its target are left as they were")
    ok(not [n for n in os.listdir(WORK) if n.endswith(".tmp")], "no temporary file left behind")


def test_warnings(a_runs):
    partial = json.load(open(a_runs[2]))
    partial["partial"] = True
    partial["context"]["host"] = "other-host"
    path = os.path.join(WORK, "A-3-partial.json")
    results.write_run(path, partial)
    out = os.path.join(WORK, "A-partial.json")
    r = merge("--out", out, "--label", "A\x1b[31m", a_runs[0], a_runs[1], path)
    doc = json.load(open(out)) if os.path.exists(out) else {}
    ok(r.returncode == 0 and doc.get("partial") is True and "partial run" in r.stderr and "2 hosts" in r.stderr,
       "a partial run and a second host are merged with a warning each, the file partial", r.stderr[-400:])
    ok(doc.get("context", {}).get("label") == "A\x1b[31m" and "\x1b" not in r.stderr,
       "--label is the merged file's label, escaped on the terminal", repr(r.stderr[-200:]))


def main():
    a_runs, a_merged = test_boots_are_units()
    test_refusals(a_runs, a_merged)
    test_warnings(a_runs)
    done()


if __name__ == "__main__":
    main()
