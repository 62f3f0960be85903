#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench vm refuses bad input before the first boot and never hurts the machine: every bad
option is one line and exit 2 with no qemu started and nothing left in the output directory; an
output directory that is a file, under /proc, read-only or full is refused the same way (no
truncated initramfs); SIGTERM and SIGINT stop qemu and exit 143/130 with one line; SIGKILL of the
process (through the C msealbench that execs it) still kills qemu (PR_SET_PDEATHSIG).
Boots: three, each stopped as soon as qemu runs (x86_64-plain.bzImage of ../shared/kernels or
MSEALBENCH_KERNELS; skipped without it)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from taplib import TOP, MSEALBENCH, ok, skip, done, wait_for

SCRIPT = os.path.join(TOP, "vm", "msealbench-vm")
KERNELS = os.environ.get("MSEALBENCH_KERNELS", os.path.join(os.path.dirname(TOP), "shared", "kernels"))
SUITE = os.path.join(TOP, "build-static")
tmp = tempfile.mkdtemp(prefix="msealbench-t-vm-safety.")
started_qemus = set()


def fake_qemu_env():
    """PATH with qemu-system-* that only record being started, in a file this returns."""
    bindir, marker = os.path.join(tmp, "bin"), os.path.join(tmp, "qemu-started")
    os.makedirs(bindir, exist_ok=True)
    for name in ("qemu-system-x86_64", "qemu-system-aarch64"):
        path = os.path.join(bindir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'#!/bin/sh\necho "$0 $*" >> {marker}\nexit 1\n')
        os.chmod(path, 0o755)
    return dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", "")), marker


def fake_kernel():
    """An x86-64 bzImage header and nothing else: enough for every check before a boot."""
    path = os.path.join(tmp, "bzImage")
    data = bytearray(8192)
    data[0x202:0x206] = b"HdrS"
    with open(path, "wb") as f:
        f.write(data)
    return path


def one_line_error(r):
    lines = r.stderr.strip().splitlines()
    return r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr


def validation_tests():
    env, marker = fake_qemu_env()
    kernel = fake_kernel()
    afile = os.path.join(tmp, "a-file")
    open(afile, "w").close()
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    cases = [
        ("--boots 99999999999999999999", ["--boots", "99999999999999999999"]),
        ("--boots 0", ["--boots", "0"]),
        ("--timeout nan", ["--timeout", "nan"]),
        ("--timeout inf", ["--timeout", "inf"]),
        ("--timeout 0", ["--timeout", "0"]),
        ("--repetitions abc (checked on the host, not in the guest)", ["--repetitions", "abc"]),
        ("--repetitions 0", ["--repetitions", "0"]),
        ("--min-time nan", ["--min-time", "nan"]),
        ("--min-time 1e9", ["--min-time", "1e9"]),
        ("--seal bogus", ["--seal", "bogus"]),
        ("--memory 1Q", ["--memory", "1Q"]),
        ("--memory 99999999999G", ["--memory", "99999999999G"]),
        ("--compare-args '\"' (before any boot)", ["--compare-args", '"']),
        ("--suite junk", ["--suite", "junk"]),
        ("--out a file", ["--out", afile]),
        ("--out a path through a file", ["--out", os.path.join(afile, "sub")]),
        ("--out under /proc", ["--out", "/proc/1/msealbench-vm-test"]),
        ("--out ''", ["--out", ""]),
        ("--kernel a FIFO (no hang)", ["--kernel", f"f={fifo}"]),
        ("--kernel with a 300-character label", ["--kernel", f"{'x' * 300}={kernel}"]),
        ("--append longer than the kernel command line", ["--append", "x" * 3000]),
        ("--append with a newline", ["--append", "quiet\ninit=/x"]),
    ]
    if os.path.isfile(os.path.join(SUITE, "msealbench")):
        cases.append(("--filter matching no benchmark (checked on the host)", ["--filter", "no-such-bench"]))
    else:
        skip("vm --filter matching no benchmark", f"no static suite in {SUITE} (make static)")
    for what, args in cases:
        if os.path.exists(marker):
            os.unlink(marker)
        out = tempfile.mkdtemp(dir=tmp)
        cmd = [SCRIPT, "--kernel", f"plain={kernel}", "--accel", "tcg", "--suite", f"x86_64={SUITE}"]
        if "--out" not in args:
            cmd += ["--out", out]
        try:
            r = subprocess.run(cmd + args, capture_output=True, text=True, env=env, timeout=20)
        except subprocess.TimeoutExpired:
            ok(False, f"vm {what}: refused", "still running after 20 s")
            continue
        ok(one_line_error(r) and not os.path.exists(marker) and os.listdir(out) == [],
           f"vm {what}: one line, exit 2, no qemu started, nothing written",
           f"exit {r.returncode}, qemu started: {os.path.exists(marker)}, "
           f"files: {os.listdir(out)}, stderr: {r.stderr.strip()[-400:]}")


