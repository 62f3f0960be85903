# SPDX-License-Identifier: GPL-2.0-only
"""Booting a kernel with qemu and reading its serial console: the framed, checksummed file
transfer, boot failures, the KVM check, qemu's version."""
import base64
import hashlib
import os
import selectors
import shutil
import subprocess
import sys
import time

from msb.cli import finished, spawn

from .common import ARCHES, HOST_ARCH, KVM_CHECK_TIMEOUT, VmError, run_child, write_file


class Boot:
    """One qemu run: the console parsed into markers and verified files."""

    def __init__(self, label, index):
        self.label, self.index = label, index
        self.files = {}          # name -> bytes (verified)
        self.exits = {}          # step -> "status N" / "signal N"
        self.missing = {}        # name -> why
        self.errors = []         # transfer problems
        self.reached_init = self.done = False
        self.done_at = None
        self.timed_out = False
        self.panic = None
        self.seconds = 0.0
        self.qemu_status = None
        self.log = []

    def failure(self):
        """Why this boot failed, or None."""
        if self.timed_out:
            return ("still running after the time limit; qemu killed"
                    + ("" if self.reached_init else ", init never started"))
        if self.panic:
            return f"kernel panic: {self.panic}"
        if not self.reached_init:
            tail = " | ".join(line for line in self.log[-5:] if line.strip())
            return (f"the kernel never reached init (qemu exit status {self.qemu_status})"
                    + (f"; last console lines: {tail}" if tail else ""))
        if self.errors:
            return "; ".join(self.errors)
        if not self.done:
            return f"init did not finish (qemu exit status {self.qemu_status})"
        return None


class ConsoleParser:
    def __init__(self, boot, echo):
        self.boot, self.echo = boot, echo
        self.current = None      # (name, [base64 chunks])

    def line(self, text):
        b = self.boot
        b.log.append(text)
        at = text.find("MSB:")     # firmware escape sequences may come first on the line
        if at > 0:
            text = text[at:]
        if at < 0:
            if "Kernel panic" in text and not b.panic:
                b.panic = text.strip()
            if self.echo:
                print(f"  [{b.label}#{b.index}] {text}", file=sys.stderr, flush=True)
            return
        word, _, rest = text[4:].partition(" ")
        if word == "D":
            if self.current:
                self.current[1].append(rest.strip())
        elif word == "BEGIN":
            if self.current:
                b.errors.append(f"{self.current[0]}: no END marker before the next file")
            self.current = (rest.strip(), [])
        elif word == "END":
            self.end(rest.split())
        elif word == "INIT":
            b.reached_init = True
        elif word == "DONE":
            b.done = True
        elif word == "EXIT":
            step, _, status = rest.partition(" ")
            b.exits[step] = status.strip()
        elif word == "MISSING":
            name, _, why = rest.partition(" ")
            b.missing[name] = why
        if self.echo and word not in ("D", "BEGIN", "END"):
            print(f"  [{b.label}#{b.index}] {text}", file=sys.stderr, flush=True)

    def end(self, fields):
        b = self.boot
        if not self.current or len(fields) != 3 or fields[0] != self.current[0]:
            b.errors.append(f"unexpected END marker {' '.join(fields)!r}")
            self.current = None
            return
        name, chunks = self.current
        self.current = None
        try:
            data = b"".join(base64.b64decode(c, validate=True) for c in chunks)
        except ValueError:
            b.errors.append(f"{name}: corrupted transfer (bad base64 line)")
            return
        if len(data) != int(fields[1]) or hashlib.sha256(data).hexdigest() != fields[2]:
            b.errors.append(f"{name}: corrupted transfer ({len(data)} bytes received, "
                            f"{fields[1]} sent; SHA-256 mismatch)")
            return
        b.files[name] = data

    def finish(self):
        if self.current:
            self.boot.errors.append(f"{self.current[0]}: truncated transfer (no END marker)")


