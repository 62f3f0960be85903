#!/usr/bin/env python3
"""Measurement fidelity: what is timed is the operation, not our instruments. The timed samples
run with no perf event open (counts come from separate counted samples); the exec helper finds
the system mappings without /proc; the environment block records what drives noise."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, ok, skip, done  # noqa: E402

TMP = tempfile.mkdtemp(prefix="msealbench-fidelity.")


def cell(bench, batch, samples, events, report, wrap=(), params="0,0,0"):
    """Run one cell directly (the protocol of src/cell_protocol.h), its report into file report."""
    argv = list(wrap) + [MSEALBENCH, "__cell", f"bench={bench}", f"params={params}", "seal=none",
                         f"batch={batch}", "time=0", f"samples={samples},{samples}", "target=1e6",
                         f"events={events}", "inject=0", "cpu=-1",
                         f"helpers={os.path.join(os.path.dirname(MSEALBENCH), 'helpers')}"]
    with open(report, "w") as rep:
        return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120, pass_fds=(3,), preexec_fn=lambda: os.dup2(rep.fileno(), 3))


def test_timed_samples_have_no_event_open():
    """strace shows every getppid() of the cell and the perf fds open at the time: the timed
    blocks run with none open, the counted blocks with the group open (op() makes batch + 1
    calls: one for the expected value)."""
    if not shutil.which("strace"):
        skip("timed samples run with no perf event open", "strace is not installed")
        return
    trace, report = os.path.join(TMP, "trace"), os.path.join(TMP, "report")
    batch, samples = 4, 3
    p = cell("harness.syscall.getppid", batch, samples, "task-clock", report,
             wrap=("strace", "-qq", "-o", trace, "-e", "trace=perf_event_open,close,getppid"))
    status = open(report).read()
    if not ok(p.returncode == 0 and "status ok" in status, "the traced cell runs", p.stderr + status):
        return
    if "event task-clock\tcounted" not in status:
        skip("timed samples run with no perf event open", "task-clock does not count here")
        return
    open_fds, seen_open, with_events, without = set(), False, 0, 0
    for line in open(trace):
        m = re.match(r"(\w+)\((\d*).*= (-?\d+)", line)
        if not m:
            continue
        call, arg, ret = m.group(1), m.group(2), int(m.group(3))
        if call == "perf_event_open" and ret >= 0:
            open_fds.add(ret)
            seen_open = True
        elif call == "close" and arg and int(arg) in open_fds:
            open_fds.discard(int(arg))
        elif call == "getppid" and seen_open:
            with_events += bool(open_fds)
            without += not open_fds
    per_sample = (batch + 1) * samples
    ok(with_events == per_sample,
       f"the counted blocks run with the event open ({with_events} of {per_sample} getppid calls)")
    ok(without >= per_sample,
       f"the timed blocks run with no perf event open ({without} getppid calls, want >= {per_sample})")


def test_results_keep_counted_times_apart():
    out = os.path.join(TMP, "run.json")
    p = subprocess.run([MSEALBENCH, "run", "--quiet", "--filter", "harness.syscall.getppid", "--seal", "none",
                        "--repetitions", "2", "--min-time", "0.02", "--events", "task-clock", "--out", out],
                       capture_output=True, text=True, timeout=120)
    if not ok(p.returncode == 0, "a run with task-clock succeeds", p.stderr):
        return
    c = json.load(open(out))["cells"][0]
    counters = c["counters"]
    ok(counters.get("sampling") == "separate" and len(counters.get("samples", [])) == len(c["samples"]),
       "counters.samples holds the counted blocks' times, one per timed sample", json.dumps(counters)[:300])
    counted = any(e["name"] == "task-clock" and e["status"] == "counted" for e in counters["events"])
    if counted:
        ok(len(counters["values"]["task-clock"]) == len(c["samples"]),
           "counters.values keeps one per-operation value per sample")
    else:
        skip("counters.values keeps one per-operation value per sample", "task-clock does not count here")


def main():
    try:
        test_timed_samples_have_no_event_open()
        test_results_keep_counted_times_apart()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    done()


main()
