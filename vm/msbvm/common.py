# SPDX-License-Identifier: GPL-2.0-only
"""What every part of msealbench vm shares: its name, its errors, the architectures it boots,
and the children and files of msb.cli."""
import os
import sys

from msb import cli as msbcli
from msb.cli import run_child as _run_child

PROG = "msealbench vm"

HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    os.uname().machine, os.uname().machine)

ARCHES = {
    "x86_64": {
        "qemu": "qemu-system-x86_64",
        "machine": ["-M", "pc"],
        "cpu": {"tcg": "max", "kvm": "host"},
        "console": "ttyS0",
        "elf_machine": 62,
        "uname": "x86_64",
    },
    "arm64": {
        "qemu": "qemu-system-aarch64",
        "machine": ["-M", "virt"],
        "cpu": {"tcg": "max,pauth-impdef=on", "kvm": "host"},
        "console": "ttyAMA0",
        "elf_machine": 183,
        "uname": "aarch64",
    },
}

TCG_NOTE = ("TCG: the kernels ran under emulation; timings are emulation timings, comparable only "
            "with each other. Between two kernel builds, paths neither build changed have differed "
            "by up to about 10% under TCG (code layout): treat cross-kernel differences of that size "
            "as unattributable and settle small effects with KVM or real hardware.")
KVM_CHECK_TIMEOUT = 20.0


class VmError(msbcli.Failure):
    """A failure with a message for the user; exit status attached (2 unless given)."""


def say(text):
    print(f"{PROG}: {text}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ children and files

def run_child(cmd, **kw):
    """msbcli.run_child: (exit status, stdout, stderr) (None when not piped)."""
    p = _run_child(cmd, **kw)
    return p.returncode, p.stdout, p.stderr


write_file = msbcli.write_file
write_error = msbcli.write_error
