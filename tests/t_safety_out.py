#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Where the C program writes: `run --out` never renames over anything but a regular file (devices,
FIFOs and links are written through), a bad --out is refused before measuring, write errors on
standard output are reported, results files are always valid UTF-8 and hold only finished rounds,
and the small commands refuse junk. Every device node, FIFO and link is made in a temp dir: the
real /dev is never pointed at."""
import collections
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, ok, skip, done  # noqa: E402

QUICK = ["run", "--filter", "harness.empty", "--repetitions", "1", "--min-time", "0.01", "--events", "none"]


def mb(args, timeout=60, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    try:
        return subprocess.run([MSEALBENCH] + args, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -999, b"", b"timed out")


def text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else (b or "")


def one_line_exit2(p, want, what):
    err = text(p.stderr)
    ok(p.returncode == 2 and err.count("\n") == 1 and want in err and not p.stdout,
       what, f"exit {p.returncode}, stdout {len(p.stdout or b'')} bytes, stderr: {err[-300:]!r}")


def make_node(path, kind):
    """A character device like /dev/null (1,3) or /dev/full (1,7) in the temp dir; None when not allowed."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, kind))
        return path
    except OSError:
        return None


def is_chr(path, minor):
    st = os.lstat(path)
    return stat.S_ISCHR(st.st_mode) and os.minor(st.st_rdev) == minor


def link_to(path):
    return os.readlink(path) if os.path.islink(path) else None


def valid_results(data):
    try:
        d = json.loads(data.decode("utf-8"))
        return d.get("schema") == "msealbench-results" and bool(d["cells"])
    except (ValueError, KeyError, AttributeError):
        return False


def check_devices_and_links(t):
    null, full = make_node(f"{t}/null", 3), make_node(f"{t}/full", 7)
    if not null or not full:
        skip("run --out to device nodes", "mknod is not permitted here")
    else:
        p = mb(QUICK + ["--quiet", "--out", null])
        ok(p.returncode == 0 and is_chr(null, 3), "--out to a null device node writes into it and leaves it a device",
           f"exit {p.returncode}: {text(p.stderr)[-200:]}")
        p = mb(QUICK + ["--quiet", "--out", full])
        err = text(p.stderr)
        ok(p.returncode == 1 and is_chr(full, 7) and "No space left on device" in err and err.count("\n") == 1,
           "--out to a full device node: exit 1, one line, the node stays a device", f"exit {p.returncode}: {err!r}")
        os.symlink("null", f"{t}/link-to-null")
        p = mb(QUICK + ["--quiet", "--out", f"{t}/link-to-null"])
        ok(p.returncode == 0 and os.path.islink(f"{t}/link-to-null") and is_chr(null, 3),
           "--out to a link to a device node writes through the link", f"exit {p.returncode}: {text(p.stderr)[-200:]}")

    os.mkfifo(f"{t}/fifo")
    got = {}
    reader = threading.Thread(target=lambda: got.update(data=open(f"{t}/fifo", "rb").read()), daemon=True)
    reader.start()
    p = mb(QUICK + ["--quiet", "--out", f"{t}/fifo"])
    reader.join(5)
    ok(p.returncode == 0 and stat.S_ISFIFO(os.lstat(f"{t}/fifo").st_mode) and valid_results(got.get("data", b"")),
       "--out to a FIFO: the reader gets the results once, the FIFO stays a FIFO", f"exit {p.returncode}")

    with open(f"{t}/target.json", "w") as f:
        f.write("old")
    os.symlink("target.json", f"{t}/link")
    os.symlink("created.json", f"{t}/dangling")
    for link, target in (("link", "target.json"), ("dangling", "created.json")):
        p = mb(QUICK + ["--quiet", "--out", f"{t}/{link}"])
        ok(p.returncode == 0 and link_to(f"{t}/{link}") == target
           and os.path.exists(f"{t}/{target}") and valid_results(open(f"{t}/{target}", "rb").read()),
           f"--out to a {'dangling ' if link == 'dangling' else ''}symlink: the results go to its target, the link stays",
           f"exit {p.returncode}: {text(p.stderr)[-200:]}")

    p = mb(QUICK + ["--out", "-"])
    ok(p.returncode == 0 and valid_results(p.stdout) and "harness.empty" in text(p.stderr),
       "--out -: the results on standard output, the table on standard error",
       f"exit {p.returncode}: {text(p.stderr)[-200:]}")
    os.symlink("/proc/self/fd/1", f"{t}/stdout-link")
    p = mb(QUICK + ["--quiet", "--out", f"{t}/stdout-link"])
    ok(p.returncode == 0 and valid_results(p.stdout) and link_to(f"{t}/stdout-link") == "/proc/self/fd/1",
       "--out to a link like /dev/stdout (a pipe here) writes into the pipe, the link stays",
       f"exit {p.returncode}: {text(p.stderr)[-200:]}")


