#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The results file's writers: the C runner, the VM merge (msealbench vm) and synth write
the same schema through one Python writer (plots/msb/results.py), with one summary."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, TOP, check_schema, ok, done, schema_errors, skip  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import merging, results, stats, synth  # noqa: E402
sys.path.insert(0, os.path.join(TOP, "vm"))
from msbvm import merge  # noqa: E402

tmp = tempfile.mkdtemp(prefix="msealbench-t-results.")


def c_runner_file(name, *options):
    """A results file the C runner writes (quick, one cheap benchmark). With the gate on, every
    1000th probe reads as contended and the others at speed (the test hook): on a busy machine a
    gated cell could otherwise lose every round and be skipped, with no samples to check."""
    path = os.path.join(tmp, name)
    subprocess.run([MSEALBENCH, "run", "--quick", "--quiet", "--out", path] + list(options),
                   check=True, timeout=120, env=dict(os.environ, MSEALBENCH_TEST_CONTENTION="1000"))
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def suite_of_list():
    """{benchmark: {parameter: set of values}} from `msealbench list`."""
    out = subprocess.run([MSEALBENCH, "list"], capture_output=True, text=True, check=True, timeout=60).stdout
    suite = {}
    for line in out.splitlines()[1:]:
        if not line or line[0].isspace():
            continue
        name, sweep = line.split()[:2]
        suite[name] = {}
        for part in ([] if sweep == "-" else sweep.split(";")):
            key, _, values = part.partition("=")
            suite[name][key] = {int(v) for v in values.split(",")}
    return suite


def test_synth_names_the_real_suite():
    suite = suite_of_list()
    missing = [f"{b} {p}" for b, _, param_sets, _, _ in synth.DEFAULT_SUITE for p in param_sets
               if b not in suite or any(k not in suite[b] or v not in suite[b][k] for k, v in p.items())]
    ok(not missing, "synth's benchmarks and parameters are those of `msealbench list`", ", ".join(missing))


def test_synth_writes_what_the_c_runner_writes(c_file):
    document = synth.synthetic_run(synth.suite_specs(["none", "sysmap"]), rounds=4, per_round=3)
    c_events, s_events = c_file["context"]["options"]["events"], document["context"]["options"]["events"]
    ok(type(s_events) is type(c_events), "synth's options.events has the C runner's type (a string)",
       f"C {c_events!r}, synth {s_events!r}")
    cell = next(c for c in document["cells"] if c["samples"])
    ok(len(cell["samples"]) % 2 == 0 and cell["summary"]["median"] == stats.median(cell["samples"]),
       "synth's summary median of an even count averages the middle two", str(cell["summary"]))
    ok(set(cell["summary"]) == set(c_file["cells"][0]["summary"]),
       "synth's summary block has the C runner's fields", str(sorted(cell["summary"])))


def test_vm_merge_summary(c_file):
    cells = merging.merge_cells([(1, c_file), (2, c_file)])
    merged = next(c for c in cells if c["samples"])
    ok(merged["summary"] == results.cell_summary(merged["samples"]) and len(merged["samples"]) % 2 == 0
       and merged["summary"]["median"] == stats.median(merged["samples"]),
       "the VM merge summarises merged samples with the one summary (even count: middle two)",
       str(merged["summary"]))



def test_vm_merge_gate(c_file):
    """Two boots of one kernel: each cell's contention gate counts add up, the floor is the lower."""
    one = json.loads(json.dumps(c_file))
    two = json.loads(json.dumps(c_file))
    for c in two["cells"]:
        if isinstance(c.get("gate"), dict):
            c["gate"]["floor_ns"] = c["gate"]["floor_ns"] / 2
    cells = merging.merge_cells([(1, one), (2, two)])
    pairs = [(m, c) for m, c in zip(cells, one["cells"]) if isinstance(c.get("gate"), dict)]
    ok(pairs and all(m["gate"]["set_aside"] == 2 * c["gate"]["set_aside"]
                     and m["gate"]["rounds_lost"] == 2 * c["gate"]["rounds_lost"]
                     and m["gate"]["floor_ns"] == c["gate"]["floor_ns"] / 2 for m, c in pairs),
       "the VM merge adds up each cell's gate counts over boots and keeps the lower floor",
       str([(m.get("gate"), c.get("gate")) for m, c in pairs[:2]]))


