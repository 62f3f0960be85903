#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""make install DESTDIR=... PREFIX=/usr installs one tool: the binary, helpers, the static suite
for vm, the man page and the directory of every script that src/cmd_script.c names; run as a
normal user in a directory of its own it lists, probes, runs, compares, plots and finds its vm
suite, writing nothing outside that directory."""
import os
import platform
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from installed import exercise  # noqa: E402
from taplib import TOP, done, ok  # noqa: E402

KERNELS = os.environ.get("MSEALBENCH_KERNELS", os.path.join(os.path.dirname(TOP), "shared", "kernels"))
ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def script_rows():
    """(name, in_tree, installed) of src/cmd_script.c's table, paths relative to bin/."""
    text = open(os.path.join(TOP, "src", "cmd_script.c")).read()
    return re.findall(r'\{\s*"([^"]+)",\s*"\.\./([^"]+)",\s*"\.\./([^"]+)"\s*\}', text)


def main():
    work = tempfile.mkdtemp(prefix="msealbench-install.", dir=os.environ.get("TMPDIR", "/tmp"))
    stage = os.path.join(work, "stage")
    r = subprocess.run(["nice", "-n", "10", "make", "-s", "-C", TOP, "install", f"DESTDIR={stage}", "PREFIX=/usr"],
                       capture_output=True, text=True, timeout=900)
    ok(r.returncode == 0, "make install DESTDIR=... PREFIX=/usr", r.stderr[-500:])
    prefix = os.path.join(stage, "usr")
    for path in ("bin/msealbench", "share/man/man1/msealbench.1", "share/msealbench/schema-v1.json",
                 f"libexec/msealbench/suite-{ARCH}/msealbench", f"libexec/msealbench/suite-{ARCH}/helpers/vm-init",
                 "libexec/msealbench/exec_report"):
        ok(os.path.isfile(os.path.join(prefix, path)), f"installed: {path}")
    rows = script_rows()
    ok(len(rows) >= 4, "src/cmd_script.c's rows are read", str(rows))
    for name, in_tree, installed in rows:
        target = os.path.join(prefix, installed)
        ok(os.access(target, os.X_OK), f"'{name}': its script is installed at PREFIX/{installed}, executable")
        src_dir, dst_dir = os.path.join(TOP, os.path.dirname(in_tree)), os.path.dirname(target)
        missing = []
        for d, dirs, files in os.walk(src_dir):
            dirs[:] = [x for x in dirs if x not in ("__pycache__", "out", "examples")]
            missing += [os.path.relpath(os.path.join(d, f), src_dir) for f in files
                        if f.endswith(".py") and not os.path.exists(os.path.join(dst_dir, os.path.relpath(d, src_dir), f))]
        ok(not missing, f"'{name}': the modules beside its script are installed with it", ", ".join(missing[:10]))
    scratch = exercise(prefix, work, "installed", ARCH, KERNELS)
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); from msb import paths; "
             "print(paths.runner()); print(paths.work_path('results'))")
    r = subprocess.run(["/usr/bin/python3", "-B", "-c", probe, os.path.join(prefix, "share", "msealbench", "plots")],
                       capture_output=True, text=True, timeout=60)
    ok(r.stdout.split() == [os.path.join(prefix, "bin", "msealbench"), os.path.join(".", "results")],
       "installed, validate's runner is PREFIX/bin/msealbench and results/ is the current directory's",
       r.stdout + r.stderr[-300:])
    # This user (root, usually) may write under PREFIX: python still must not leave __pycache__ there.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    r = subprocess.run([os.path.join(prefix, "bin", "msealbench"), "compare", "--bootstrap", "100"], cwd=scratch,
                       env=env, capture_output=True, text=True, timeout=300)
    caches = [d for d, _, _ in os.walk(prefix) if os.path.basename(d) == "__pycache__"]
    ok(r.returncode in (0, 1) and not caches, "an installed command run by this user leaves no __pycache__ under PREFIX",
       f"exit {r.returncode}: {r.stderr[-200:]} {caches}")
    subprocess.run(["rm", "-rf", work])
    done()


if __name__ == "__main__":
    main()
