#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The contention gate (src/gate.h): a probe before and after every timed sample; a slow probe
before makes the cell wait, a slow probe after sets the sample aside, and past a round's allowance
the round ends with its clean samples, or is lost when it has fewer than its minimum (never filled
up with slow ones). MSEALBENCH_TEST_CONTENTION=N makes every Nth probe of a cell read as slow, so
each path runs on a quiet machine; the counts in the results must add up. The same probe is each
sample's host-speed reference (run --reference, on by default, gate or not): one per sample."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, check_schema, ok, done  # noqa: E402

TMP = tempfile.mkdtemp(prefix="msealbench-gate.")
FILTER = "harness.empty,mremap.move.sealed"


def run(name, *args, every=None, gate="on"):
    out = os.path.join(TMP, name + ".json")
    env = dict(os.environ)
    env.pop("MSEALBENCH_TEST_CONTENTION", None)
    if every:
        env["MSEALBENCH_TEST_CONTENTION"] = str(every)
    r = subprocess.run([MSEALBENCH, "run", "--events", "none", "--min-time", "0.03", "--repetitions", "3",
                        "--filter", FILTER, "--out", out] + (["--gate", gate] if gate else []) + list(args),
                       capture_output=True, text=True,
                       timeout=300, env=env)
    if r.returncode != 0:
        ok(False, f"run {name}", r.stderr[-300:])
        return None, r
    with open(out) as f:
        return json.load(f), r


def totals_add_up(name, data):
    g = data["context"]["gate"]
    cells = [c for c in data["cells"] if c["gate"] is not None]
    sums = {k: sum(c["gate"][k] for c in cells) for k in ("set_aside", "rounds_lost")}
    taken = sum(len(c["samples"]) + c["gate"]["set_aside"] for c in cells)
    ok(g["set_aside"] == sums["set_aside"] and g["rounds_lost"] == sums["rounds_lost"]
       and g["samples_taken"] == taken and g["floor_ns"] > 0
       and all(c["gate"]["floor_ns"] >= g["floor_ns"] for c in cells),
       f"{name}: the run's gate totals are its cells' sums, the floor the lowest", json.dumps(g))
    return g, cells


def has_references(name, data, floor):
    """Every sample has a reference; a probe is the fastest of three bursts, so their median is
    near the 5th percentile of a gated run's probes (floor), not far below it."""
    cells = [c for c in data["cells"] if c["status"] == "ok"]
    ok(data["context"]["options"]["reference"] == "getppid" and cells
       and all(isinstance(c["reference_ns"], list) and len(c["reference_ns"]) == len(c["samples"])
               and all(10 <= x <= 1e5 for x in c["reference_ns"]) for c in cells)
       and all(statistics.median(c["reference_ns"]) >= 0.75 * floor for c in cells),
       f"{name}: every sample has its reference probe (ns per getppid call, the floor {floor:g})",
       json.dumps([(c["benchmark"], len(c["samples"]), (c["reference_ns"] or [])[:3]) for c in cells]))


