#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration: a quick run of the harness and vDSO families in both seal modes gives a valid
schema-v1 file with every sample kept; an interrupted run leaves no corrupt file."""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, ok, skip, done  # noqa: E402

CELL_KEYS = {"benchmark", "family", "params", "seal", "unit", "status", "reason", "notes", "batch",
             "vma_count", "sealed_mappings", "samples", "rounds", "cycles", "counters", "summary"}
CONTEXT_KEYS = {"tool", "date", "host", "kernel", "arch", "cpu_model", "cpu_count", "clocksource",
                "virtualization", "perf_event_paranoid", "mseal_available",
                "kernel_sealed_system_mappings", "seed", "options", "timer", "loop_overhead_ns"}


def run(args, **kw):
    return subprocess.run([MSEALBENCH, "run"] + args, capture_output=True, text=True, **kw)


def check_quick_run(tmp):
    out = os.path.join(tmp, "quick.json")
    start = time.monotonic()
    p = run(["--quick", "--filter", "vdso,harness", "--seed", "7", "--out", out])
    took = time.monotonic() - start
    ok(p.returncode == 0, "quick run of vdso+harness exits 0", p.stderr[-500:])
    print(f"# quick vdso+harness run took {took:.1f} s")
    d = json.load(open(out))
    ok(d["schema"] == "msealbench-results" and d["schema_version"] == 1 and d["partial"] is False,
       "schema name and version 1, not partial")
    ok(CONTEXT_KEYS <= set(d["context"]), "context block complete",
       str(CONTEXT_KEYS - set(d["context"])))
    ok(d["context"]["seed"] == 7 and d["context"]["options"]["repetitions"] == 3, "seed and options recorded")
    cells = d["cells"]
    ok(all(CELL_KEYS <= set(c) for c in cells), "every cell has every key")
    seals = {c["seal"] for c in cells}
    ok(seals == {"none", "sysmap"}, "both seal modes present", str(seals))
    okcells = [c for c in cells if c["status"] == "ok"]
    ok(len(okcells) >= len(cells) - 4, f"{len(okcells)} of {len(cells)} cells ran",
       "; ".join(f"{c['benchmark']} {c['seal']}: {c['reason']}" for c in cells if c["status"] != "ok"))
    ok(all(c["samples"] and min(c["samples"]) > 0 for c in okcells), "every sample is positive")
    ok(all(len(c["rounds"]) == len(c["samples"]) and set(c["rounds"]) == {0, 1, 2} for c in okcells),
       "every sample carries its round, all three rounds present")
    ok(all(c["summary"]["n"] == len(c["samples"]) for c in okcells), "summary counts every sample")
    ok(all(c["sealed_mappings"] >= 2 for c in okcells if c["seal"] == "sysmap"),
       "sysmap cells sealed at least [vdso] and [vvar]")
    ok(all(c["sealed_mappings"] == 0 for c in okcells if c["seal"] == "none"), "none cells sealed nothing")
    by = {(c["benchmark"], c["seal"]): c for c in okcells}
    vdso, sysc = by.get(("vdso.clock_gettime.monotonic", "none")), by.get(("vdso.clock_gettime.monotonic.syscall", "none"))
    if vdso and sysc:
        ok(vdso["summary"]["median"] < sysc["summary"]["median"],
           "vDSO clock_gettime is cheaper than the syscall",
           f'{vdso["summary"]["median"]} vs {sysc["summary"]["median"]}')
    empty = by.get(("harness.empty", "none"))
    ok(empty and empty["summary"]["median"] < 5, "harness.empty costs under 5 ns/op (sanity bound)")
    ev = okcells[0]["counters"]["events"]
    ok({e["name"] for e in ev} >= {"task-clock", "page-faults", "context-switches"} and
       all(e["status"] in ("counted", "unsupported", "not_permitted", "unavailable") for e in ev),
       "software counter events recorded with a status")
    ok("timer" in d["context"] and d["context"]["timer"]["overhead_ns"] > 0, "timer overhead recorded")
    ok(p.stdout.count("vdso.clock_gettime.monotonic") >= 1 and "sysmap/no" in p.stdout,
       "a human table on stdout")


def check_interrupt(tmp):
    out = os.path.join(tmp, "interrupted.json")
    p = subprocess.Popen([MSEALBENCH, "run", "--filter", "vdso", "--repetitions", "50", "--min-time", "20",
                          "--out", out, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Let at least one round finish: wait for the first results file, and keep what it says.
    deadline = time.monotonic() + 60
    while not os.path.exists(out) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
    first = json.load(open(out)) if os.path.exists(out) else None
    # A cell round lasts about 0.4 s: interrupt once a few cells of the next round have run.
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    ok(p.returncode == 130, "an interrupted run exits 130", f"{p.returncode}: {err[-300:]}")
    ok(os.path.exists(out), "the interrupted run left its file")
    if os.path.exists(out):
        d = json.load(open(out))
        ok(d["partial"] is True, "the file of an interrupted run is marked partial")
        ok(any(c["samples"] for c in d["cells"]), "and holds the samples of the rounds that finished")
        # The cells that ran in the dropped round must not count it in what a round costs.
        if first and first["cells"] and all(len(set(c["rounds"])) == 1 for c in d["cells"] if c["samples"]):
            was = {(c["benchmark"], json.dumps(c["params"]), c["seal"]): c["round_s"] for c in first["cells"]}
            now = {(c["benchmark"], json.dumps(c["params"]), c["seal"]): c["round_s"] for c in d["cells"]}
            ok(now == was, "round_s of an interrupted run is that of its last finished round",
               json.dumps([(k[0], k[2], was.get(k), v) for k, v in now.items() if was.get(k) != v])[:400])
        else:
            skip("round_s of an interrupted run", "the first round's file was not seen, or a second round finished")
    ok(not glob.glob(out + ".tmp.*"), "no temporary files left behind")
    ok("partial" in err, "the run says it was interrupted and what the file holds", err[-300:])

    out2 = os.path.join(tmp, "killed-early.json")
    p = subprocess.Popen([MSEALBENCH, "run", "--filter", "vdso", "--min-time", "30", "--out", out2, "--quiet"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    p.kill()
    p.wait()
    left = glob.glob(out2 + "*")
    ok(not os.path.exists(out2) or json.load(open(out2)), "SIGKILL before the first round: no file, or a whole one")
    if left and not os.path.exists(out2):
        skip("killed run's temp file", "a SIGKILLed process cannot clean up its in-flight temp file: " + " ".join(left))


def main():
    if not os.access(MSEALBENCH, os.X_OK):
        ok(False, f"{MSEALBENCH} is built")
        done()
    with tempfile.TemporaryDirectory(prefix="msealbench-t-") as tmp:
        check_quick_run(tmp)
        check_interrupt(tmp)
    done()


if __name__ == "__main__":
    main()
