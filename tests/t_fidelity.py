#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Measurement fidelity: what is timed is the operation, not our instruments. The timed samples
run with no perf event open (counts come from separate counted samples); the exec helper finds
the system mappings without /proc; the environment block records what drives noise."""
import glob
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


def cell(bench, batch, samples, events, report, wrap=(), seal="none"):
    """Run one cell directly (the protocol of src/cell_protocol.h), its report into file report."""
    argv = list(wrap) + [MSEALBENCH, "__cell", f"bench={bench}", "params=0,0,0", f"seal={seal}",
                         f"batch={batch}", "time=0", f"samples={samples},{samples}", "target=1e6",
                         f"events={events}", "inject=0", "cpu=-1",
                         f"helpers={os.path.join(os.path.dirname(MSEALBENCH), 'helpers')}"]
    with open(report, "w") as rep:
        return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120, pass_fds=(3,), preexec_fn=lambda: os.dup2(rep.fileno(), 3))


def test_timed_samples_have_no_event_open():
    """strace -ff shows every getppid() of the cell and of its counting twin: the measured
    process never opens a perf event (not even one it closes again: the empty perf context left
    on the task made vfork 4% slower); the twin counts with the group open (op() makes batch + 1
    calls: one for the expected value)."""
    if not shutil.which("strace"):
        skip("timed samples run with no perf event open", "strace is not installed")
        return
    directory, report = os.path.join(TMP, "trace"), os.path.join(TMP, "report")
    os.makedirs(directory)
    batch, samples = 4, 3
    p = cell("harness.syscall.getppid", batch, samples, "task-clock", report,
             wrap=("strace", "-qq", "-ff", "-o", os.path.join(directory, "t"),
                   "-e", "trace=execve,perf_event_open,getppid"))
    status = open(report).read()
    if not ok(p.returncode == 0 and "status ok" in status, "the traced cell runs", p.stderr + status):
        return
    if "event task-clock\tcounted" not in status:
        skip("timed samples run with no perf event open", "task-clock does not count here")
        return
    traces = [open(os.path.join(directory, n)).read() for n in sorted(os.listdir(directory))]
    measured = [t for t in traces if "execve(" in t]
    twins = [t for t in traces if "execve(" not in t]
    per_sample = (batch + 1) * samples
    ok(len(measured) == 1 and "perf_event_open" not in measured[0] and
       measured[0].count("getppid()") >= per_sample,
       "the measured process takes its samples and never opens a perf event")
    counted = twins[0].split("perf_event_open", 1)[-1].count("getppid()") if len(twins) == 1 else 0
    # 3 timed samples are one block: the twin warms up once and takes one counted sample
    per_counted = batch + 1
    ok(len(twins) == 1 and "perf_event_open" in twins[0] and per_counted <= counted <= 2 * per_counted,
       f"one counting process takes one counted sample per block of timed ones, events open "
       f"({counted} getppid calls: a warm-up and one counted sample of {per_counted})")


def helper_traces(bench, seal):
    """The syscalls of each timed spawn of bench's helper (strace -ff): a list of lists of lines
    from its execve on, the verify spawns left out; None when the cell skipped."""
    directory = os.path.join(TMP, f"st-{bench}-{seal}")
    os.makedirs(directory)
    report = os.path.join(directory, "report")
    p = cell(bench, 2, 2, "", report, wrap=("strace", "-qq", "-ff", "-o", os.path.join(directory, "t")),
             seal=seal)
    status = open(report).read()
    if "status skipped" in status:
        return None
    if not ok(p.returncode == 0 and "status ok" in status, f"the traced {bench} cell runs ({seal})",
              p.stderr + status):
        return []
    spawns = []
    for name in sorted(os.listdir(directory)):
        lines = open(os.path.join(directory, name), errors="replace").read().splitlines()
        start = next((i for i, l in enumerate(lines) if l.startswith("execve(") and "/helpers/" in l), None)
        if start is not None and '"verify"' not in lines[start]:
            spawns.append(lines[start:])
    return spawns


def is_mseal(line):
    return line.startswith(("mseal(", "syscall_0x1ce("))	# strace 6.1 does not know mseal by name


def test_exec_helper_reads_no_proc():
    if not shutil.which("strace"):
        skip("the exec helper finds its system mappings without /proc", "strace is not installed")
        return
    for seal in ("none", "sysmap"):
        spawns = helper_traces("exec.fork_execve.static", seal)
        if spawns is None:
            skip(f"the exec helper in {seal} mode", "the cell skipped (no mseal here)")
            continue
        proc = [l for s in spawns for l in s if l.startswith("open") and "/proc/" in l]
        mseals = [[l for l in s if is_mseal(l)] for s in spawns]
        ok(spawns and not proc, f"{seal}: the helper opens nothing under /proc ({len(spawns)} spawns)",
           "\n".join(proc[:3]))
        if seal == "none":
            ok(spawns and not any(mseals), "none: the helper makes no mseal call")
        else:
            ok(spawns and all(m and all(l.endswith("= 0") for l in m) for m in mseals),
               f"sysmap: every spawn seals its system mappings by mseal alone ({[len(m) for m in mseals]} calls)")
    spawns = helper_traces("exec.fork_execve.static.bare", "none")
    ok(spawns and all(not any(l.startswith(("open", "write(")) or is_mseal(l) for l in s) for s in spawns),
       f"the bare twin opens, writes and seals nothing ({len(spawns or [])} spawns)")
    ok(spawns and all("/* 0 vars */" in s[0] for s in spawns),
       "helpers are exec'd with an empty environment, whatever the user's (as lmbench's lat_proc)",
       spawns[0][0] if spawns else "no spawn")


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


def share(x):
    return isinstance(x, (int, float)) and 0 <= x <= 1


def running_kdamonds():
    """What the admin sysfs says is on: {"kdamonds/N": (operations, actions)}, None without it."""
    top = "/sys/kernel/mm/damon/admin/kdamonds"
    if not os.path.isdir(top):
        return None
    found = {}
    for n in sorted(d for d in os.listdir(top) if d.isdigit()):
        if open(f"{top}/{n}/state").read().strip() != "on":
            continue
        ops, actions = [], []
        for c in sorted(glob.glob(f"{top}/{n}/contexts/[0-9]*")):
            ops.append(open(f"{c}/operations").read().strip())
            actions += [open(f"{s}/action").read().strip() for s in sorted(glob.glob(f"{c}/schemes/[0-9]*"))]
        found[f"kdamonds/{n}"] = (sorted(set(ops)), sorted(set(actions)))
    return found


def check_steal_and_damon(env):
    steal = env.get("steal")
    if os.path.exists("/proc/stat"):
        ok(isinstance(steal, dict) and share(steal.get("before_run")) and steal.get("before_run_s", 0) >= 0.2
           and steal.get("run") is None, "env records the hypervisor's steal over 200 ms as a share, no run's",
           str(steal))
    damon = env.get("damon")
    ok(damon is None or (isinstance(damon, list) and all(
        isinstance(k, dict) and isinstance(k.get("name"), str) and isinstance(k.get("operations"), list)
        and isinstance(k.get("actions"), list) for k in damon)), "env.damon is null or a list of monitors",
       str(damon))
    want = running_kdamonds()
    if want is None:
        skip("env records the running kdamonds", "no DAMON admin sysfs here")
        return
    got = {k["name"]: (sorted(k["operations"]), sorted(k["actions"])) for k in damon or []
           if k.get("name", "").startswith("kdamonds/")}
    ok(got == want, f"env records the {len(want)} running kdamond(s) with operations and actions",
       f"{damon} != {want}")


def check_run_steal(p, out):
    """A run records steal over its measurements, and warns exactly when that is above 2%."""
    steal = json.load(open(out))["context"].get("steal") if os.path.exists(out) else None
    if not os.path.exists("/proc/stat"):
        return
    if not ok(isinstance(steal, dict) and share(steal.get("run")) and
              (steal.get("before_run") is None or share(steal.get("before_run"))),
              "run records the steal share over its measurements", str(steal)):
        return
    warned = [line for line in p.stderr.splitlines() if "the hypervisor took" in line]
    ok(len(warned) == (1 if steal["run"] > 0.02 else 0),
       f"run warns about steal only above 2% (it was {100 * steal['run']:.1f}%)", p.stderr)


def test_noise_drivers_recorded():
    p = subprocess.run([MSEALBENCH, "env"], capture_output=True, text=True, timeout=120)
    env = json.loads(p.stdout)
    vdir = "/sys/devices/system/cpu/vulnerabilities"
    want = {n: open(os.path.join(vdir, n)).read().strip() for n in os.listdir(vdir)} if os.path.isdir(vdir) else {}
    ok(env.get("cpu_vulnerabilities") == want, f"env records the {len(want)} CPU vulnerabilities by name",
       str(env.get("cpu_vulnerabilities"))[:200])
    thp = "/sys/kernel/mm/transparent_hugepage/enabled"
    mode = re.search(r"\[(\w+)\]", open(thp).read()).group(1) if os.path.exists(thp) else None
    ok(env.get("transparent_hugepage") == mode, f"env records the THP mode ({mode})", str(env.get("transparent_hugepage")))
    ok(env.get("max_map_count") == int(open("/proc/sys/vm/max_map_count").read()), "env records vm.max_map_count")
    load = env.get("loadavg")
    ok(isinstance(load, list) and len(load) == 3 and all(x >= 0 for x in load), "env records the load averages",
       str(load))
    check_steal_and_damon(env)
    # run warns when busy: the load is read again around the run, and only a clear case is judged.
    before = os.getloadavg()[0]
    p = subprocess.run([MSEALBENCH, "run", "--filter", "harness.empty", "--seal", "none", "--repetitions", "1",
                        "--min-time", "0.01", "--events", "none", "--out", os.path.join(TMP, "busy.json")],
                       capture_output=True, text=True, timeout=120)
    check_run_steal(p, os.path.join(TMP, "busy.json"))
    after, limit = os.getloadavg()[0], 0.5 * os.cpu_count()
    warned = [l for l in p.stderr.splitlines() if "machine is busy" in l]
    if min(before, after) > limit + 0.1:
        ok(len(warned) == 1, f"run warns in one line when the load ({before:.2f}) is above {limit}", p.stderr)
    elif max(before, after) < limit - 0.1:
        ok(not warned, f"run does not warn when the load ({before:.2f}) is below {limit}", p.stderr)
    else:
        skip("run's busy warning", f"the load ({before:.2f}) is too near {limit} to judge")


def test_profile_samples_op_only():
    """munmap's prepare() builds fresh VMAs and faults their pages in: none of that is op()."""
    if not shutil.which("perf"):
        skip("profile samples op() only", "perf is not installed")
        return
    p = subprocess.run([MSEALBENCH, "profile", "mremap.munmap", "--params", "pages=1,vmas=64", "--time", "0.3",
                        "--top", "5", "--out", TMP], capture_output=True, text=True, timeout=120)
    if p.returncode != 0 and "cannot sample the kernel" in p.stderr:
        skip("profile samples op() only", p.stderr.strip())
        return
    top = [l for l in p.stdout.splitlines() if "[k]" in l]
    share = re.search(r"sampled only inside op\(\), the timed region: ([\d.]+)% of the cell's run", p.stdout)
    ok(p.returncode == 0 and top and share and 0 < float(share.group(1)) <= 100,
       "profile says which share of the cell's run it sampled (op() only)", p.stdout + p.stderr)
    ok(top and not any("page_fault" in l or "clear_page" in l for l in top),
       "the top kernel symbols are munmap's, not the page faults of prepare()", "\n".join(top))
    ok("Events enabled" not in p.stderr, "perf's per-window messages are not relayed", p.stderr[:200])


def main():
    try:
        test_timed_samples_have_no_event_open()
        test_results_keep_counted_times_apart()
        test_exec_helper_reads_no_proc()
        test_noise_drivers_recorded()
        test_profile_samples_op_only()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    done()


main()
