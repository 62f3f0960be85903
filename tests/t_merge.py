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
from msb import cli, inputs, results, synth  # noqa: E402

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
    return a_runs, b_runs, a


def refused(what, args, needle, out=None):
    r = merge(*args)
    lines = r.stderr.strip().splitlines()
    ok(r.returncode == 2 and len(lines) == 1 and needle in r.stderr and (out is None or not os.path.exists(out)),
       f"refused, exit 2, one line: {what}", f"{r.returncode}: {r.stderr[-300:]}")


def test_refusals(a_runs, a_merged):
    out = os.path.join(WORK, "never.json")
    refused("a single run", ["--out", out, a_runs[0]], "two runs or more", out)
    refused("a file given twice", ["--out", out, a_runs[0], a_runs[1], a_runs[0]], "the same run", out)
    refused("an already merged file", ["--out", out, a_merged, a_runs[0]], "already merged", out)
    other = json.load(open(a_runs[1]))
    other["context"]["kernel"]["version"] = "#2"
    other_path = os.path.join(WORK, "other-build.json")
    results.write_run(other_path, other)
    refused("runs of another build of the kernel", ["--out", out, a_runs[0], other_path], "another kernel", out)
    for what, change, needle in (
            ("runs of another release", lambda d: d["context"]["kernel"].update(release="6.19.0"), "another kernel"),
            ("runs of another architecture", lambda d: d["context"].update(arch="aarch64"), "another kernel"),
            ("runs of a kernel that sealed other mappings",
             lambda d: d["context"].update(kernel_sealed_system_mappings=["[vdso]"]), "another kernel"),
            ("runs of another injected delay",
             lambda d: d["context"]["options"].update(inject_delay={"fraction": 0.02, "seal": "sysmap"}),
             "injected delay"),
            ("a copy of a run (same host, date and seed)", lambda d: None, "same host, date and seed"),
            ("a run with options that are not an object", lambda d: d["context"].update(options="x"), "another")):
        changed = json.load(open(a_runs[0]))
        if not what.startswith("a copy"):
            changed["context"]["date"] = "2026-12-09T10:00:00Z"
        change(changed)
        if what.startswith("a run with options"):
            changed["context"]["kernel"]["release"] = "other"
        changed_path = os.path.join(WORK, "changed.json")
        results.write_run(changed_path, changed)
        refused(what, ["--out", out, a_runs[0], changed_path], needle, out)
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


def test_cells(a_runs):
    """No parameters as null in one run and {} in another are one cell; a series that is not a
    list is dropped, not a crash; a cell missing from a run and one that failed in a run are said."""
    first, second = json.load(open(a_runs[0])), json.load(open(a_runs[1]))
    for cell in first["cells"]:
        if cell["params"] == {}:
            cell["params"] = None
    second["cells"][0]["cycles"] = "many"
    second["cells"] = [c for c in second["cells"] if c["benchmark"] != "fork.vfork"]
    third = json.load(open(a_runs[2]))
    victim = next(c for c in third["cells"] if c["benchmark"] == "mremap.move")
    victim.update(status="failed", reason="verify: mremap moved nothing", samples=[], rounds=[], summary=None,
                  reference_ns=None, cycles=None)
    paths = []
    for n, document in enumerate((first, second, third), 1):
        paths.append(os.path.join(WORK, f"cells-{n}.json"))
        results.write_run(paths[-1], document)
    out = os.path.join(WORK, "cells.json.gz")
    r = merge("--out", out, *paths)
    ok(r.returncode == 0 and "not measured in every run" in r.stderr and "failed in a run" in r.stderr
       and "boot 3" in r.stderr, "merged with a warning for the missing and for the failed cell", r.stderr[-500:])
    status, doc, err = compare_json(out, out)
    ok(status == 0 and doc is not None, "compare reads the merged file (compressed: --out ends in .gz)",
       f"{status}: {err[-300:]}")
    merged = results.load_run(out) if os.path.exists(out) else None
    keys = [(c.benchmark, c.params_text, c.seal) for c in (merged.cells if merged else [])]
    failed = [c for c in (merged.cells if merged else []) if c.status == "failed"]
    ok(merged and len(keys) == len(set(keys)) and len(keys) == len(first["cells"]),
       "null and {} parameters are one cell, each cell once", str(keys)[:300])
    ok(len(failed) == 1 and failed[0].reason.startswith("boot 3: "), "the failed cell names its boot",
       str([(c.benchmark, c.reason) for c in failed]))
    with open(out, "rb") as f:
        ok(f.read(2) == b"\x1f\x8b", "an --out ending in .gz is gzip-compressed")


