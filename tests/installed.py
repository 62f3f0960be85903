# SPDX-License-Identifier: GPL-2.0-only
"""Checks of an installed msealbench (make install, or the Debian package unpacked), shared by
t_install.py and t_deb.py: as a normal user, in a scratch directory it owns, the tool runs,
compares, plots and finds its vm suite, writing nothing outside that directory."""
import glob
import os
import shutil
import subprocess
import time

from taplib import ok, skip

NOBODY = 65534
# Where a user process may create files besides its own directory: what it wrote there, as
# nobody, after the start of the check, is a file written outside the current directory.
WRITABLE_PLACES = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def can_switch_user():
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def make_scratch(parent):
    """A directory nobody owns (or the caller, when it cannot switch), reachable through parent."""
    os.chmod(parent, 0o755)
    scratch = os.path.join(parent, "work")
    os.mkdir(scratch)
    if can_switch_user():
        os.chown(scratch, NOBODY, NOBODY)
    return scratch


def tree_state(root):
    """{path: (size, mtime, mode)} of every file under root: to prove an install tree unchanged."""
    state = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            st = os.lstat(os.path.join(d, name))
            state[os.path.join(d, name)] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return state


def files_written_by_nobody_outside(scratch, since):
    found = []
    for place in WRITABLE_PLACES:
        if not os.path.isdir(place):
            continue
        for d, dirs, files in os.walk(place):
            if os.path.commonpath([d, scratch]) == scratch:
                dirs[:] = []
                continue
            for name in dirs + files:
                path = os.path.join(d, name)
                if os.path.commonpath([path, scratch]) == scratch:
                    continue
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if st.st_uid == NOBODY and st.st_mtime >= since:
                    found.append(path)
    return found


class User:
    """Runs commands of the installed tree as nobody (when root) in scratch, with a plain PATH and
    HOME and TMPDIR inside scratch."""

    def __init__(self, exe, scratch):
        self.exe, self.scratch = exe, scratch
        tmp = os.path.join(scratch, "tmp")
        os.mkdir(tmp)
        if can_switch_user():
            os.chown(tmp, NOBODY, NOBODY)
        self.env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": tmp,
                    "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}

    def run(self, *args, timeout=300):
        cmd = [self.exe] + list(args)
        if can_switch_user():
            cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] + cmd
        return subprocess.run(cmd, cwd=self.scratch, env=self.env, capture_output=True, text=True,
                              timeout=timeout)


def fake_bzimage(path):
    """A file with the bzImage header magic: enough for vm to pick the x86-64 suite and check it
    before it would boot anything."""
    with open(path, "wb") as f:
        f.write(b"\0" * 0x202 + b"HdrS" + b"\0" * 0x100)
    os.chmod(path, 0o644)


def boot_two_kernels(user, what, kernels):
    """vm with the test kernels (plain and sealed x86-64: two quick boots, about 15 s under TCG)."""
    images = [os.path.join(kernels, f"x86_64-{k}.bzImage") for k in ("plain", "sealed")]
    if not all(os.path.isfile(i) for i in images) or not shutil.which("qemu-system-x86_64"):
        skip(f"{what}: vm boots two kernels with the installed suite",
             f"no {images[0]} or no qemu-system-x86_64 (set MSEALBENCH_KERNELS to the kernels' directory)")
        return
    args = []
    for label, image in zip(("plain", "sealed"), images):
        copy = os.path.join(user.scratch, os.path.basename(image))   # readable by nobody
        shutil.copyfile(image, copy)
        os.chmod(copy, 0o644)
        args += ["--kernel", f"{label}={os.path.basename(image)}"]
    # noapic: on a loaded host, TCG's slow IO-APIC timer check can panic the guest at boot; this
    # test is about the installed paths, not the guest's interrupt controller.
    r = user.run("vm", *args, "--quick", "--filter", "harness.empty", "--boots", "1", "--accel", "tcg",
                 "--append", "noapic",
                 "--compare-args", "--bootstrap 200", "--out", "vm-run", timeout=600)
    out = os.path.join(user.scratch, "vm-run")
    ok(r.returncode in (0, 1) and os.path.isfile(os.path.join(out, "sealed.json"))
       and glob.glob(os.path.join(out, "plots", "*.png")),
       f"{what}: vm boots two kernels with the installed suite, compares and plots them",
       f"exit {r.returncode}: {(r.stderr or r.stdout)[-500:]}")


def exercise(prefix, workdir, what, arch, kernels=None):
    """The user's round trip with PREFIX/bin/msealbench in a new directory of workdir (which must
    hold prefix, so that nobody can reach it); every check is one TAP line. With kernels (the
    directory of the test kernels) vm boots them too."""
    exe = os.path.join(prefix, "bin", "msealbench")
    scratch = make_scratch(workdir)
    user = User(exe, scratch)
    install_before = tree_state(prefix)
    since = time.time() - 1
    who = "nobody" if can_switch_user() else "this user"

    r = user.run("list")
    ok(r.returncode == 0 and "harness.empty" in r.stdout, f"{what}: msealbench list as {who}", r.stderr[-300:])
    r = user.run("probe")
    ok(r.returncode in (0, 4) and "TAP version" in r.stdout, f"{what}: msealbench probe (0, or 4: no mseal)",
       f"exit {r.returncode}: {r.stderr[-300:]}")
    r = user.run("run", "--quick", "--filter", "harness.empty", "--quiet")
    runs = glob.glob(os.path.join(scratch, "results", "*.json"))
    ok(r.returncode == 0 and len(runs) == 1, f"{what}: a quick run writes ./results/",
       f"exit {r.returncode}: {r.stderr[-300:]}")
    r = user.run("compare")
    ok(r.returncode in (0, 1) and "harness.empty" in r.stdout,
       f"{what}: compare without arguments reads the newest run of ./results/", f"exit {r.returncode}: {r.stderr[-300:]}")
    if shutil.which("gnuplot"):
        r = user.run("plot")
        pngs = glob.glob(os.path.join(scratch, "plots", "out", "*.png"))
        ok(r.returncode == 0 and pngs, f"{what}: plot draws into ./plots/out/", f"exit {r.returncode}: {r.stderr[-300:]}")
    else:
        skip(f"{what}: plot draws into ./plots/out/", "gnuplot is not installed")
    r = user.run("vm", "--help")
    ok(r.returncode == 0 and "--kernel" in r.stdout, f"{what}: vm --help", r.stderr[-300:])
    kernel = os.path.join(scratch, "bzImage")
    fake_bzimage(kernel)
    r = user.run("vm", "--kernel", f"a={kernel}", "--filter", "no-such-benchmark", "--out", "vm-out")
    if arch == "x86_64":
        ok(r.returncode == 2 and "no-such-benchmark" in r.stderr and "--suite" not in r.stderr,
           f"{what}: vm finds the installed static suite without --suite (and checks --filter with it)",
           f"exit {r.returncode}: {r.stderr[-300:]}")
    else:
        skip(f"{what}: vm finds the installed static suite", f"the suite here is {arch}, the test image x86-64")
    if kernels and arch == "x86_64":
        boot_two_kernels(user, what, kernels)
    ok(tree_state(prefix) == install_before, f"{what}: nothing in the installed tree changed")
    outside = files_written_by_nobody_outside(scratch, since) if can_switch_user() else []
    if can_switch_user():
        ok(not outside, f"{what}: nothing written outside the current directory ({', '.join(WRITABLE_PLACES)} checked)",
           ", ".join(outside[:10]))
    else:
        skip(f"{what}: nothing written outside the current directory", "needs root and setpriv to run as nobody")
    return scratch