def main():
    plain, r = run("plain")
    floor = plain["context"]["gate"]["floor_ns"] if plain else 100
    if plain:
        has_references("--gate on", plain, floor)
    if plain:
        ok(plain["context"]["options"]["gate"] is True, "--gate on: the results say the gate was on")
        g, cells = totals_add_up("plain", plain)
        ok(g["probe"] == "getppid(2)" and g["factor"] > 1, "the results name the probe and the factor", json.dumps(g))
        ok(f"gate: {g['set_aside']} of {g['samples_taken']} samples set aside" in r.stdout,
           "the table's footer says what the gate set aside", r.stdout[-400:])
        check_schema([os.path.join(TMP, "plain.json")], "a gated run's results")

    # Every 4th probe slow: probes alternate before/after a sample, so every second sample's
    # after-probe is slow and that sample is set aside; none is waited for.
    half, _ = run("half", every=4)
    if half:
        g, cells = totals_add_up("every 4th probe slow", half)
        kept = sum(len(c["samples"]) for c in cells)
        cell_rounds = sum(len(set(c["rounds"])) for c in cells)   # each ends on a kept sample
        ok(g["set_aside"] > 0 and g["rounds_lost"] == 0 and 0 <= kept - g["set_aside"] <= cell_rounds,
           "every 4th probe slow: every second sample set aside, no round lost",
           f"set aside {g['set_aside']}, rounds lost {g['rounds_lost']}, kept {kept}")

    # Every 3rd probe slow: only probes before samples fall on it, so the cell waits and sets
    # nothing aside.
    wait, _ = run("wait", every=3)
    if wait:
        g, cells = totals_add_up("every 3rd probe slow", wait)
        ok(g["set_aside"] == 0 and g["rounds_lost"] == 0 and all(c["gate"]["waited_s"] > 0 for c in cells),
           "every 3rd probe slow: the cell waits before samples, sets none aside", json.dumps(g))

    # Every 2nd probe slow: every after-probe is slow, so a round's allowance runs out with no
    # clean sample; then before-probes stop and after-probes alternate, so the round gets one
    # clean sample, meets a slow one short of its minimum and is lost. Every round is lost: no
    # sample of a slow period is kept, and every cell is skipped, saying why.
    never, r = run("never", "--min-time", "0.15", every=2)
    if never:
        g, cells = totals_add_up("every after-probe slow", never)
        ok(g["rounds_lost"] == 3 * len(never["cells"]) and all(c["samples"] == [] for c in never["cells"]),
           "a machine never at speed: every round lost, no sample of a slow period kept", json.dumps(g))
        ok(all(c["status"] == "skipped" and "never at speed" in c["reason"] and "lost all 3 of its rounds"
               in c["reason"] and "--gate off" in c["reason"] for c in never["cells"]),
           "a cell that lost every round is skipped with the reason and the way out",
           json.dumps([(c["status"], c["reason"]) for c in never["cells"]])[:400])
        ok(r.returncode == 0 and f"{g['rounds_lost']} cell round(s) lost" in r.stdout,
           "the table's gate line counts the lost rounds; skipped cells do not fail the run", r.stdout[-300:])

    # The same in an adaptive run: a point none of whose cells was measured has no precision to
    # judge, so its cells say nothing of why they stopped (null), never "precise".
    adaptive, r = run("never-adaptive", "--min-time", "0.15", "--max-rounds", "4", every=2)
    if adaptive:
        cells = adaptive["cells"]
        ok(cells and all(c["status"] == "skipped" and c["stopped"] is None for c in cells)
           and adaptive["context"]["options"]["max_rounds"] == 4,
           "adaptive run, every cell skipped: stopped is null, not 'precise'",
           json.dumps([(c["benchmark"], c["status"], c["stopped"]) for c in cells]))
        ok(all(c["gate"]["rounds_lost"] == 3 for c in cells),
           "and no further round was spent on a point with no sample (3 rounds lost each, not 4)",
           json.dumps([c["gate"]["rounds_lost"] for c in cells]))

    for name, gate in (("off", "off"), ("default", None)):
        off, r = run(name, every=2, gate=gate)
        if not off:
            continue
        ok(off["context"]["options"]["gate"] is False and off["context"]["gate"] is None
           and all(c["gate"] is None for c in off["cells"]) and "gate:" not in r.stdout,
           f"--gate {gate or 'left out (default off)'}: no gate in the results or the table")
        check_schema([os.path.join(TMP, name + ".json")], "an ungated run's results")
        has_references(f"--gate {gate or 'left out'}", off, floor)

    unprobed, r = run("unprobed", "--reference", "none", gate=None)
    if unprobed:
        ok(unprobed["context"]["options"]["reference"] is None and unprobed["cells"]
           and all(c["reference_ns"] is None for c in unprobed["cells"]),
           "--reference none: no reference in the results")

    for args, env, want in ((["--gate", "maybe"], {}, "--gate: 'maybe'"),
                            (["--reference", "rdtsc"], {}, "--reference: 'rdtsc'"),
                            ([], {"MSEALBENCH_TEST_CONTENTION": "0"}, "MSEALBENCH_TEST_CONTENTION: '0'")):
        r = subprocess.run([MSEALBENCH, "run", "--out", os.path.join(TMP, "bad.json")] + args, capture_output=True,
                           text=True, timeout=30, env=dict(os.environ, **env))
        ok(r.returncode == 2 and r.stderr.count("\n") == 1 and want in r.stderr,
           f"{want.split(':')[0]} with a bad value: one line naming the problem, exit 2", r.stderr[:200])
        ok(not os.path.exists(os.path.join(TMP, "bad.json")), f"{want.split(':')[0]}: no results file written")


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
done()
