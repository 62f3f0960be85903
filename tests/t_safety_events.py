#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Events and profile under bad input, signals and a full disk: event lists are checked on the
command line (unknown, twice, too many, too long) and reach the cell whole (the statuses of an
unprivileged user: t_counters.py and unit_counters.c); profile's --params and --out errors say what is wrong; perf's own
error is reported; profile's children (perf record and its cell) die with it on every signal."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, ok, skip, done  # noqa: E402

TMP = tempfile.mkdtemp(prefix="msealbench-safety-events.")
HAVE_PERF = shutil.which("perf") is not None


def run(args, user=None, timeout=120):
    cmd = [MSEALBENCH] + args
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def naming():
    p = run(["events", "--events", "task-clock"])
    m = re.search(r"^event naming: (\S+)", p.stdout, re.M)
    return m.group(1) if m else "builtin"


# ---- event lists ----

def test_bad_event_lists():
    out = os.path.join(TMP, "bad.json")
    seventeen = ",".join(f"page-faults:{'u' * (i + 1)}" for i in range(17))
    cases = [
        ("task-clock,no-such-event", "'no-such-event'", "an unknown event"),
        ("page-faults,task-clock,page-faults", "'page-faults' is given twice", "a duplicated event"),
        (seventeen, "more than 16 events", "17 events"),
        ("task-clock," + "x" * 1100, "more than the 1024 allowed", "a list over 1024 characters"),
        ("context-switches:u", "always 0", "context-switches:u (always 0)"),
    ]
    for events, want, what in cases:
        for cmd in (["run", "--quick", "--filter", "harness.empty", "--out", out], ["events"]):
            p = run(cmd + ["--events", events])
            ok(p.returncode == 2 and want in p.stderr and len(p.stderr.strip().splitlines()) == 1,
               f"{cmd[0]} --events with {what}: exit 2, one line naming it",
               f"exit {p.returncode}: {p.stderr.strip()[:300]}")
    ok(not os.path.exists(out), "no results file is written for a refused list")


def test_long_list_reaches_cell():
    if not naming().startswith("libpfm4"):
        skip("a long event list reaches the cell whole", "built without libpfm4: no long names")
        return
    names = ["perf::PERF_COUNT_HW_" + n for n in (
        "CPU_CYCLES", "INSTRUCTIONS", "CACHE_REFERENCES", "CACHE_MISSES", "BRANCH_INSTRUCTIONS",
        "BRANCH_MISSES", "BUS_CYCLES", "STALLED_CYCLES_FRONTEND", "STALLED_CYCLES_BACKEND",
        "REF_CPU_CYCLES", "CPU_CYCLES:u", "INSTRUCTIONS:u", "BRANCH_MISSES:u")]
    names += ["perf::PERF_COUNT_SW_PAGE_FAULTS", "perf::PERF_COUNT_SW_CPU_CLOCK", "task-clock"]
    events = ",".join(names)
    out = os.path.join(TMP, "long.json")
    p = run(["run", "--quiet", "--quick", "--seal", "none", "--filter", "harness.empty",
             "--events", events, "--out", out])
    if not ok(p.returncode == 0, f"a run with a {len(events)}-character list of 16 events succeeds",
              p.stderr.strip()[:300]):
        return
    cell = json.load(open(out))["cells"][0]
    got = [e["name"] for e in cell["counters"]["events"]]
    ok(got == names, "the cell got every event of the list, in order", str(got))
    tc = [e for e in cell["counters"]["events"] if e["name"] == "task-clock"]
    ok(tc and tc[0]["status"] == "counted" and "task-clock" in cell["counters"]["values"],
       "task-clock, last in the list, is counted", json.dumps(tc))


def test_event_of_absent_pmu():
    if not naming().startswith("libpfm4"):
        skip("an event of an absent PMU", "built without libpfm4")
        return
    p = run(["events", "--events", "skx::INST_RETIRED:ANY_P"])
    m = re.search(r"^  skx::INST_RETIRED:ANY_P\s+(\S+)\s+(.*)$", p.stdout, re.M)
    if m and m.group(1) == "counted":
        skip("an event of an absent PMU", "this machine has a Skylake-X PMU")
        return
    ok(p.returncode == 0 and m is not None and m.group(1) == "unsupported" and "skx" in m.group(2),
       "an event libpfm4 knows for a PMU not here is accepted and unsupported", p.stdout + p.stderr)


# ---- profile: input ----

