#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""No child of msealbench outlives it: cells of a run that is stopped (SIGTERM, SIGINT) or
killed (SIGKILL, which it cannot catch) die with it, and a stopped run keeps its results."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, ok, done, processes_marked  # noqa: E402

MARK = "MSB_CHILDREN_TEST"
TMP = tempfile.mkdtemp(prefix="msealbench-children.")


def wait_for_child(tag, parent, what, timeout=20):
    """Waits until a marked process other than the parent runs `what` (a command word)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in processes_marked(MARK, tag):
            try:
                if pid != parent and what in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0"):
                    return True
            except OSError:
                pass
        time.sleep(0.05)
    return False


def gone(tag, timeout=5):
    deadline = time.monotonic() + timeout
    while processes_marked(MARK, tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = processes_marked(MARK, tag)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return not left


def stop_run(sig):
    tag = f"{os.getpid()}-{sig.name}"
    out = os.path.join(TMP, f"{sig.name}.json")
    # One long cell: fork family with a long budget, so the signal lands while a cell runs.
    p = subprocess.Popen([MSEALBENCH, "run", "--quiet", "--filter", "fork.fork", "--seal", "none",
                          "--repetitions", "2", "--min-time", "600", "--events", "none", "--out", out],
                         env=dict(os.environ, **{MARK: tag}), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    if not ok(wait_for_child(tag, p.pid, b"__cell"), f"{sig.name}: a cell of the run started"):
        p.kill()
        p.wait()
        return
    p.send_signal(sig)
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    err = p.stderr.read()
    if sig == signal.SIGKILL:
        ok(rc == -signal.SIGKILL, "SIGKILL: the runner died", f"exit {rc}")
    else:
        ok(rc in (130, 143), f"{sig.name}: the run exits 130/143", f"exit {rc}: {err}")
    ok(gone(tag), f"{sig.name}: no cell outlives the runner")


def probe_killed():
    tag = f"{os.getpid()}-probe"
    p = subprocess.Popen([MSEALBENCH, "probe"], env=dict(os.environ, **{MARK: tag}),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_child(tag, p.pid, b"__probe-exec", timeout=5)
    p.kill()
    p.wait()
    ok(gone(tag), "SIGKILL of probe: none of its check processes outlives it")


def main():
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
            stop_run(sig)
        probe_killed()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    done()


main()