def test_order_and_report(a_runs, b_runs):
    r = merge("--out", os.path.join(WORK, "reversed.json"), a_runs[1], a_runs[0])
    ok(r.returncode == 0 and "order they were made" in r.stderr, "runs not given in their order: a warning",
       r.stderr[-300:])
    directory = os.path.join(WORK, "ab")
    os.mkdir(directory)
    for label, runs in (("A", a_runs), ("B", b_runs)):
        merge("--out", os.path.join(directory, f"{label}.json"), *runs)
    os.symlink(a_runs[0], os.path.join(directory, "a-1.json"))     # a plain run beside them: not a kernel
    ab = inputs.load_ab(directory, "A")
    ok(ab.baseline.label == "A" and [c.label for c in ab.candidates] == ["B"],
       "report --ab takes a directory of merged files (a plain run beside them is left out)")
    doc = json.load(open(os.path.join(directory, "B.json")))
    doc["context"]["kernel_config"] = {"CONFIG_MSEAL_SYSTEM_MAPPINGS": "y"}
    ok(inputs.kernel_option(results.load_run(os.path.join(directory, "A.json"))) is False
       and inputs.kernel_option(results.Run("B.json", "B", "", False, doc["context"], [])) is True,
       "the option of a merged kernel: off where its runs saw nothing sealed, on where their kernel config says y")


def test_too_large(a_runs):
    """A results file larger than readers take is refused before anything is written."""
    limit, results.MAX_FILE_BYTES = results.MAX_FILE_BYTES, 2000
    out = os.path.join(WORK, "too-large.json")
    try:
        results.write_run(out, json.load(open(a_runs[0])))
        ok(False, "a results file over the readers' limit is refused", "written")
    except cli.OutputError as e:
        ok("more than results files may be" in str(e) and not os.path.exists(out),
           "a results file over the readers' limit is refused, nothing written", str(e))
    finally:
        results.MAX_FILE_BYTES = limit


def test_warnings(a_runs):
    partial = json.load(open(a_runs[2]))
    partial["partial"] = True
    partial["context"]["host"] = "other-host"
    partial["context"]["options"]["gate"] = True
    path = os.path.join(WORK, "A-3-partial.json")
    results.write_run(path, partial)
    out = os.path.join(WORK, "A-partial.json")
    r = merge("--out", out, "--label", "A\x1b[31m", a_runs[0], a_runs[1], path)
    doc = json.load(open(out)) if os.path.exists(out) else {}
    ok(r.returncode == 0 and doc.get("partial") is True and "partial run" in r.stderr and "2 hosts" in r.stderr
       and "differ in gate" in r.stderr,
       "a partial run and a second host are merged with a warning each, the file partial", r.stderr[-400:])
    ok(doc.get("context", {}).get("label") == "A\x1b[31m" and "\x1b" not in r.stderr,
       "--label is the merged file's label, escaped on the terminal", repr(r.stderr[-200:]))


def main():
    a_runs, b_runs, a_merged = test_boots_are_units()
    test_refusals(a_runs, a_merged)
    test_cells(a_runs)
    test_order_and_report(a_runs, b_runs)
    test_too_large(a_runs)
    test_warnings(a_runs)
    done()


if __name__ == "__main__":
    main()
