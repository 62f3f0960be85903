#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The Debian package: dpkg-buildpackage -us -uc -b builds it offline from a copy of the checkout
(tools/deb.sh; the source tree is left as it was), lintian finds no error, dpkg installs it into a
scratch root, and the installed msealbench lists, probes, runs, compares, plots and finds its vm
suite as a normal user, writing nothing outside its directory."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from installed import exercise  # noqa: E402
from taplib import TOP, done, ok, skip  # noqa: E402

TOOLS = {"dpkg-buildpackage": "dpkg-dev", "dh": "debhelper", "git": "git"}


def tree_status():
    r = subprocess.run(["git", "-C", TOP, "status", "--porcelain", "--ignored", "--untracked-files=all"],
                       capture_output=True, text=True, timeout=60)
    return r.stdout if r.returncode == 0 else None


def host_arch():
    r = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, timeout=30)
    return r.stdout.strip()


def main():
    missing = [pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)]
    if missing:
        skip("the Debian package", f"needs {', '.join(missing)} (make deps-check installs them)")
        return done()
    if host_arch() not in ("amd64", "arm64"):
        skip("the Debian package", f"built for amd64 and arm64, not {host_arch()}")
        return done()
    deps = subprocess.run(["dpkg-checkbuilddeps"], cwd=TOP, capture_output=True, text=True, timeout=60)
    if deps.returncode != 0:
        skip("the Debian package", f"Build-Depends not installed: {deps.stderr.strip()[-200:]}")
        return done()
    work = tempfile.mkdtemp(prefix="msealbench-deb.", dir=os.environ.get("TMPDIR", "/tmp"))
    before = tree_status()
    start = time.monotonic()
    r = subprocess.run(["nice", "-n", "10", "sh", os.path.join(TOP, "tools", "deb.sh"), os.path.join(work, "out")],
                       capture_output=True, text=True, timeout=1200)
    print(f"# package built in {time.monotonic() - start:.0f} s")
    debs = [d for d in glob.glob(os.path.join(work, "out", "msealbench_*.deb"))]
    ok(r.returncode == 0 and len(debs) == 1, "dpkg-buildpackage -us -uc -b builds msealbench_*.deb", r.stderr[-800:])
    ok(tree_status() == before, "the build leaves the source tree as it was (it builds a copy)")
    if not debs:
        return done()
    deb = debs[0]
    if shutil.which("lintian"):
        r = subprocess.run(["lintian", "--tag-display-limit", "0", deb], capture_output=True, text=True, timeout=600)
        errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
        ok(not errors, "lintian reports no error", "; ".join(errors[:10]))
    else:
        skip("lintian reports no error", "lintian is not installed")

    # dpkg installs it into a root of its own: an empty database, dependencies not checked (the
    # scratch root has no libc6 or python3 package; the host's serve), and no maintainer script.
    root = os.path.join(work, "root")
    os.makedirs(os.path.join(root, "var", "lib", "dpkg", "updates"))
    os.makedirs(os.path.join(root, "var", "lib", "dpkg", "info"))
    open(os.path.join(root, "var", "lib", "dpkg", "status"), "w").close()
    r = subprocess.run(["dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless",
                        "--log=/dev/null", "-i", deb], capture_output=True, text=True, timeout=300)
    ok(r.returncode == 0, "dpkg --root=SCRATCH -i installs it", (r.stderr or r.stdout)[-500:])
    r = subprocess.run(["dpkg", f"--root={root}", "-s", "msealbench"], capture_output=True, text=True, timeout=60)
    ok("Status: install ok installed" in r.stdout, "dpkg lists msealbench as installed in the scratch root", r.stdout[-300:])
    prefix = os.path.join(root, "usr")
    for path in ("bin/msealbench", "share/man/man1/msealbench.1.gz", "share/doc/msealbench/copyright"):
        ok(os.path.isfile(os.path.join(prefix, path)), f"the package holds /usr/{path}")
    arch = "arm64" if host_arch() == "arm64" else "x86_64"
    exercise(prefix, work, "the package", arch)
    subprocess.run(["rm", "-rf", work])
    done()


if __name__ == "__main__":
    main()
