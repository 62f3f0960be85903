# SPDX-License-Identifier: GPL-2.0-only
"""Kernel images and the suite that goes into the initramfs: architecture from the image
header, ELF reading, the dynamic runtime of dynamically linked helpers, building the static suite."""
import hashlib
import os
import subprocess

from msb.elf import elf_dynamic, elf_info

from .common import ARCHES, HOST_ARCH, VmError, run_child, say
from .paths import installed_suite, source_top


def kernel_arch(path):
    """'x86_64' for a bzImage (HdrS at 0x202), 'arm64' for an arm64 Image (ARM\\x64 at 0x38)."""
    if os.path.exists(path) and not os.path.isfile(path):
        raise VmError(f"kernel image {path} is not a regular file")
    try:
        with open(path, "rb") as f:
            head = f.read(0x240)
    except OSError as e:
        raise VmError(f"kernel image {path}: {e.strerror}") from None
    if len(head) >= 0x206 and head[0x202:0x206] == b"HdrS":
        return "x86_64"
    if len(head) >= 0x3c and head[0x38:0x3c] == b"ARM\x64":
        return "arm64"
    if head[:2] == b"\x1f\x8b":
        raise VmError(f"kernel image {path} is gzip-compressed: decompress it (zcat {path} > Image)")
    if head[:4] == b"\x7fELF":
        raise VmError(f"kernel image {path} is an ELF file (vmlinux?): give the bzImage "
                      "(arch/x86/boot/bzImage) or arm64 Image (arch/arm64/boot/Image)")
    raise VmError(f"kernel image {path} is neither an x86-64 bzImage (no 'HdrS' at 0x202) nor "
                  "an arm64 Image (no 'ARM\\x64' at 0x38)")


LIBRARY_DIRS = {
    "x86_64": ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"],
    "arm64": ["/usr/aarch64-linux-gnu/lib", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"],
}
GUEST_LIBRARY_DIR = {"x86_64": "lib/x86_64-linux-gnu", "arm64": "lib/aarch64-linux-gnu"}


def dynamic_runtime(arch, programs):
    """{guest path: host path} of the dynamic loader and libraries the programs need, found in
    the host's (or the cross toolchain's) library directories; None if one is missing."""
    files, todo = {}, list(programs)
    while todo:
        interp, needed = elf_dynamic(todo.pop())
        if interp and interp.lstrip("/") not in files:
            host = interp if arch == HOST_ARCH else os.path.join(LIBRARY_DIRS[arch][0],
                                                                os.path.basename(interp))
            if not os.path.isfile(host):
                return None
            files[interp.lstrip("/")] = os.path.realpath(host)
        for name in needed:
            guest = f"{GUEST_LIBRARY_DIR[arch]}/{name}"
            if guest in files:
                continue
            host = next((os.path.join(d, name) for d in LIBRARY_DIRS[arch]
                         if os.path.isfile(os.path.join(d, name))), None)
            if not host:
                return None
            files[guest] = os.path.realpath(host)
            todo.append(host)
    return files


def build_suite(arch):
    """Build the static suite for arch in the source tree, or find the installed one; return its
    directory."""
    top = source_top()
    if not top:
        if installed_suite(arch):
            return installed_suite(arch)
        raise VmError(f"no static {arch} suite installed: pass --suite {arch}=DIR (a build directory "
                      "holding a static msealbench and helpers/)")
    if arch == HOST_ARCH:
        build, cmd = "build-static", ["make", "-s", "-C", top, "static"]
    elif arch == "arm64":
        build, cmd = "build-arm64", ["make", "-s", "-C", top, "ARCH=arm64"]
    else:
        raise VmError(f"cannot cross-build an {arch} suite on {HOST_ARCH}: pass --suite {arch}=DIR")
    say(f"building the static {arch} suite: make {' '.join(cmd[4:])} -> {build}/")
    status, out, _ = run_child(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if status != 0:
        raise VmError(f"building the {arch} suite failed ({' '.join(cmd)}):\n{out[-3000:]}")
    return os.path.join(top, build)


def check_suite(arch, build):
    """The files of a suite directory that go into the initramfs: {guest path: host path}."""
    files = {}
    want = ARCHES[arch]["elf_machine"]

    def static_program(path, what):
        info = elf_info(path)
        if not info:
            raise VmError(f"{what} {path}: missing or not a 64-bit ELF program "
                          f"(build it: {'make static' if arch == HOST_ARCH else 'make ARCH=arm64'})")
        if info[0] != want:
            raise VmError(f"{what} {path} is not an {arch} program (ELF machine {info[0]})")
        return not info[1]

    exe = os.path.join(build, "msealbench")
    if not static_program(exe, "msealbench"):
        raise VmError(f"{exe} is dynamically linked; the initramfs has no libc: build it static "
                      "(make static, or make STATIC=1 BUILD=DIR)")
    init = os.path.join(build, "helpers", "vm-init")
    if not static_program(init, "init program"):
        raise VmError(f"{init} is dynamically linked; it must be static")
    files["init"] = init
    files["msb/msealbench"] = exe
    helpers = os.path.join(build, "helpers")
    skipped, dynamic = [], []
    for name in sorted(os.listdir(helpers)):
        path = os.path.join(helpers, name)
        if name == "vm-init" or not os.path.isfile(path) or not os.access(path, os.X_OK):
            continue
        info = elf_info(path)
        if info and info[0] == want and not info[1]:
            files[f"msb/helpers/{name}"] = path
        elif info and info[0] == want and info[1]:
            dynamic.append(path)
    runtime = dynamic_runtime(arch, dynamic) if dynamic else {}
    if runtime is None:
        skipped = [os.path.basename(p) for p in dynamic]
    else:
        files.update(runtime)
        files.update({f"msb/helpers/{os.path.basename(p)}": p for p in dynamic})
    if skipped:
        say(f"{arch}: dynamically linked helpers left out of the initramfs (their libraries "
            f"were not found in {', '.join(LIBRARY_DIRS[arch])}): "
            f"{', '.join(skipped)}; benchmarks that exec them fail or skip in the guest")
    return files


class Kernel:
    def __init__(self, label, path):
        self.label, self.path = label, os.path.abspath(path)
        self.arch = kernel_arch(path)
        with open(path, "rb") as f:
            self.sha256 = hashlib.sha256(f.read()).hexdigest()
        self.boots = []          # (Boot, info dict)
        self.runs = []           # (boot number, results dict)
        self.initrd = None
        self.accel = None