def mounted_tmpfs(path, options):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path], capture_output=True,
                       text=True)
    return r.returncode == 0, r.stderr.strip()


def full_disk_tests():
    env, _ = fake_qemu_env()
    kernel = fake_kernel()
    full, ro = os.path.join(tmp, "full"), os.path.join(tmp, "ro")
    mounted, why = mounted_tmpfs(full, "size=64k")
    if not mounted:
        skip("vm --out on a full disk", f"cannot mount a tmpfs: {why}")
        skip("vm --out on a read-only file system", f"cannot mount a tmpfs: {why}")
        return
    try:
        cmd = [SCRIPT, "--kernel", f"plain={kernel}", "--accel", "tcg", "--out", full]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        last = (r.stderr.strip().splitlines() or [""])[-1]
        ok(r.returncode == 2 and "Traceback" not in r.stderr and os.listdir(full) == []
           and f"no space left on device writing {full}/initramfs-plain.cpio" in last,
           "vm --out on a full disk: 'no space left on device writing PATH', exit 2, "
           "no truncated initramfs", f"exit {r.returncode}, files {os.listdir(full)}: {r.stderr[-400:]}")
        mounted, why = mounted_tmpfs(ro, "ro,size=64k")
        if not mounted:
            skip("vm --out on a read-only file system", f"cannot mount a tmpfs: {why}")
            return
        r = subprocess.run(cmd[:-1] + [ro], capture_output=True, text=True, env=env, timeout=600)
        ok(one_line_error(r) and "Read-only file system" in r.stderr,
           "vm --out on a read-only file system: one line, exit 2", r.stderr[-400:])
    finally:
        for path in (full, ro):
            subprocess.run(["umount", path], capture_output=True)


def state(pid):
    """The process state letter from /proc/PID/stat, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def qemu_children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                stat = f.read()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat.rsplit(")", 1)[1].split()
        if int(rest[1]) == pid and comm.startswith("qemu-system"):
            found.append(int(entry))
    return found


def signal_test(kernel, signum, exe, extra=(), wait_line=None):
    """Start a boot, wait until qemu runs (and the console echoed wait_line), send signum."""
    name = signal.Signals(signum).name
    out = tempfile.mkdtemp(dir=tmp)
    cmd = exe + ["--kernel", f"plain={kernel}", "--accel", "tcg", "--boots", "1", "--timeout", "120",
                 "--out", out] + list(extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    if wait_line:
        for line in proc.stderr:
            seen.append(line)
            if wait_line in line:
                break
    qemus = wait_for(lambda: qemu_children(proc.pid), 300)
    started_qemus.update(qemus)
    if not qemus:
        proc.kill()
        proc.communicate()
        ok(False, f"vm {name}: qemu started", "no qemu child seen: " + "".join(seen)[-400:])
        return
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    left = [q for q in qemus if not wait_for(lambda: state(q) in (None, "Z"), 10)]
    temps = [n for n in os.listdir(out) if n.startswith(".")]
    if signum == signal.SIGKILL:
        ok(not left, f"vm SIGKILL of {os.path.basename(exe[0])} while the guest is silent: qemu "
           "dies with it (PR_SET_PDEATHSIG)", f"qemu still running: {left}")
        return
    stops = [line for line in err.splitlines() if f"stopped by {name}" in line]
    ok(not left and proc.returncode == 128 + signum and len(stops) == 1 and "Traceback" not in err
       and not temps, f"vm {name}: qemu stopped, exit {128 + signum}, one line, no temporary files",
       f"exit {proc.returncode}, qemu left {left}, temporaries {temps}: {err[-400:]}")


def signal_tests():
    kernel = os.path.join(KERNELS, "x86_64-plain.bzImage")
    if not os.path.isfile(kernel) or not shutil.which("qemu-system-x86_64"):
        for what in ("SIGTERM", "SIGINT", "SIGKILL"):
            skip(f"vm {what}: qemu dies with msealbench vm",
                 f"no {kernel} or no qemu-system-x86_64 (set MSEALBENCH_KERNELS to a directory "
                 "holding x86_64-plain.bzImage)")
        return
    signal_test(kernel, signal.SIGTERM, [SCRIPT])
    signal_test(kernel, signal.SIGINT, [SCRIPT])
    # a panicked guest (panic=0: no reboot) writes nothing more, so qemu cannot die of a broken
    # pipe: only PR_SET_PDEATHSIG ends it
    signal_test(kernel, signal.SIGKILL, [MSEALBENCH, "vm"],
                ["--verbose", "--append", "rdinit=/no/such/init panic=0"], "Kernel panic")


def main():
    try:
        validation_tests()
        full_disk_tests()
        signal_tests()
    finally:
        for pid in started_qemus:
            if state(pid) not in (None, "Z"):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    sys.exit(main())
