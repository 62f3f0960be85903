#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Perf counters end to end: statuses in the results, page faults against `perf stat`, task-clock
against wall-clock time, the events and profile commands, and an unprivileged user's fallback."""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, ok, skip, done, reachable_copy  # noqa: E402

TMP = tempfile.mkdtemp(prefix="msealbench-counters.")
os.chmod(TMP, 0o1777)  # nobody writes its results here too
NOBODY_MSEALBENCH = reachable_copy(MSEALBENCH, TMP)
PARANOID = open("/proc/sys/kernel/perf_event_paranoid").read().strip()


def run(args, user=None, env=None, timeout=600):
    cmd = [MSEALBENCH] + args
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
               NOBODY_MSEALBENCH] + args
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def run_results(name, args):
    out = os.path.join(TMP, name + ".json")
    p = run(["run", "--quiet", "--seal", "none", "--out", out] + args)
    if p.returncode != 0:
        return None, p.stderr
    with open(out) as f:
        return json.load(f), ""


def events_of(cell):
    return {e["name"]: e for e in cell["counters"]["events"]}


def test_statuses_in_results():
    res, err = run_results("empty", ["--filter", "harness.empty", "--quick"])
    if not ok(res is not None, "run with the default events succeeds", err):
        return
    ctx = res["context"]
    ok(isinstance(ctx.get("event_naming"), str) and ctx["event_naming"], "context names the event naming",
       str(ctx.get("event_naming")))
    ok(isinstance(ctx.get("counter_read_ns"), (int, float)) and ctx["counter_read_ns"] > 0,
       "context holds the measured counter read cost", str(ctx.get("counter_read_ns")))
    ev = events_of(res["cells"][0])
    want = ["cycles", "instructions:u", "instructions:k", "task-clock", "page-faults", "context-switches"]
    ok(list(ev) == want, "the default set is recorded event by event", str(list(ev)))
    if ev["cycles"]["status"] == "counted":
        skip("hardware events unsupported without a PMU", "this machine has a hardware PMU")
    else:
        hw = [ev[n] for n in ("cycles", "instructions:u", "instructions:k")]
        ok(all(e["status"] == "unsupported" and "ENOENT" in (e["reason"] or "") for e in hw),
           "without a PMU the hardware events are unsupported and the reason names ENOENT",
           json.dumps(hw))
        ok(set(res["cells"][0]["counters"]["values"]) == {"task-clock", "page-faults", "context-switches"},
           "only counted events have values", str(list(res["cells"][0]["counters"]["values"])))
    ok(all(ev[n]["status"] == "counted" for n in ("task-clock", "page-faults", "context-switches")),
       "the software events count in the same group")


def median_ratio_unpreempted(cell, event):
    """Median of event/time over the counted samples no context switch interrupted (others' load
    on a 2-core machine preempts some samples: wall time runs on, task-clock does not)."""
    vals = cell["counters"]["values"]
    ratios = [v / ns for v, ns, cs in zip(vals[event], cell["counters"]["samples"], vals["context-switches"])
              if cs == 0 and ns > 0]
    return statistics.median(ratios) if ratios else None, len(ratios)


def test_task_clock_vs_wall():
    res, err = run_results("cpu", ["--filter", "harness.empty,harness.syscall.getppid", "--quick",
                                   "--min-time", "0.3", "--events", "task-clock,context-switches"])
    if not ok(res is not None, "run of CPU-bound cells with task-clock", err):
        return
    for cell in res["cells"]:
        r, n = median_ratio_unpreempted(cell, "task-clock")
        ok(r is not None and 0.8 <= r <= 1.2,
           f"{cell['benchmark']}: task-clock per op / wall-clock ns per op is {r} over {n} samples "
           "(want 0.8-1.2)")


def cell_argv(samples, batch, events):
    # The internal cell protocol (src/cell.c): a fixed work amount, exactly 1 warm-up sample
    # (time=0) plus `samples` measured ones, and the setup and final verify (1 op each).
    return ["__cell", "bench=harness.touch_pages", "params=64,0,0", "seal=none", f"batch={batch}",
            "time=0", f"samples={samples},{samples}", "target=1e6", f"events={events}", "inject=0",
            "cpu=-1", "helpers="]


def run_cell(argv, report):
    """Run argv with the cell's report going to file `report` on fd 3."""
    with open(report, "w") as rep:
        return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=300, pass_fds=(3,), preexec_fn=lambda: os.dup2(rep.fileno(), 3))


def perf_stat_faults(samples, batch):
    p = run_cell(["perf", "stat", "-x", ",", "-e", "page-faults", "--", MSEALBENCH]
                 + cell_argv(samples, batch, ""), os.path.join(TMP, "report"))
    for line in p.stderr.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2].startswith("page-faults"):
            return int(fields[0]) if fields[0].isdigit() else None
    return None


def our_faults_per_op(batch):
    report = os.path.join(TMP, "report2")
    run_cell([MSEALBENCH] + cell_argv(20, batch, "page-faults"), report)
    values = []
    with open(report) as f:
        for line in f:
            if line.startswith("sample "):
                values.append(float(line.split()[6]))  # sample NS CYCLES RATIO CNS REF V
    return statistics.median(values) if values else None


