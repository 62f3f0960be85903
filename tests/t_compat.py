#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench vm --compat and program lists: host programs packed with their loader and libraries
run in the plain and the sealed test kernels of ../shared/kernels (MSEALBENCH_KERNELS overrides);
the vDSO remapper moves its vDSO on the plain kernel and gets EPERM on the sealed one, strace
tracing a program behaves alike in both; the same list runs through try on the host; list errors
are one line, exit 2. Kernel boots are skipped with a reason where the kernels or qemu are missing
(TCG: a few seconds a boot here)."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

from taplib import MSEALBENCH, TOP, done, ok, skip

KERNELS = os.environ.get("MSEALBENCH_KERNELS", os.path.join(os.path.dirname(TOP), "shared", "kernels"))
sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import compat  # noqa: E402

tmp = tempfile.mkdtemp(prefix="msealbench-t-compat.")
atexit.register(shutil.rmtree, tmp, True)


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def unit_tests():
    same = compat.Outcome(0, None, b"a\n==12== at 0x7f0011223344\n", b"")
    other = compat.Outcome(0, None, b"a\n==99== at 0x7f5566778899\n", b"")
    ok(compat.differences(same, other) == [], "outputs differing only in addresses and Valgrind pids are alike")
    diffs = compat.differences(compat.Outcome(0, None, b"moved\n", b""),
                               compat.Outcome(None, 11, b"", b"oops\n"))
    ok([d["what"] for d in diffs] == ["ending", "stdout", "stderr"] and diffs[0]["sealed"] == "signal 11 (SIGSEGV)"
       and diffs[1]["line"] == 1 and diffs[1]["sealed"] is None,
       "a signal and the first differing lines of stdout and stderr are reported", json.dumps(diffs))
    listed = compat.read_list(write("good.list", "# c\nrun one {helpers}/x 'a b'\nfile one /etc/hostname\n"), "/H")
    ok(len(listed) == 1 and listed[0].argv == ["/H/x", "a b"] and listed[0].files == ["/etc/hostname"],
       "a list: run and file lines, {helpers} expanded, shell quoting", str(listed))
    for text, what in (("fly one /bin/true\n", "an unknown keyword"), ("file one /x\n", "file before run"),
                       ("run a /bin/true\nrun a /bin/true\n", "a name twice"), ("# nothing\n", "no program")):
        r = subprocess.run([MSEALBENCH, "try", "--list", write("bad.list", text)], capture_output=True, text=True)
        ok(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "bad.list" in r.stderr,
           f"a list with {what}: one line naming the file, exit 2", f"exit {r.returncode}: {r.stderr[-300:]}")


def guest_mount_test():
    """A program in a directory the guest mounts over (its /tmp: a checkout in $TMPDIR) is packed
    under /host, and its command line follows it."""
    sys.path.insert(0, os.path.join(TOP, "vm"))
    from msbvm import compat as vmcompat
    helper = os.path.join(TOP, "build", "helpers", "exit_now")
    if not os.path.isfile(helper):
        skip("programs in the guest's mounted directories go under /host", "build/helpers/exit_now is not built")
        return
    copy = os.path.join(tmp, "exit_now")
    shutil.copy(helper, copy)
    first = copy.lstrip("/").split("/")[0] + "/"
    saved = vmcompat.GUEST_MOUNTS
    vmcompat.GUEST_MOUNTS = (first,)   # as if the guest mounted over where $TMPDIR is
    try:
        files, argv = vmcompat.pack_program(compat.Program("x", [copy, copy], []), "x86_64")
    finally:
        vmcompat.GUEST_MOUNTS = saved
    ok(files and "host/" + copy.lstrip("/") in files and copy.lstrip("/") not in files
       and argv == ["/host" + copy] * 2,
       "a program in a directory the guest mounts over is packed under /host, its arguments follow",
       f"{sorted(files or {})[:3]} {argv}")


def test_list():
    lines = ["run vdso-remap {helpers}/vdso_remap_dynamic"]
    if shutil.which("strace"):
        lines.append("run strace strace -f -qq -e trace=exit_group {helpers}/exit_now_dynamic")
    return write("test.list", "\n".join(lines) + "\n")