def vm_merged_file(c_file):
    """What msealbench vm writes for a kernel booted twice, from two C runner files."""
    kernel = types.SimpleNamespace(
        label="plain", path="/images/plain", sha256="0" * 64, arch="x86_64", accel="tcg",
        accel_reason="test", cmd=["qemu-system-x86_64"], initrd_sha256="1" * 64, config=None,
        runs=[(1, c_file), (2, c_file)],
        boots=[(None, {"boot": n, "status": "ok", "kernel_sealed_system_mappings": [],
                       "kernel_sealed_source": "probe", "probe": None}) for n in (1, 2)])
    path = os.path.join(tmp, "vm-plain.json")
    results.write_run(path, merge.merged_results(kernel, "QEMU 9", types.SimpleNamespace(boots=2), []))
    return path


def test_schema(c_paths):
    synth_run, history = os.path.join(tmp, "synth.json"), os.path.join(tmp, "history")
    synth_cli = [sys.executable, os.path.join(TOP, "plots", "synth.py")]
    subprocess.run(synth_cli + ["run", "--quiet", "--seal", "none,sysmap,all", "--out", synth_run],
                   check=True, timeout=120)
    subprocess.run(synth_cli + ["history", history, "--runs", "2"], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)
    fixtures = os.path.join(TOP, "tests", "fixtures")
    check_schema(c_paths, "the C runner's files validate against results/schema-v1.json")
    check_schema([os.path.join(fixtures, n) for n in sorted(os.listdir(fixtures)) if n.endswith(".json")],
                 "an older C runner file (tests/fixtures) still validates: version 1 stays compatible")
    with open(c_paths[0], encoding="utf-8") as f:
        check_schema([vm_merged_file(json.load(f))], "the VM merge's file validates against the schema")
    check_schema([synth_run] + [os.path.join(history, n) for n in sorted(os.listdir(history))],
                 "synth's files (run and history) validate against the schema")
    broken = os.path.join(tmp, "broken.json")
    with open(synth_run, encoding="utf-8") as f:
        document = json.load(f)
    document["context"]["options"]["events"] = []
    results.write_run(broken, document)
    errors = schema_errors([broken])
    if errors is None:
        skip("the schema refuses options.events as a list", "no python3-jsonschema")
    else:
        ok(errors[broken] and "events" in errors[broken], "the schema refuses options.events as a list",
           str(errors))


def test_seal_order_from_the_file(c_path):
    """The Python side takes the order of seal modes from the file's context.seal_modes (the
    C seal table), so a new mode needs no Python edit; files without it keep the v1 order."""
    run = results.load_run(c_path)
    ok([m["name"] for m in run.context["seal_modes"]][:1] == ["none"] and
       run.seal_modes() == [m["name"] for m in run.context["seal_modes"]],
       "the C runner lists its seal table in context.seal_modes, and the reader keeps its order",
       str(run.seal_modes()))
    run.context["seal_modes"] = [{"name": "none"}, {"name": "zz-new"}, {"name": "sysmap"}, {"name": "all"}]
    for cell in run.cells[:1]:
        cell.seal = "zz-new"
    ok(run.seal_modes()[:2] == ["none", "zz-new"], "a seal mode only the file's table names sorts by it",
       str(run.seal_modes()))
    del run.context["seal_modes"]
    ok(results.seal_order(run)("sysmap") < results.seal_order(run)("all") < results.seal_order(run)("zz"),
       "a file without context.seal_modes keeps the version 1 order")


def main():
    try:
        c_file = c_runner_file("c-runner.json", "--filter", "harness.empty", "--gate", "on")
        c_runner_file("c-runner-modes.json", "--filter", "harness.empty,mseal.range", "--seal", "none,sysmap,all",
                      "--events", "task-clock")
        test_synth_names_the_real_suite()
        test_synth_writes_what_the_c_runner_writes(c_file)
        test_vm_merge_summary(c_file)
        test_vm_merge_gate(c_file)
        test_seal_order_from_the_file(os.path.join(tmp, "c-runner-modes.json"))
        test_schema([os.path.join(tmp, n) for n in ("c-runner.json", "c-runner-modes.json")])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
