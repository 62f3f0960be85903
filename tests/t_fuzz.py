#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""CLI fuzz: random command lines for every entry point (the C binary's commands, internal ones
included, and the Python tools), built from each command's own option vocabulary plus junk
values, bad paths, device nodes and mutated results files.

Every case must hold these properties:
  no crash      no death by a signal other than the SIGTERM the fuzzer itself sends
  no traceback  no Python traceback on stdout or stderr
  no internal error  no "internal error" line (the tools' word for a bug)
  no hang       the case ends by itself within LIMIT seconds, or within GRACE of a SIGTERM
  no leftover   no process of the case (marked through its environment) outlives it
  no stray file nothing new outside the case's work directory (the checkout, $TMPDIR), and no
                temporary file left in it
  plain output  no control character other than newline and tab on stdout or stderr
  says why      a non-zero exit prints a message; exit 2 (bad input) is exactly one line

Bounded: cases run until MSB_FUZZ_SECONDS (default 45) are spent. The seed is fixed unless
MSB_FUZZ_SEED says otherwise (a number, or "random"); a failure names its seed and case number.
"""
import concurrent.futures
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, TOP, ok, done, processes_marked  # noqa: E402

LIMIT = 4.0          # seconds a case may run before it gets SIGTERM
GRACE = 5.0          # seconds it then has to end
BUDGET = float(os.environ.get("MSB_FUZZ_SECONDS", "45"))
_seed = os.environ.get("MSB_FUZZ_SEED", "20261129")
SEED = random.SystemRandom().randrange(1 << 32) if _seed == "random" else int(_seed)
PY = sys.executable
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL,
                 signal.SIGSYS, signal.SIGTRAP, signal.SIGKILL, signal.SIGPIPE, signal.SIGXCPU}
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
MARK = "MSB_FUZZ_CASE"

NUMBERS = ["0", "1", "2", "3", "-1", "-5", "0.5", "1e308", "5e-324", "nan", "inf", "-inf",
           "99999999999999999999", "abc", "", "0x10", " 1", "1%", "5%:sysmap", "-5%", "2%:none",
           "100%", "1e-9"]
WORDS = ["none", "sysmap", "all", "none,sysmap", "none,none", "harness", "harness.empty",
         "harness.*", "vdso", "*", "x,,y", ",", "\udcff\udcfe", "\x1b[31mred\x1b[0m", "a\rb",
         "a" * 3000, "'", "''x", '"', "$(touch pwned)", "`id`", "%s%n%x", "\n", "-", "--",
         "pages=1", "pages=-1", "pages=", "pages=abc", "vmas=99999999999", "task-clock",
         "cycles,instructions:u,instructions:k", ",".join(["task-clock"] * 20), "no-such-event",
         "page-faults,page-faults", "ünïcode", "<script>x</script>", "@all [x](http://e)"]
OUTPUT_PATHS = ["out.json", "dir", "file", "file/sub", "results.json", "nonexistent/x.json",
                "null", "full", "-", "", "link", "dangling", "a" * 300, "/proc/version",
                "/proc/self/status", "readonly/x.json"]
INPUT_PATHS = ["results.json", "fixture.json", "mutated.json", "mutated2.json", "empty.json",
               "file", "dir", "zero", "notutf8.json", "bignum.json", "nonexistent.json", "loop",
               "/proc/self/status", "runs"]
OUT_OPTIONS = {"--out", "--keep"}


def vocabulary(argv):
    """The long options a command's --help names."""
    p = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", p.stdout + p.stderr)) - {"--help"})


def entry_points():
    """(name, argv prefix, option vocabulary, positional kind, forced args)."""
    points = []
    helptext = subprocess.run([MSEALBENCH, "help"], capture_output=True, text=True).stdout
    commands = re.findall(r"^  ([a-z]+) ", helptext, re.M)
    for cmd in commands:
        opts = vocabulary([MSEALBENCH, cmd]) if cmd not in ("help", "version") else []
        points.append((f"msealbench {cmd}", [MSEALBENCH, cmd], opts, "word", []))
    for cmd in ("__cell", "__sealed-at-exec", "__probe-exec", "__sealed-maps", "__seccomp-nomseal"):
        points.append((f"msealbench {cmd}", [MSEALBENCH, cmd],
                       ["batch=", "samples=", "warmup=", "bench=", "seal=", "params=", "events=",
                        "maps", "exec", "--json"], "word", []))
    points.append(("msealbench (no command)", [MSEALBENCH], ["--help", "--version", "-h"], "word", []))
    plots = os.path.join(TOP, "plots")
    for script, positional in (("compare.py", "input"), ("plot.py", "input"),
                               ("validate.py", "word"), ("synth.py", "word")):
        argv = [PY, os.path.join(plots, script)]
        forced = ["--out", "plots-out"] if script == "plot.py" else []
        points.append((script, argv, vocabulary(argv), positional, forced))
    argv = [PY, os.path.join(plots, "synth.py")]
    for sub in ("run", "history"):
        points.append((f"synth.py {sub}", argv + [sub], vocabulary(argv + [sub]), "input", []))
    return points, commands


def mutate(doc, rng):
    """Replaces one randomly chosen value of a results document with a value of a wrong type
    or an extreme one."""
    weird = [None, True, 5, -1, 0, 10 ** 400, 1e308, 5e-324, -1e-300, "x", "", [], {}, [1, "a"],
             {"a": 1}, "\x1b]0;title\x07", "'", "''", float("inf"), "\ud800x"]
    path = []
    node = doc
    while isinstance(node, (dict, list)) and node and rng.random() < 0.85:
        key = rng.choice(list(node.keys())) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return doc
    parent, key = path[-1]
    parent[key] = rng.choice(weird)
    return doc


def dump_json(doc):
    # 10**400 and non-finite floats are what a hand-edited or foreign file may hold.
    text = json.dumps(doc, allow_nan=True, ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


class Workdir:
    """A fresh directory per case holding the files the vocabulary names."""

    def __init__(self, base, valid, fixture):
        self.base, self.valid, self.fixture = base, valid, fixture

    def make(self, rng):
        d = tempfile.mkdtemp(dir=self.base)
        os.mkdir(os.path.join(d, "tmp"))
        os.mkdir(os.path.join(d, "dir"))
        os.mkdir(os.path.join(d, "readonly"), 0o555)
        for name, data in (("file", b"not json\n"), ("empty.json", b""), ("notutf8.json", b'{"a": "\xff"}'),
                           ("bignum.json", b'{"schema_version": 1, "cells": [' + b"9" * 5000 + b"]}"),
                           ("results.json", self.valid), ("fixture.json", self.fixture)):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        for name in ("mutated.json", "mutated2.json"):
            with open(os.path.join(d, name), "wb") as f:
                f.write(dump_json(mutate(json.loads(self.valid), rng)))
        os.mkdir(os.path.join(d, "runs"))
        shutil.copy(os.path.join(d, "results.json"), os.path.join(d, "runs", "a.json"))
        shutil.copy(os.path.join(d, "mutated.json"), os.path.join(d, "runs", "b.json"))
        os.symlink("out.json", os.path.join(d, "link"))
        os.symlink("nowhere/x", os.path.join(d, "dangling"))
        os.symlink("loop", os.path.join(d, "loop"))
        if os.geteuid() == 0:
            # Device nodes of our own: a bug that renames over them harms nothing outside d.
            for name, minor in (("null", 3), ("zero", 5), ("full", 7)):
                os.mknod(os.path.join(d, name), 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        return d


def make_case(point, rng):
    name, prefix, opts, positional, forced = point
    args = list(forced)
    if positional == "input" and rng.random() < 0.5:
        # mostly well-formed: inputs (often mutated) and at most one option, to reach past parsing
        args += rng.sample(INPUT_PATHS[:4] * 2, rng.randrange(1, 3))
        if opts and rng.random() < 0.5:
            opt = rng.choice(opts)
            args += [opt] + ([rng.choice(NUMBERS + WORDS)] if rng.random() < 0.7 else [])
        return prefix + args
    for _ in range(rng.randrange(0, 7)):
        r = rng.random()
        if r < 0.6 and opts:
            opt = rng.choice(opts)
            if opt.endswith("="):       # internal commands take NAME=VALUE
                args.append(opt + rng.choice(NUMBERS + WORDS[:12]))
                continue
            args.append(opt)
            if rng.random() < 0.85:
                if opt in OUT_OPTIONS:
                    args.append(rng.choice(OUTPUT_PATHS))
                else:
                    args.append(rng.choice(NUMBERS + WORDS if rng.random() < 0.5 else NUMBERS))
        elif r < 0.85:
            args.append(rng.choice(INPUT_PATHS if positional == "input" else WORDS))
        else:
            args.append(rng.choice(["--no-such-option", "-x", "--", "-", "--out=", "\udcff",
                                    rng.choice(opts) + "=" + rng.choice(NUMBERS) if opts else "-q"]))
    if name == "msealbench run" and rng.random() < 0.7:
        # most runs measure little, so the budget goes to many cases, not to one long run
        args += ["--filter", "harness.empty", "--repetitions", "1", "--min-time", "0.001"]
    return prefix + args


def new_files(root, before):
    now = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git" and not d.startswith("build")
                       and d != "__pycache__"]
        now.update(os.path.join(dirpath, f) for f in filenames + dirnames)
    return now - before if before is not None else now


def run_case(number, argv, workdir, rng):
    tag = f"{SEED}-{number}"
    d = workdir.make(rng)
    env = dict(os.environ, TMPDIR=os.path.join(d, "tmp"), PYTHONDONTWRITEBYTECODE="1")
    env[MARK] = tag
    env.pop("MSEALBENCH_DEBUG", None)
    problems = []
    with open(os.path.join(d, ".stdout"), "wb") as out, open(os.path.join(d, ".stderr"), "wb") as err:
        p = subprocess.Popen(argv, cwd=d, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             start_new_session=True)
        termed = False
        try:
            rc = p.wait(LIMIT)
        except subprocess.TimeoutExpired:
            termed = True
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(GRACE)
            except subprocess.TimeoutExpired:
                problems.append(("no hang", f"still running {GRACE:g} s after SIGTERM"))
                os.killpg(p.pid, signal.SIGKILL)
                rc = p.wait()
    deadline = time.monotonic() + 2
    left = processes_marked(MARK, tag)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = processes_marked(MARK, tag)
    if left:
        names = []
        for pid in left:
            try:
                names.append(open(f"/proc/{pid}/comm").read().strip())
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        problems.append(("no leftover", f"processes left: {', '.join(names)}"))
    with open(os.path.join(d, ".stdout"), "rb") as f:
        so = f.read(1 << 20)
    with open(os.path.join(d, ".stderr"), "rb") as f:
        se = f.read(1 << 20)
    if rc < 0 and -rc in CRASH_SIGNALS:
        problems.append(("no crash", f"killed by {signal.Signals(-rc).name}"))
    if b"Traceback (most recent call last)" in so + se:
        problems.append(("no traceback", se.decode(errors="replace").strip().splitlines()[-1]))
    if b"internal error" in se:
        problems.append(("no internal error", se.decode(errors="replace").strip().splitlines()[-1]))
    if CONTROL.search(so) or CONTROL.search(se):
        problems.append(("plain output", "control characters in the output"))
    if rc not in (0, 130, 143, -signal.SIGTERM) and not se.strip() and not termed:
        problems.append(("says why", f"exit {rc} with nothing on stderr"))
    if rc == 2 and len(se.strip().splitlines()) != 1:
        problems.append(("says why", f"exit 2 with {len(se.strip().splitlines())} lines on stderr"))
    tmp_left = os.listdir(os.path.join(d, "tmp"))
    if tmp_left:
        problems.append(("no stray file", f"left in $TMPDIR: {tmp_left[:3]}"))
    shutil.rmtree(d, ignore_errors=True)
    if os.path.exists(d):
        os.chmod(os.path.join(d, "readonly"), 0o755)
        shutil.rmtree(d, ignore_errors=True)
    return rc, problems


def shown(argv):
    return " ".join(repr(a) if re.search(r"[^\w./=,:%*-]", a) or not a else a
                    for a in [os.path.basename(argv[0])] + argv[1:])[:300]


def main():
    print(f"# fuzz seed {SEED} (MSB_FUZZ_SEED), budget {BUDGET:g} s (MSB_FUZZ_SECONDS)")
    base = tempfile.mkdtemp(prefix="msealbench-fuzz.")
    tmp_before = set(os.listdir(tempfile.gettempdir()))
    tree_before = new_files(TOP, None)
    try:
        valid_path = os.path.join(base, "valid.json")
        p = subprocess.run([MSEALBENCH, "run", "--quiet", "--filter", "harness.empty,harness.syscall.getppid",
                            "--seal", "none,sysmap", "--repetitions", "3", "--min-time", "0.01",
                            "--out", valid_path], capture_output=True, text=True, cwd=base)
        if not ok(p.returncode == 0, "a small valid run to mutate", p.stderr):
            done()
        fixture = os.path.join(TOP, "tests", "fixtures", "quick-vdso-zero-round-median.json")
        with open(valid_path, "rb") as f:
            valid = f.read()
        with open(fixture if os.path.exists(fixture) else valid_path, "rb") as f:
            workdir = Workdir(base, valid, f.read())
        points, commands = entry_points()
        ok(len(commands) >= 8 and all(len(pt[2]) > 0 for pt in points if pt[0] == "msealbench run"),
           f"vocabulary read from --help ({len(points)} entry points)", str(commands))
        rng = random.Random(SEED)
        cases = [(i, make_case(rng.choice(points), rng), random.Random(rng.random()))
                 for i in range(20000)]
        results = {}
        lock = threading.Lock()
        stop = time.monotonic() + BUDGET

        def worker(case):
            number, argv, case_rng = case
            if time.monotonic() > stop:
                return
            rc, problems = run_case(number, argv, workdir, case_rng)
            with lock:
                results[number] = (argv, rc, problems)

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(worker, cases))
        by_point = {}
        for number in sorted(results):
            argv, rc, problems = results[number]
            point = next(pt[0] for pt in sorted(points, key=lambda pt: -len(pt[1]))
                         if argv[:len(pt[1])] == pt[1])
            by_point.setdefault(point, []).append((number, argv, rc, problems))
        print(f"# {len(results)} cases in {BUDGET:g} s: " +
              ", ".join(f"{k} {len(v)}" for k, v in sorted(by_point.items())))
        props = ["no crash", "no traceback", "no internal error", "no hang", "no leftover", "no stray file", "plain output",
                 "says why"]
        for point in sorted(by_point):
            runs = by_point[point]
            exits = {}
            for _, _, rc, _ in runs:
                exits[rc] = exits.get(rc, 0) + 1
            for prop in props:
                bad = [(n, argv, why) for n, argv, rc, problems in runs for what, why in problems if what == prop]
                detail = "; ".join(f"case {n}: {shown(argv)} -> {why}" for n, argv, why in bad[:3])
                ok(not bad, f"fuzz {point}: {prop} ({len(runs)} cases, exits {dict(sorted(exits.items()))})"
                   if prop == "no crash" else f"fuzz {point}: {prop}",
                   f"{len(bad)} cases, seed {SEED}: {detail}")
        strays = sorted(new_files(TOP, tree_before))
        ok(not strays, "fuzz wrote nothing into the checkout", " ".join(strays[:5]))
        tmp_new = sorted(set(os.listdir(tempfile.gettempdir())) - tmp_before - {os.path.basename(base)})
        ok(not [t for t in tmp_new if t.startswith("msealbench")],
           "fuzz left nothing in the system's temporary directory", " ".join(tmp_new[:5]))
    finally:
        for dirpath, dirnames, _ in os.walk(base):
            for dname in dirnames:
                try:
                    os.chmod(os.path.join(dirpath, dname), 0o755)
                except OSError:
                    pass
        shutil.rmtree(base, ignore_errors=True)
    done()


main()