def test_page_faults_vs_perf_stat():
    if not shutil.which("perf"):
        skip("page faults against perf stat", "perf is not installed")
        return
    batch, few, many = 20, 10, 60
    f1, f2 = perf_stat_faults(few, batch), perf_stat_faults(many, batch)
    if f1 is None or f2 is None:
        skip("page faults against perf stat", "perf stat gave no page-faults count here")
        return
    # The difference of two runs leaves only the extra operations: start-up cancels out.
    perf_per_op = (f2 - f1) / ((many - few) * batch)
    ours = our_faults_per_op(batch)
    ok(ours is not None and abs(ours - perf_per_op) <= 0.05 * perf_per_op,
       f"harness.touch_pages pages=64: page-faults/op {ours} (msealbench) vs {perf_per_op:.2f} "
       "(perf stat), within 5%")
    ok(ours is not None and 64 <= ours <= 64 * 1.05, f"and it is the 64 pages touched ({ours})")


def test_events_command():
    p = run(["events"])
    ok(p.returncode == 0 and "event naming:" in p.stdout and "task-clock" in p.stdout,
       "msealbench events shows the naming and the default events", p.stderr)
    m = re.search(r"^  cycles\s+(\S+)", p.stdout, re.M)
    ok(m is not None and m.group(1) in ("counted", "unsupported", "not_permitted", "unavailable"),
       "each default event gets a status", p.stdout)
    if "libpfm4" in p.stdout:
        full = run(["events", "--all"])
        ok(full.returncode == 0 and "perf::PERF_COUNT_SW_PAGE_FAULTS" in full.stdout,
           "events --all lists libpfm4's events")
    else:
        skip("events --all", "built without libpfm4")


def nobody_can_run():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return False
    p = run(["version"], user=65534)
    return p.returncode == 0


def test_unprivileged_fallback():
    if int(PARANOID) < 2:
        skip("unprivileged fallback", f"perf_event_paranoid is {PARANOID}: nothing is refused")
        return
    if not nobody_can_run():
        skip("unprivileged fallback", "cannot run msealbench as nobody here (not root, or no setpriv)")
        return
    p = run(["events", "--events", "task-clock,task-clock:k,context-switches,cycles"], user=65534)
    lines = {m.group(1): m.group(2) for m in re.finditer(r"^  (\S+)\s+(\S+\s+.*)$", p.stdout, re.M)}
    ok(lines.get("context-switches", "").startswith("not_permitted") and "kernel-only" in lines["context-switches"],
       "as nobody, context-switches (always 0 in user space) are not_permitted, saying why", p.stdout)
    if not lines.get("cycles", "").startswith("counted"):
        ok(lines.get("cycles", "").startswith("unsupported") and "ENOENT" in lines["cycles"],
           "as nobody without a PMU, cycles are unsupported (ENOENT), not not_permitted", p.stdout)
    ok("task-clock" in lines and lines["task-clock"].startswith("counted") and
       "user space only" in lines["task-clock"],
       "as nobody, task-clock falls back to user space only and says so", p.stdout)
    ok("task-clock:k" in lines and lines["task-clock:k"].startswith("not_permitted") and
       "perf_event_paranoid <= 1" in lines["task-clock:k"],
       "as nobody, a kernel-only event is not_permitted and the sysctl value is named", p.stdout)
    out = os.path.join(TMP, "nobody.json")
    p = run(["run", "--quiet", "--quick", "--seal", "none", "--filter", "harness.syscall.getppid",
             "--events", "task-clock", "--out", out], user=65534)
    if ok(p.returncode == 0, "a run as nobody succeeds", p.stderr):
        ev = events_of(json.load(open(out))["cells"][0])["task-clock"]
        ok(ev["status"] == "counted" and "user space only" in (ev["reason"] or ""),
           "its results say task-clock counted user space only", json.dumps(ev))
    p = run(["profile", "harness.syscall.getppid", "--time", "0.1", "--out", TMP], user=65534)
    ok(p.returncode == 1 and "perf_event_paranoid" in p.stderr,
       "profile as nobody refuses clearly, naming perf_event_paranoid", p.stderr)


def test_profile():
    env = dict(os.environ, PATH="/nonexistent")
    p = run(["profile", "harness.syscall.getppid"], env=env)
    ok(p.returncode == 1 and "perf is not installed" in p.stderr, "profile without perf says so", p.stderr)
    if not shutil.which("perf"):
        skip("profile", "perf is not installed")
        return
    p = run(["profile", "harness.syscall.getppid", "--time", "0.5", "--out", TMP, "--top", "5"])
    data = os.path.join(TMP, "harness.syscall.getppid-none.perf.data")
    ok(p.returncode == 0 and os.path.exists(data), "profile keeps BENCH-SEAL.perf.data", p.stderr + p.stdout)
    kernel = [line for line in p.stdout.splitlines() if "[k]" in line]
    ok(0 < len(kernel) <= 5, f"profile prints the top kernel symbols ({len(kernel)} with --top 5)", p.stdout)
    m = re.search(r"^kernel: ([0-9.]+)%", p.stdout, re.M)
    ok(m is not None and float(m.group(1)) > 30,
       "getppid spends most of its samples in the kernel", p.stdout)
    p = run(["profile", "no.such.bench"])
    ok(p.returncode == 2 and "no benchmark named" in p.stderr, "profile of an unknown benchmark: usage error")


def main():
    try:
        test_statuses_in_results()
        test_task_clock_vs_wall()
        test_page_faults_vs_perf_stat()
        test_events_command()
        test_unprivileged_fallback()
        test_profile()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    done()


main()