def check_refused_up_front(t):
    """Each is refused with exit 2 and one line before measuring: no table on stdout."""
    os.mkdir(f"{t}/dir")
    open(f"{t}/afile", "w").close()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(f"{t}/sock")
    os.symlink("dir", f"{t}/link-to-dir")
    cases = [("", "empty file name", "an empty --out"),
             (f"{t}/dir", "is a directory", "a directory"),
             (f"{t}/link-to-dir", "is a directory", "a link to a directory"),
             (f"{t}/sock", "is a socket", "a socket"),
             (f"{t}/afile/x.json", "Not a directory", "a path through a file"),
             (f"{t}/no-such-dir/x.json", "No such file or directory", "a path in a missing directory"),
             ("/proc/msealbench-no-such.json", "cannot create a file beside", "a file under /proc"),
             (f"{t}/" + "a" * 250, "File name too long", "a name too long for its temporary file")]
    for out, want, what in cases:
        one_line_exit2(mb(QUICK + ["--out", out]), want, f"--out {what} is refused before measuring")
    ok(stat.S_ISDIR(os.lstat(f"{t}/dir").st_mode) and stat.S_ISSOCK(os.lstat(f"{t}/sock").st_mode)
       and os.path.islink(f"{t}/link-to-dir"), "the refused targets are unchanged")
    sock.close()

    ro = f"{t}/ro"
    os.mkdir(ro)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", ro], capture_output=True).returncode:
        skip("--out in an unwritable directory is refused before measuring", "cannot mount a tmpfs here")
        return
    try:
        one_line_exit2(mb(QUICK + ["--out", f"{ro}/x.json"]), "Read-only file system",
                       "--out in an unwritable directory is refused before measuring")
    finally:
        subprocess.run(["umount", ro], capture_output=True)


