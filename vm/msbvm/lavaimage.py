# SPDX-License-Identifier: GPL-2.0-only
"""What a LAVA job of msealbench boots and where: busybox-static for the guest's architecture
(Debian's package; another architecture's fetched with apt-get download through a private APT
state, never changing the system's architectures), the ramdisk (the suite of msealbench vm's
initramfs, busybox, lava/ramdisk-init as /init, lava/lava-steps.sh), and the qemu device YAML
rendered from lava-server's device-type templates (its .deb unpacked into the cache, never
installed) with python3-jinja2."""
import os
import shutil
import subprocess

from .common import HOST_ARCH, VmError, run_child, say
from .image import elf_info, ARCHES
from .initramfs import build_initramfs
from .paths import HERE, source_top

DEB_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
LAVA_CONTEXT_ARCH = DEB_ARCH          # what the qemu device type calls them
PROMPT = "msealbench-lava# "


def lava_dir():
    """lava/ of the source tree, or of the installation (PREFIX/share/msealbench/lava)."""
    top = source_top()
    if top:
        return os.path.join(top, "lava")
    return os.path.join(os.path.dirname(HERE), "lava")   # HERE is PREFIX/share/msealbench/vm


def default_cache():
    top = source_top()
    if top:
        return os.path.join(top, "build-lava")
    return os.path.join(os.environ.get("TMPDIR", "/tmp"), "msealbench-lava-cache")


def apt(args, cache, arch=None, what="", cwd=None):
    """apt-get with its lists, cache and (empty) dpkg status under cache/apt-<arch>: Debian's
    packages of another architecture without touching the system's APT or dpkg state."""
    cmd = ["apt-get", "-q"]
    if arch:
        state = os.path.join(cache, f"apt-{arch}")
        for d in ("lists/partial", "cache/archives/partial"):
            os.makedirs(os.path.join(state, d), exist_ok=True)
        status = os.path.join(state, "status")
        if not os.path.exists(status):
            open(status, "w").close()
        cmd += ["-o", f"Dir::State::Lists={state}/lists", "-o", f"Dir::Cache={state}/cache",
                "-o", f"Dir::State::status={status}", "-o", f"APT::Architecture={DEB_ARCH[arch]}",
                "-o", f"APT::Architectures::={DEB_ARCH[arch]}"]
    status, out, _ = run_child(cmd + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=cwd or cache)
    if status != 0:
        raise VmError(f"apt-get {' '.join(args)} failed{what}: {out.strip()[-600:]}")


def debian_package(package, cache, arch=None):
    """The unpacked files of Debian's package (arch: of another architecture) under cache:
    apt-get download, then dpkg -x. Kept: a second run reuses them."""
    name = f"{package}-{DEB_ARCH[arch]}" if arch else package
    root = os.path.join(cache, name)
    if os.path.isdir(root):
        return root
    os.makedirs(cache, exist_ok=True)
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise VmError(f"{package}: apt-get and dpkg are needed to fetch it (Debian's package)")
    if arch:
        private_lists(cache, arch)
    download = os.path.join(cache, f"{name}.download")
    shutil.rmtree(download, ignore_errors=True)
    os.makedirs(download)
    say(f"fetching Debian's {package}{':' + DEB_ARCH[arch] if arch else ''} into {cache}/")
    try:
        apt(["download", package], cache, arch, cwd=download)
    except VmError:
        if arch:
            raise
        # the system's package lists may be missing or stale: the host's, fetched into the cache
        private_lists(cache, HOST_ARCH)
        apt(["download", package], cache, HOST_ARCH, cwd=download)
    debs = [f for f in os.listdir(download) if f.endswith(".deb")]
    if len(debs) != 1:
        raise VmError(f"apt-get download {package}: expected one .deb in {download}, got {debs}")
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    status, out, _ = run_child(["dpkg", "-x", os.path.join(download, debs[0]), tmp],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if status != 0:
        raise VmError(f"dpkg -x {debs[0]}: {out.strip()[-300:]}")
    os.rename(tmp, root)
    return root


def private_lists(cache, arch):
    """Debian's package lists of arch in cache/apt-<arch>/ (fetched once)."""
    lists = os.path.join(cache, f"apt-{arch}", "lists")
    if not any(n.endswith("_Packages") for n in (os.listdir(lists) if os.path.isdir(lists) else [])):
        say(f"fetching Debian's {DEB_ARCH[arch]} package lists into {cache}/apt-{arch}/")
        apt(["update"], cache, arch)


def busybox(arch, cache):
    """A static busybox for arch: the host's /bin/busybox (busybox-static) when it is one,
    else Debian's busybox-static of that architecture."""
    want = ARCHES[arch]["elf_machine"]
    host = os.path.realpath("/bin/busybox")
    info = elf_info(host)
    if arch == HOST_ARCH and info and info[0] == want and not info[1]:
        return host
    path = os.path.join(debian_package("busybox-static", cache, arch), "bin", "busybox")
    info = elf_info(path)
    if not info or info[0] != want or info[1]:
        raise VmError(f"{path}: not a static {arch} busybox")
    return path


def build_ramdisk(suite_files, busybox_path):
    """The ramdisk: msealbench vm's suite (its init program as /msb/helpers/vm-init, which the
    guest steps send files with), busybox as /bin/sh, lava/ramdisk-init as /init. The same
    inputs give the same bytes (initramfs.cpio_newc)."""
    files = dict(suite_files)
    files["msb/helpers/vm-init"] = files.pop("init")
    here = lava_dir()
    files["init"] = os.path.join(here, "ramdisk-init")
    files["msb/lava-steps"] = os.path.join(here, "lava-steps.sh")
    files["bin/busybox"] = busybox_path
    return build_initramfs(files, None, links={"bin/sh": "busybox"})


# ------------------------------------------------------------------ device

def device_type_templates(cache):
    """lava-server's device-types/ (qemu.jinja2, base.jinja2, ...), from its .deb."""
    root = debian_package("lava-server", cache)
    d = os.path.join(root, "usr", "share", "lava-server", "device-types")
    if not os.path.isfile(os.path.join(d, "qemu.jinja2")):
        raise VmError(f"{d}/qemu.jinja2 missing from the lava-server package")
    return d


def device_dictionary(arch, memory_mib):
    """A device dictionary for the qemu device type: TCG (no_kvm), the CPU and machine
    msealbench vm boots with."""
    lines = ["{% extends 'qemu.jinja2' %}", "{% set no_kvm = True %}",
             f"{{% set memory = {memory_mib} %}}"]
    if arch == "arm64":
        lines += ["{% set machine = 'virt' %}", "{% set cpu = 'max,pauth-impdef=on' %}"]
    else:
        lines += ["{% set extra_options = ['-cpu max'] %}"]
    return "\n".join(lines) + "\n"


def render(templates, name, text, **context):
    """A jinja2 template (text, or the file name in templates) rendered with context."""
    try:
        import jinja2
    except ImportError:
        raise VmError("python3-jinja2 is missing (apt-get install python3-jinja2; run with "
                      "/usr/bin/python3)") from None
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=False,
                             trim_blocks=True, undefined=jinja2.StrictUndefined
                             if text is None else jinja2.Undefined)
    template = env.from_string(text) if text is not None else env.get_template(name)
    try:
        return template.render(**context)
    except jinja2.TemplateError as e:
        raise VmError(f"rendering {name}: {e}") from None


def device_yaml(arch, memory_mib, cache):
    return render([device_type_templates(cache)], "device dictionary",
                  device_dictionary(arch, memory_mib), arch=LAVA_CONTEXT_ARCH[arch])
