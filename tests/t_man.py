#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The man page src/msealbench.1 documents every command `msealbench help` lists and every
MSEALBENCH_* variable the code reads, and groff renders it without a warning."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, TOP, done, ok, skip  # noqa: E402

MAN = os.path.join(TOP, "src", "msealbench.1")
CODE_DIRS = ("src", "plots", "vm", "tools", "bench", "arch")


def commands():
    out = subprocess.run([MSEALBENCH, "help"], capture_output=True, text=True, timeout=60)
    return re.findall(r"^  ([a-z][a-z0-9_-]*)  ", out.stdout, re.M)


def documented_words(text):
    """First words of the man page's tag and heading lines: `.B run`, `.BR "msealbench run"`, `.SS run`."""
    words = set()
    for line in text.splitlines():
        m = re.match(r'^\.(?:B|BR|BI|SS|IP)\s+"?(?:msealbench\s+)?([A-Za-z0-9_-]+)', line)
        if m:
            words.add(m.group(1))
    return words


def variables_in_code():
    found = {}
    for d in CODE_DIRS:
        for root, dirs, files in os.walk(os.path.join(TOP, d)):
            dirs[:] = [x for x in dirs if x not in ("out", "__pycache__")]
            for name in files:
                path = os.path.join(root, name)
                try:
                    text = open(path, encoding="utf-8").read()
                except (UnicodeDecodeError, OSError):
                    continue
                for var in re.findall(r"\bMSEALBENCH_[A-Z0-9_]+", text):
                    found.setdefault(var, os.path.relpath(path, TOP))
    return found


def section(text, name):
    m = re.search(rf"^\.SH {name}\n(.*?)(?=^\.SH |\Z)", text, re.M | re.S)
    return m.group(1) if m else ""


def main():
    text = open(MAN).read()
    words = documented_words(section(text, "COMMANDS"))
    cmds = commands()
    ok(len(cmds) >= 5, "msealbench help lists the commands", str(cmds))
    for cmd in cmds:
        ok(cmd in words, f"the man page has a section for '{cmd}'",
           "add `.TP` + `.B " + cmd + "` under .SH COMMANDS in src/msealbench.1")
    env = documented_words(section(text, "ENVIRONMENT"))
    for var, where in sorted(variables_in_code().items()):
        ok(var in env, f"the man page documents {var} (read in {where})",
           "add it under .SH ENVIRONMENT in src/msealbench.1")
    ok(section(text, "EXIT STATUS").count(".B ") >= 3, "the man page has an EXIT STATUS section")
    if not shutil.which("groff"):
        skip("groff renders the man page without warnings", "groff is not installed (groff-base)")
        return done()
    r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", MAN], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, LC_ALL="C.UTF-8"))
    ok(r.returncode == 0 and not r.stderr.strip(), "groff -man -ww renders the man page without warnings",
       r.stderr.strip()[:500])
    if shutil.which("man"):
        r = subprocess.run(["man", "--warnings", "-l", MAN], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
        ok(r.returncode == 0 and not r.stderr.strip() and "EXIT STATUS" in r.stdout,
           "man --warnings -l renders it without warnings", r.stderr.strip()[:500])
    done()


if __name__ == "__main__":
    main()