def check_stdout_errors(t):
    full = make_node(f"{t}/stdout-full", 7)
    if not full:
        skip("write errors on standard output", "mknod is not permitted here")
        return
    for args in (["env"], ["list"], ["version"], ["help"], ["probe", "--json"], ["run", "--help"],
                 QUICK + ["--out", f"{t}/table.json"]):
        with open(full, "wb") as out:
            p = mb(args, stdout=out)
        err = text(p.stderr).splitlines()
        bad = [line for line in err if "writing standard output: No space left on device" in line]
        ok(p.returncode != 0 and len(bad) == 1 and "Traceback" not in text(p.stderr),
           f"'{'run' if args == QUICK else ' '.join(args)}' into a full device: one line naming the write error, "
           "exit non-zero",
           f"exit {p.returncode}: {err[-3:]}")
    ok(valid_results(open(f"{t}/table.json", "rb").read()), "a run whose table cannot be written keeps its results file")

    # A reader that goes away: quiet, whatever the SIGPIPE disposition.
    p = subprocess.Popen([MSEALBENCH, "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    p.wait(30)
    ok(p.returncode in (0, 1) and not err, "a closed pipe on standard output ends it quietly",
       f"exit {p.returncode}: {text(err)[-200:]!r}")


def check_utf8(t):
    for opt, value in (("--label", b"lab\xffel"), ("--filter", b"harness\xfe"), ("--events", b"task-clock\xc3")):
        p = mb([a.encode() for a in QUICK] + [opt.encode(), value, b"--out", f"{t}/bad.json".encode()])
        one_line_exit2(p, f"{opt}: the text is not valid UTF-8", f"{opt} with bytes that are not UTF-8 is refused")
    label = "caf\u00e9 \x01bell\x1b[31m \u0085 \u2028 \U0001f600"
    p = mb(QUICK + ["--quiet", "--label", label, "--out", f"{t}/label.json"])
    raw = open(f"{t}/label.json", "rb").read() if p.returncode == 0 else b""
    ok(p.returncode == 0 and json.loads(raw.decode("utf-8"))["context"]["label"] == label
       and not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", raw),
       "a label with control characters reads back exactly, with no raw control character in the file",
       f"exit {p.returncode}: {text(p.stderr)[-200:]}")


def check_small_commands():
    for args, want in ((["version", "junk"], "unexpected argument 'junk'"),
                       (["--version", "junk"], "unexpected argument 'junk'"),
                       (["help", "no-such-command"], "unknown command 'no-such-command'"),
                       (["help", "run", "junk"], "unexpected argument 'junk'")):
        one_line_exit2(mb(args), want, f"'{' '.join(args)}' is refused")
    p = mb(["help", "run"])
    ok(p.returncode == 0 and text(p.stdout).startswith("usage: msealbench run"), "'help run' prints run's help")


def check_cell_numbers(t):
    report = os.open(f"{t}/report", os.O_WRONLY | os.O_CREAT, 0o600)

    def report_on_fd3():  # a cell writes its report to fd 3
        if report != 3:
            os.dup2(report, 3)
        os.set_inheritable(3, True)

    for arg in ("batch=-1", "batch=18446744073709551615", "batch=99999999999999999999", "batch=12abc",
                "batch=", "params=-1,0,0", "params=1,2", "params=1,2,3,4", "samples=10,5", "samples=0,5",
                "samples=5,99999999999", "time=-1", "time=1e300", "target=nan", "inject=inf", "cpu=-2",
                "cpu=99999999"):
        # A bad value must stop the cell before it measures (batch=-1 once meant 2^64 operations).
        p = mb(["__cell", "bench=harness.empty", "seal=none", "time=0.01", arg], timeout=10,
               close_fds=False, preexec_fn=report_on_fd3)
        key, value = arg.split("=", 1)
        one_line_exit2(p, f"bad value '{value}' for {key}", f"__cell {arg} is refused")
    os.close(report)


def check_interrupted_round(t):
    out = f"{t}/interrupted.json"
    p = subprocess.Popen([MSEALBENCH, "run", "--filter", "vdso", "--repetitions", "4", "--min-time", "0.2",
                          "--events", "none", "--quiet", "--out", out], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not os.path.exists(out) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # into the second round: some of its cells have finished
    p.send_signal(signal.SIGINT)
    err = text(p.communicate(timeout=60)[1])
    m = re.search(r"interrupted after (\d+) of", err)
    if p.returncode != 130 or not m:
        ok(False, "an interrupted run exits 130 and says how many rounds finished", f"{p.returncode}: {err[-300:]}")
        return
    finished = int(m.group(1))
    d = json.load(open(out))
    late = [c["benchmark"] for c in d["cells"] if any(r >= finished for r in c["rounds"])]
    ok(d["partial"] is True and finished >= 1 and not late,
       f"an interrupted run's file holds only the {finished} finished round(s)", f"cells of later rounds: {late[:5]}")
    rounds = collections.defaultdict(set)
    for c in d["cells"]:
        if c["status"] == "ok":
            rounds[(c["benchmark"], json.dumps(c["params"]))].add(tuple(sorted(set(c["rounds"]))))
    ok(all(len(r) == 1 for r in rounds.values()), "every seal mode of a benchmark holds the same rounds")
    ok(all((c["status"] == "ok") == (c["reason"] is None) and c["status"] != "failed" for c in d["cells"]),
       "no cell carries a status or reason from the dropped round")


def main():
    if not os.access(MSEALBENCH, os.X_OK):
        ok(False, f"{MSEALBENCH} is built")
        done()
    with tempfile.TemporaryDirectory(prefix="msealbench-t-") as t:
        check_devices_and_links(t)
        check_refused_up_front(t)
        check_stdout_errors(t)
        check_utf8(t)
        check_small_commands()
        check_cell_numbers(t)
        check_interrupted_round(t)
    done()


if __name__ == "__main__":
    main()
