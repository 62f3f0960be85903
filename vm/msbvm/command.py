# SPDX-License-Identifier: GPL-2.0-only
"""What msealbench vm and msealbench lava share as commands: option types checked as `msealbench
run` checks them, the options forwarded to the guest's run, kernels and suites from the command
line, the output directory check, and the comparison and plots that end a run."""
import argparse
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile

from .common import ARCHES, HOST_ARCH, VmError, run_child, say
from .image import Kernel
from .paths import plots_dir


def bounded(kind, low, high, what):
    """argparse type: a finite number of kind (int or float) from low to high, or an error
    saying so; checked here as `msealbench run` checks the options forwarded to it."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} from {low} to {high}")
        return value
    return parse


def memory_size(text):
    """qemu's -m: a whole number of MiB, or with a suffix K M G T; returned as 'NM'."""
    m = re.fullmatch(r"([0-9]{1,9})([KMGT]?)", text.upper())
    mib = int(m.group(1)) * {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024 ** 2}[m.group(2)] if m else 0
    if not 32 <= mib <= 256 * 1024 or mib != int(mib):
        raise argparse.ArgumentTypeError(f"{text!r} is not a memory size from 32M to 256G")
    return f"{int(mib)}M"


def seal_modes(text):
    modes = text.split(",")
    if not all(m in ("none", "sysmap", "all") for m in modes):
        raise argparse.ArgumentTypeError(f"{text!r}: seal modes are none, sysmap, all (comma-separated)")
    return text


def option_words(text):
    try:
        return shlex.split(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


def kernel_arguments(text):
    """--append: printable, and short enough that the whole command line fits the kernel's
    2048 bytes (COMMAND_LINE_SIZE on x86-64 and arm64) beside the arguments added here."""
    if len(text) > 1024 or not text.isprintable():
        raise argparse.ArgumentTypeError("kernel arguments must be printable and at most 1024 characters")
    return text


def output_dir(text):
    if not text:
        raise argparse.ArgumentTypeError("an empty path")
    return text


def parse_kernels(specs):
    kernels, labels = [], set()
    for spec in specs:
        label, eq, path = spec.partition("=")
        if not eq or not label or not path:
            raise VmError(f"--kernel {spec!r}: expected LABEL=PATH (e.g. plain=bzImage)")
        if not re.fullmatch(r"[A-Za-z0-9._+-]{1,64}", label):
            raise VmError(f"--kernel label {label[:80]!r}: use at most 64 letters, digits and . _ + -")
        if label in labels:
            raise VmError(f"--kernel label {label!r} given twice")
        labels.add(label)
        kernels.append(Kernel(label, path))
    return kernels


def parse_suites(specs):
    suites = {}
    for spec in specs:
        arch, eq, d = spec.partition("=")
        arch = {"aarch64": "arm64", "amd64": "x86_64"}.get(arch, arch)
        if not eq or arch not in ARCHES or not d:
            raise VmError(f"--suite {spec!r}: expected x86_64=DIR or arm64=DIR")
        suites[arch] = d
    return suites


def check_output_dir(out):
    """Create out if needed and prove a file can be made in it, before anything is built or booted."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise VmError(f"--out {out}: not a directory")
    try:
        os.makedirs(out, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".msealbench-vm-check.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise VmError(f"--out {out}: cannot write there: {e.strerror}"
                      + (f" ({e.filename})" if e.filename and e.filename != out else "")) from None




def check_filter(arch, suite, pattern):
    """A --filter the guest's `msealbench run` would refuse, refused here by the same program's
    `list` (when it runs on this machine) instead of after a boot."""
    if pattern is None or arch != HOST_ARCH:
        return
    status, _, _ = run_child([os.path.join(suite, "msealbench"), "list", "--filter", pattern],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if status == 2:
        raise VmError(f"--filter {pattern!r} matches no benchmark (see 'msealbench list')")


def add_run_options(p):
    """The options both commands forward to the guest's `msealbench run` or use around it."""
    p.add_argument("--kernel", action="append", required=True, metavar="LABEL=PATH",
                   help="a kernel image and its label (repeat; the first is the baseline)")
    p.add_argument("--filter", help="benchmarks to run (as msealbench run --filter)")
    p.add_argument("--seal", type=seal_modes, help="seal modes (as msealbench run --seal; default none,sysmap)")
    p.add_argument("--quick", action="store_true", help="msealbench run --quick")
    p.add_argument("--min-time", dest="min_time", type=bounded(float, 0.001, 86400, "a number of seconds"),
                   help="msealbench run --min-time SECONDS")
    p.add_argument("--repetitions", type=bounded(int, 1, 100000, "a whole number"),
                   help="msealbench run --repetitions N (rounds per boot)")
    p.add_argument("--events", help="msealbench run --events LIST|none")
    p.add_argument("--boots", type=bounded(int, 1, 1000, "a whole number"), default=2,
                   help="boots per kernel, A B A B ... (default 2, at most 1000)")


def add_output_options(p):
    p.add_argument("--suite", action="append", default=[], metavar="ARCH=DIR",
                   help="build directory of a static suite (msealbench, helpers/vm-init) for "
                        "x86_64 or arm64; default: built in the source tree")
    p.add_argument("--no-compare", action="store_true", help="skip the comparison and plots")
    p.add_argument("--no-plots", action="store_true", help="skip the plots")
    p.add_argument("--compare-args", type=option_words, default=[], metavar="ARGS",
                   help="more options for plots/compare.py, e.g. '--margin 5%%'")
    p.add_argument("--verbose", "-v", action="store_true", help="echo the guest console")


def compare_and_plot(kernels, out, args):
    pdir = plots_dir()
    compare = os.path.join(pdir, "compare.py")
    status = 0
    if not os.path.isfile(compare):
        say(f"no comparison: {compare} is missing")
        return 2
    base = os.path.join(out, f"{kernels[0].label}.json")
    for k in kernels[1:]:
        cand = os.path.join(out, f"{k.label}.json")
        cmd = [sys.executable, compare, "--allow-unmatched"] + args.compare_args + [base, cand]
        print(f"\n== {kernels[0].label} (baseline) vs {k.label}: {' '.join(map(shlex.quote, cmd[1:]))}",
              flush=True)
        returncode, _, _ = run_child(cmd)
        print(f"compare exit status {returncode}", flush=True)
        status = max(status, returncode)
    plot = os.path.join(pdir, "plot.py")
    if os.path.isfile(plot) and not args.no_plots:
        # Absolute: plot runs in out, and out may be relative (--out DIR, or ./results/vm-* installed).
        files = [os.path.abspath(os.path.join(out, f"{k.label}.json")) for k in kernels]
        cmd = [sys.executable, plot, "--out", os.path.abspath(os.path.join(out, "plots"))] + files
        returncode, _, _ = run_child(cmd, cwd=out)
        if returncode != 0:
            say(f"plots failed (exit {returncode}): {' '.join(cmd)}")
    return status