def host_tsc_khz():
    """The host's TSC rate in kHz ("cpu MHz" of /proc/cpuinfo), which a TCG guest's rdtsc follows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return int(float(line.split(":")[1]) * 1000)
    except (OSError, ValueError):
        pass
    return 2000000


def kernel_args(arch, accel, extra, quiet=True):
    """Kernel command line (quiet=False where a watcher waits for "Linux version", as LAVA does). x86-64 under TCG: the guest's TSC calibration fails at random, and the
    kernel then falls back to jiffies (4 ms clock resolution, no vDSO clock), so one boot would
    measure with the TSC and the next without. tsc_early_khz skips the calibration and
    tsc=reliable the watchdog: every boot uses the TSC."""
    args = f"console={ARCHES[arch]['console']}{' quiet' if quiet else ''} panic=-1 rdinit=/init"
    if arch == "x86_64" and accel == "tcg":
        args += f" tsc_early_khz={host_tsc_khz()} tsc=reliable"
    return args + (" " + extra if extra else "")


def qemu_command(arch, accel, kernel, initrd, memory, extra=""):
    a = ARCHES[arch]
    return ([a["qemu"]] + a["machine"] + ["-accel", accel, "-cpu", a["cpu"][accel], "-m", memory,
            "-nographic", "-nodefaults", "-no-reboot", "-serial", "stdio", "-kernel", kernel,
            "-initrd", initrd, "-append", kernel_args(arch, accel, extra)])


def read_lines(stream, deadline, on_line, idle=None):
    """Each line of a child's output (decoded, the last one even without a newline) to on_line,
    until the output ends ("eof"), time.monotonic() passes deadline ("timeout") or idle(), asked
    after each quiet second, says to stop ("idle"). Returns which."""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    os.set_blocking(stream.fileno(), False)
    pending, why = b"", "eof"
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                why = "timeout"
                break
            if not sel.select(min(left, 1.0)):
                if idle and idle():
                    why = "idle"
                    break
                continue
            chunk = stream.read(65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                on_line(raw.decode("utf-8", "replace"))
        if pending:
            on_line(pending.decode("utf-8", "replace"))
    finally:
        sel.close()
    return why


def boot(cmd, label, index, timeout, echo, log_path=None):
    """Run qemu until it exits or the time limit passes; parse the console on the way."""
    b = Boot(label, index)
    parser = ConsoleParser(b, echo)
    start = time.monotonic()
    proc = spawn(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def idle():
        """init finished: give the guest a moment to reboot (qemu exits), then stop it"""
        if b.done and b.done_at is None:
            b.done_at = time.monotonic()
        return b.done and time.monotonic() - b.done_at > 2

    why = read_lines(proc.stdout, start + timeout, lambda text: parser.line(text.rstrip("\r")), idle)
    if why != "eof":
        b.timed_out = why == "timeout"
        proc.kill()
    parser.finish()
    b.qemu_status = proc.wait()
    finished(proc)
    proc.stdout.close()
    b.seconds = time.monotonic() - start
    if log_path:
        text = "\n".join(line for line in b.log if not line.startswith("MSB:D ")) + "\n"
        write_file(log_path, text.encode())
    return b


def kvm_usable(arch, kernel, initrd, memory):
    """(True, why) when a KVM boot of this kernel reaches init; (False, why) otherwise."""
    if arch != HOST_ARCH:
        return False, f"an {arch} guest on an {HOST_ARCH} host"
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        return False, f"/dev/kvm: {e.strerror}"
    b = boot(qemu_command(arch, "kvm", kernel, initrd, memory), "kvm-check", 0,
             KVM_CHECK_TIMEOUT, False)
    if b.reached_init and b.done:
        return True, f"a test boot under KVM reached init in {b.seconds:.1f} s"
    said = " | ".join(line.strip() for line in b.log if "qemu" in line or "error" in line.lower())
    return False, ("/dev/kvm opens but a test boot under KVM did not reach init"
                   + (f" in {KVM_CHECK_TIMEOUT:.0f} s" if b.timed_out else "")
                   + (f" (qemu: {said[:300]})" if said else ""))


def qemu_version(arch):
    if not shutil.which(ARCHES[arch]["qemu"]):
        raise VmError(f"{ARCHES[arch]['qemu']} not found: install "
                      f"{'qemu-system-x86' if arch == 'x86_64' else 'qemu-system-arm'}")
    _, out, _ = run_child([ARCHES[arch]["qemu"], "--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return out.splitlines()[0] if out else None
