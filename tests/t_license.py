#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Licence: LICENSE holds the GPL-2.0 text, and every source file names it in an SPDX line near
its top (C, headers, python, shell, Makefiles, gnuplot scripts, the man page, "#!" scripts).

tools/spdx-add.sh adds the lines (a new file gets its line from it, or by hand); the tool itself
is checked on a copy."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, done, ok, skip  # noqa: E402

SPDX = "SPDX-License-Identifier: GPL-2.0-only"
SUFFIXES = (".c", ".h", ".py", ".sh", ".gp", ".1", ".mk")
HEAD_LINES = 5


def is_source(path):
    name = os.path.basename(path)
    if name.endswith(SUFFIXES) or name == "Makefile":
        return True
    with open(path, "rb") as f:
        return f.read(2) == b"#!"


def tracked_files(top):
    out = subprocess.run(["git", "-C", top, "ls-files", "-z"], capture_output=True, timeout=60)
    if out.returncode != 0:
        return None
    names = [n.decode() for n in out.stdout.split(b"\0") if n]
    return [n for n in names if os.path.isfile(os.path.join(top, n))
            and not os.path.islink(os.path.join(top, n))]


def lacking_spdx(top, names):
    missing = []
    for name in names:
        if not is_source(os.path.join(top, name)):
            continue
        with open(os.path.join(top, name), encoding="utf-8", errors="replace") as f:
            head = [f.readline() for _ in range(HEAD_LINES)]
        if not any(SPDX in line for line in head):
            missing.append(name)
    return missing


def test_license_file():
    path = os.path.join(TOP, "LICENSE")
    text = open(path).read() if os.path.isfile(path) else ""
    ok("GNU GENERAL PUBLIC LICENSE" in text and "Version 2, June 1991" in text,
       "LICENSE holds the GNU GPL version 2 text")


def test_tool_on_a_copy(names):
    """spdx-add.sh on a copy of the tree: every source file gets the line, "#!" stays first,
    python still compiles, a second run changes nothing, and data files are left alone."""
    with tempfile.TemporaryDirectory(prefix="msealbench-spdx.") as copy:
        for name in names:
            os.makedirs(os.path.join(copy, os.path.dirname(name)), exist_ok=True)
            shutil.copy2(os.path.join(TOP, name), os.path.join(copy, name))
        subprocess.run(["git", "init", "-q", copy], check=True, timeout=60)
        subprocess.run(["git", "-C", copy, "add", "-A"], check=True, timeout=60)
        tool = os.path.join(copy, "tools", "spdx-add.sh")
        first = subprocess.run(["sh", tool], capture_output=True, text=True, timeout=120)
        ok(first.returncode == 0, "tools/spdx-add.sh runs", first.stderr[-300:])
        missing = lacking_spdx(copy, names)
        ok(not missing, "after tools/spdx-add.sh every source file has the SPDX line",
           ", ".join(missing[:10]))
        lost = [n for n in names if open(os.path.join(TOP, n), "rb").read(2) == b"#!"
                and open(os.path.join(copy, n), "rb").read(2) != b"#!"]
        ok(not lost, "the \"#!\" line stays first", ", ".join(lost[:10]))
        broken = []
        for n in names:
            if n.endswith(".py") or open(os.path.join(copy, n), "rb").readline().startswith(b"#!/usr/bin/env python3"):
                try:
                    compile(open(os.path.join(copy, n)).read(), n, "exec")
                except SyntaxError as e:
                    broken.append(f"{n}: {e}")
        ok(not broken, "python files still compile with the line added", "; ".join(broken[:5]))
        data = [n for n in names if not is_source(os.path.join(TOP, n))
                and open(os.path.join(TOP, n), "rb").read() != open(os.path.join(copy, n), "rb").read()]
        ok(not data, "data files (json, markdown, images) are left alone", ", ".join(data[:10]))
        changed = subprocess.run(["git", "-C", copy, "add", "-A"], timeout=60)
        second = subprocess.run(["sh", tool], capture_output=True, text=True, timeout=120)
        diff = subprocess.run(["git", "-C", copy, "diff", "--name-only"], capture_output=True,
                              text=True, timeout=60)
        ok(changed.returncode == 0 and second.returncode == 0 and not diff.stdout.strip()
           and "added the SPDX line to 0 file(s)" in second.stdout,
           "a second run of tools/spdx-add.sh changes nothing", diff.stdout[:300] + second.stdout[-200:])


def test_tree(names):
    missing = lacking_spdx(TOP, names)
    ok(not missing, "every source file has an SPDX-License-Identifier line in its first "
       f"{HEAD_LINES} lines", ", ".join(missing[:20]))


def main():
    test_license_file()
    names = tracked_files(TOP)
    if names is None:
        skip("SPDX lines and tools/spdx-add.sh", "not a git checkout")
        return done()
    test_tool_on_a_copy(names)
    test_tree(names)
    done()


if __name__ == "__main__":
    main()