def host_try(listfile):
    out = os.path.join(tmp, "try.json")
    r = subprocess.run([MSEALBENCH, "try", "--runs", "2", "--json", out, "--list", listfile],
                       capture_output=True, text=True, timeout=300)
    try:
        data = json.load(open(out, encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    remap = next((p for p in data.get("programs", []) if p["name"] == "vdso-remap"), {})
    ok(r.returncode == 1 and remap.get("status") == "differs", "the list through try on the host: the vDSO "
       "remapper differs sealed (exit 1)", f"exit {r.returncode}: {(r.stdout + r.stderr)[-500:]}")


def kernel_pair(arch, plain, sealed, args, expect_strace):
    out = os.path.join(tmp, arch)
    cmd = [MSEALBENCH, "vm", "--accel", "tcg", "--timeout", "240", "--out", out,
           "--kernel", f"plain={plain}", "--kernel", f"sealed={sealed}"] + args
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    try:
        data = json.load(open(os.path.join(out, "compat.json"), encoding="utf-8"))
    except (OSError, ValueError):
        ok(False, f"{arch}: vm --compat wrote compat.json", f"exit {r.returncode}: {r.stdout[-1500:]}")
        return
    ok(r.returncode == 1, f"{arch}: vm --compat exits 1 (a program behaves differently)",
       f"exit {r.returncode}: {r.stdout[-800:]}")
    config = {k["label"]: (k.get("config") or {}).get("CONFIG_MSEAL_SYSTEM_MAPPINGS") for k in data["kernels"]}
    ok(config == {"plain": "n", "sealed": "y"}, f"{arch}: the kernels' /proc/config.gz read back", str(config))
    programs = {p["name"]: p for p in data["programs"]}
    remap = next((p for name, p in programs.items() if "remap" in name), {})
    ok(remap.get("plain", {}).get("exit_status") == 0 and "moved" in remap.get("plain_stdout", ""),
       f"{arch} plain kernel: the program moves its vDSO as CRIU's restore does", json.dumps(remap)[:600])
    ok(remap.get("sealed", {}).get("exit_status") == 1 and "EPERM" in remap.get("sealed_stdout", "")
       and remap.get("status") == "differs",
       f"{arch} sealed kernel: the vDSO move is denied (EPERM), reported as a difference", json.dumps(remap)[:600])
    if expect_strace:
        s = programs.get("strace", {})
        ok(s.get("status") == "same" and "exit_group(0)" in s.get("plain_stderr", ""),
           f"{arch}: strace tracing a dynamic program (packed with its libraries) behaves alike in both",
           json.dumps(s)[:600])


def main():
    unit_tests()
    guest_mount_test()
    helpers = os.path.join(TOP, "build", "helpers", "vdso_remap_dynamic")
    if not os.path.isfile(helpers):
        skip("compat runs", f"{helpers} is not built (make)")
        done()
    listfile = test_list()
    host_try(listfile)
    x86 = [os.path.join(KERNELS, f"x86_64-{k}.bzImage") for k in ("plain", "sealed")]
    if not all(os.path.isfile(p) for p in x86):
        skip("x86_64 kernels: vm --compat", f"no test kernels in {KERNELS} (set MSEALBENCH_KERNELS)")
    elif not shutil.which("qemu-system-x86_64"):
        skip("x86_64 kernels: vm --compat", "no qemu-system-x86_64 (make deps-check installs it)")
    else:
        kernel_pair("x86_64", *x86, ["--compat-list", listfile], bool(shutil.which("strace")))
    arm = [os.path.join(KERNELS, f"arm64-{k}.Image") for k in ("plain", "sealed")]
    arm_remap = os.path.join(TOP, "build-arm64", "helpers", "vdso_remap_dynamic")
    if not all(os.path.isfile(p) for p in arm):
        skip("arm64 kernels: vm --compat", f"no test kernels in {KERNELS}")
    elif not shutil.which("qemu-system-aarch64") or not os.path.isfile(arm_remap):
        skip("arm64 kernels: vm --compat", "no qemu-system-aarch64 or no arm64 build (make ARCH=arm64)")
    else:
        kernel_pair("arm64", *arm, ["--compat", arm_remap], False)
    done()


if __name__ == "__main__":
    main()