def test_profile_params():
    for params, want in (("pages=-1", "pages=-1: negative"), ("pages=", "pages=: no value given"),
                         ("pages=abc", "pages=abc: not a whole number"),
                         ("pages=99999999999999999999", "out of range"),
                         ("nosuch=1", "no parameter 'nosuch'"), ("pages", "'pages' is not NAME=VALUE")):
        p = run(["profile", "harness.touch_pages", "--params", params, "--out", TMP])
        ok(p.returncode == 2 and want in p.stderr, f"profile --params {params}: exit 2, says '{want}'",
           f"exit {p.returncode}: {p.stderr.strip()}")


def test_profile_out_not_dir():
    f = os.path.join(TMP, "a-file")
    open(f, "w").close()
    for out, want in ((f, "is not a directory"), (os.path.join(f, "sub"), "Not a directory"),
                      ("", "empty directory name")):
        p = run(["profile", "harness.syscall.getppid", "--time", "0.1", "--out", out])
        ok(p.returncode == 2 and want in p.stderr and "paranoid" not in p.stderr,
           f"profile --out {out or repr(out)}: exit 2 before measuring, says '{want}'",
           f"exit {p.returncode}: {p.stderr.strip()}")
    ok(os.path.getsize(f) == 0, "the file given as --out is left alone")


def test_profile_full_disk():
    if not HAVE_PERF:
        skip("profile into a full disk", "perf is not installed")
        return
    full = os.path.join(TMP, "full")
    os.mkdir(full)
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full], capture_output=True, text=True)
    if m.returncode != 0:
        skip("profile into a full disk", f"cannot mount a small tmpfs: {m.stderr.strip()}")
        return
    try:
        p = run(["profile", "harness.syscall.getppid", "--time", "1", "--out", full])
        last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
        ok(p.returncode == 1 and "No space left on device" in last and "paranoid" not in p.stderr,
           "profile into a full disk reports perf's error (no space left), not perf_event_paranoid",
           f"exit {p.returncode}: {p.stderr.strip()[-400:]}")
    finally:
        subprocess.run(["umount", full])


# ---- profile: children die with it ----

def proc_stat(pid):
    """(ppid, starttime, state) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[1]), int(rest[19]), rest[0]
    except (OSError, IndexError, ValueError):
        return None


def descendants(root):
    """{pid: (starttime, cmdline)} of every live descendant of root."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                children.setdefault(st[0], []).append((int(d), st[1]))
    found, todo = {}, [root]
    while todo:
        for pid, start in children.get(todo.pop(), []):
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            found[pid] = (start, cmd)
            todo.append(pid)
    return found


def alive(tree):
    """The processes of tree still running (same pid and start time, not a zombie)."""
    left = {}
    for pid, (start, cmd) in tree.items():
        st = proc_stat(pid)
        if st and st[1] == start and st[2] != "Z":
            left[pid] = cmd
    return left


def wait_until(cond, limit_s):
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    return cond()


def test_profile_children_die(sig):
    name = signal.Signals(sig).name
    out = os.path.join(TMP, "sig-" + name)
    # stderr to a file: a pipe would stay open as long as any child of profile lives
    log = open(os.path.join(TMP, "sig-" + name + ".log"), "w+")
    prof = subprocess.Popen([MSEALBENCH, "profile", "harness.syscall.getppid", "--time", "120", "--out", out],
                            stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL)
    tree = {}
    try:
        tree = wait_until(lambda: (lambda t: t if any("__cell" in c for _, c in t.values()) else None)(
            descendants(prof.pid)), 30) or {}
        if not ok(tree, f"profile started perf record and its cell ({name} case)",
                  str(descendants(prof.pid))):
            return
        prof.send_signal(sig)
        try:
            prof.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        log.seek(0)
        err = log.read()
        left = wait_until(lambda: not alive(tree), 10) or alive(tree)
        ok(left is True, f"after {name} to profile, no perf record or cell of it is left",
           f"still running: {left}; profile said: {err.strip()[-300:]}")
        if sig != signal.SIGKILL:
            ok(prof.returncode == 128 + sig, f"profile exits {128 + sig} after {name}",
               f"exit {prof.returncode}: {err.strip()[-300:]}")
    finally:
        log.close()
        if prof.poll() is None:
            prof.kill()
            prof.wait()
        for pid in alive(tree):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def test_profile_signals():
    if not HAVE_PERF:
        skip("profile's children die with it", "perf is not installed")
        return
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL):
        test_profile_children_die(sig)


def main():
    try:
        test_bad_event_lists()
        test_long_list_reaches_cell()
        test_event_of_absent_pmu()
        test_profile_params()
        test_profile_out_not_dir()
        test_profile_full_disk()
        test_profile_signals()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    done()


main()
