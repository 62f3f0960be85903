#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The python tools (compare, plot, validate, synth) on hostile input: wrong types and ranges in
results files, unbounded numbers and sizes, control characters and markup in names, names that
break gnuplot quoting, file/directory mix-ups, and a full disk under earlier plots.
Every case: one line and exit 2 (never 3, never a traceback), or the right output."""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, skip, done, small_tmpfs  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import synth  # noqa: E402

PLOTS = os.path.join(TOP, "plots")
WORK = tempfile.mkdtemp(prefix="msealbench-t_py_safety.")
FIXTURE = "quick-vdso-zero-round-median.json"
HAVE_GNUPLOT = shutil.which(os.environ.get("MSEALBENCH_GNUPLOT", "gnuplot")) is not None
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def tool(name, *args, timeout=60):
    """(status, stdout, stderr) of plots/NAME.py; a hang is status None."""
    try:
        result = subprocess.run([sys.executable, os.path.join(PLOTS, name + ".py"), *args],
                                capture_output=True, timeout=timeout, cwd=WORK)
    except subprocess.TimeoutExpired:
        return None, "", f"still running after {timeout} s"
    return (result.returncode, result.stdout.decode("utf-8", "replace"),
            result.stderr.decode("utf-8", "replace"))


def one_line_exit_2(result):
    status, _, err = result
    return status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def write(name, document):
    path = os.path.join(WORK, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(document if isinstance(document, str) else json.dumps(document))
    return path


def spec(benchmark, seal, median=50.0, **extra):
    return dict({"benchmark": benchmark, "params": {}, "seal": seal, "median": median, "cv": 0.02}, **extra)


def good_run(benchmarks=("vdso.a",), seed=1, rounds=4):
    specs = [spec(b, s, counters={"task-clock": 40.0}) for b in benchmarks for s in ("none", "sysmap")]
    return synth.synthetic_run(specs, seed=seed, rounds=rounds, per_round=2)


def fixture_path():
    for directory in (os.path.join(TOP, "tests", "fixtures"), os.path.join(TOP, "..", "shared", "fixtures")):
        if os.path.exists(os.path.join(directory, FIXTURE)):
            return os.path.join(directory, FIXTURE)
    return None


# ------------------------------------------------------ 8: types and ranges

def broken(change):
    document = good_run()
    change(document["cells"][1])
    return document


def set_sample(value, position=0):
    return lambda cell: cell["samples"].__setitem__(position, value)


def test_wrong_types_and_values():
    cases = [
        ("notes 5", lambda c: c.__setitem__("notes", 5), '"notes"'),
        ("notes of numbers", lambda c: c.__setitem__("notes", [1]), '"notes"'),
        ("unit a list", lambda c: c.__setitem__("unit", ["ns"]), '"unit"'),
        ("reason an object", lambda c: c.__setitem__("reason", {}), '"reason"'),
        ("params a list", lambda c: c.__setitem__("params", [1]), '"params"'),
        ("a param of 10**400", lambda c: c.__setitem__("params", {"pages": 10 ** 400}), '"params".pages'),
        ("a sample of 10**400", set_sample(10 ** 400), '"samples"'),
        ("a sample of 1e308", set_sample(1e308), '"samples"'),
        ("a sample of 5e-324", set_sample(5e-324), '"samples"'),
        ("a sample of 0", set_sample(0), '"samples"'),
        ("a negative sample", set_sample(-50.0), '"samples"'),
        ("mixed-sign samples", lambda c: c.__setitem__("samples", [-v if i % 2 else v for i, v in enumerate(c["samples"])]), '"samples"'),
        ("a boolean sample", set_sample(True), '"samples"'),
        ("a negative round", lambda c: c["rounds"].__setitem__(0, -1), '"rounds"'),
        ("counters a string", lambda c: c.__setitem__("counters", "x"), '"counters"'),
        ("a negative counter", lambda c: c["counters"]["values"]["task-clock"].__setitem__(0, -1.0), "counters.values.task-clock"),
        ("a counter of 10**400", lambda c: c["counters"]["values"]["task-clock"].__setitem__(0, 10 ** 400), "counters.values.task-clock"),
        ("counter values a list", lambda c: c["counters"].__setitem__("values", [1]), '"values"'),
    ]
    for name, change, field in cases:
        path = write("bad-" + re.sub(r"\W+", "_", name) + ".json", broken(change))
        result = tool("compare", path, "--bootstrap", "100")
        ok(one_line_exit_2(result) and path in result[2] and "cell 1" in result[2] and field in result[2],
           f"compare: {name}: exit 2 naming the file, the cell and the field", f"{result[0]} {result[2]!r}")
    path = write("digits.json", '{"schema": "msealbench-results", "schema_version": ' + "9" * 5000 + "}")
    ok(one_line_exit_2(tool("compare", path)), "compare: an integer of 5000 digits: exit 2")
    path = write("deep.json", "[" * 100000 + "]" * 100000)
    ok(one_line_exit_2(tool("compare", path)), "compare: JSON nested 100000 deep: exit 2")
    if HAVE_GNUPLOT:
        path = write("plot-notes.json", broken(lambda c: c.__setitem__("notes", 5)))
        result = tool("plot", path, "--out", os.path.join(WORK, "plot-notes"), "--bootstrap", "100")
        ok(one_line_exit_2(result) and '"notes"' in result[2], "plot: notes 5: exit 2", result[2])


def test_zero_round_median_fixture():
    path = fixture_path()
    if path is None:
        skip("compare on a run whose counter round medians are all zero", f"{FIXTURE} not found")
        return
    status, out, err = tool("compare", path, "--bootstrap", "200")
    ok(status in (0, 1) and "Traceback" not in err and "internal error" not in err,
       "compare on a run whose counter round medians are all zero: no internal error", f"{status} {err!r}")
    ok("median is 0: no ratio" in out, "the zero counter median is reported as having no ratio")
    status, out, err = tool("compare", "--format", "json", path, "--bootstrap", "200")
    try:
        document = json.loads(out)
    except json.JSONDecodeError:
        document = {}
    counters = [c for c in document.get("comparisons", []) if c["metric"] in ("page-faults", "context-switches")
                and c["base_median"] == 0]
    ok(status in (0, 1) and not counters, "a counter with a zero baseline median gets no verdict", err)


# ------------------------------------------------------ 9: numbers and sizes

def test_number_options():
    good = write("good.json", good_run())
    out = os.path.join(WORK, "numbers-out")
    cases = [("plot", "--timeout", v) for v in ("-1", "0", "nan", "inf")]
    cases += [("plot", "--bootstrap", v) for v in ("0", "-5", "99999999999999999999")]
    cases += [("compare", "--bootstrap", v) for v in ("0", "-5", "99999999999999999999")]
    cases += [("compare", "--alpha", "nan"), ("compare", "--confidence", "1"), ("compare", "--seed", "-1")]
    for name, option, value in cases:
        extra = ["--out", out] if name == "plot" else []
        result = tool(name, good, *extra, option, value, timeout=30)
        ok(result[0] == 2 and option in result[2] and "Traceback" not in result[2],
           f"{name} {option} {value}: exit 2", f"{result[0]} {result[2][-200:]!r}")
    env_runner = os.environ.get("MSEALBENCH")
    os.environ["MSEALBENCH"] = "false"  # never runs: the option is refused first
    for option, value in (("--budget", "-1"), ("--budget", "nan"), ("--trials", "0"), ("--bootstrap", "5")):
        result = tool("validate", option, value, timeout=30)
        ok(result[0] == 2 and option in result[2], f"validate {option} {value}: exit 2", result[2][-200:])
    if env_runner is None:
        del os.environ["MSEALBENCH"]
    else:
        os.environ["MSEALBENCH"] = env_runner
    for args in (["run", "--repetitions", "0"], ["run", "--effect", "nan"], ["history", WORK, "--runs", "-1"]):
        result = tool("synth", *args, "--out" if args[0] == "run" else "--runs",
                      os.path.join(WORK, "s.json") if args[0] == "run" else "2")
        ok(result[0] == 2 and "Traceback" not in result[2], f"synth {' '.join(args)}: exit 2", result[2][-200:])


def test_input_size():
    big = os.path.join(WORK, "big.json")
    with open(big, "wb") as f:
        f.truncate(65 << 20)  # sparse: no disk used
    result = tool("compare", big)
    ok(one_line_exit_2(result) and str(65 << 20) in result[2], "a 65 MiB results file is refused with its size",
       result[2])
    rounds = 260000  # two cells: 520000 rounds, past what compares in reasonable time
    cells = [{"benchmark": "vdso.a", "seal": seal, "status": "ok", "samples": [10.0] * rounds,
              "rounds": list(range(rounds))} for seal in ("none", "sysmap")]
    many = write("many-rounds.json", dict(good_run(), cells=cells))
    result = tool("compare", many, timeout=60)
    ok(one_line_exit_2(result) and "520000 rounds" in result[2], "a file of too many rounds to compare: exit 2",
       f"{result[0]} {result[2]!r}")
    zero = os.path.join(WORK, "zero")
    try:
        os.mknod(zero, 0o600 | 0o020000, os.makedev(1, 5))  # our own /dev/zero node
    except OSError as e:
        skip("compare on a /dev/zero node ends", f"mknod: {e.strerror}")
        return
    result = tool("compare", zero, timeout=60)
    ok(one_line_exit_2(result) and "64 MiB" in result[2], "compare on a /dev/zero node ends with exit 2",
       f"{result[0]} {result[2]!r}")


# ------------------------------------------------------ 10: names as data

NASTY = "vdso.x\x1b]0;owned\x07\x1b[2J\r\x9bA\x7f\u202e <script>alert(1)</script> @team [l](http://e.x) ![i](http://e.x/i.png) www.e.x |`tick`"


def nasty_run():
    document = synth.synthetic_run([spec(NASTY, s) for s in ("none", "sysmap")] +
                                   [spec("vdso.ok", s, status="failed", reason="died \x1b[31m\r@x <b>")
                                    for s in ("none", "sysmap")], seed=3, rounds=4, per_round=2)
    document["context"]["label"] = "lab\x1b[5m"
    return document


def outside_code_spans(line):
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", line)


def test_terminal_and_markdown():
    path = write("nasty.json", nasty_run())
    status, out, err = tool("compare", path, "--bootstrap", "100")
    ok(status in (0, 1) and not CONTROLS.search(out + err), "compare text output holds no control characters",
       repr(CONTROLS.findall(out + err)[:5]))
    ok("\\x1b]0;owned" in out and "\\r" in out, "control characters are shown as visible escapes")
    status, out, err = tool("compare", "--format", "markdown", path, "--bootstrap", "100")
    bare = [outside_code_spans(line) for line in out.splitlines()]
    leaks = [b for b in bare if re.search(r"<[A-Za-z/!]|@\w|\]\(|www\.|https?:", b)]
    ok(status in (0, 1) and "<script>" in out and not leaks and not CONTROLS.search(out),
       "markdown: HTML, links, images, mentions and autolinks only inside code spans", repr(leaks[:3]))
    table = [line for line in out.splitlines() if line.startswith("| ``")]
    ok(table and all(len(re.findall(r"(?<!\\)\|", line)) == 9 for line in table),
       "markdown: a '|' in a name does not split its table row", repr(table[:1]))
    bad = broken(lambda c: c.__setitem__("status", "\x1b[2Jok\r"))
    status, out, err = tool("compare", write("nasty-status.json", bad))
    ok(status == 2 and not CONTROLS.search(err), "error messages show control characters as escapes", repr(err))


# ------------------------------------------------------ 11: gnuplot quoting

QUOTED = ["'x, ''y", "\"z\" it's", "back\\slash\\\\two", "$(touch no) `touch no`", "new\nline", "ünï ✓ 测试"]


def test_gnuplot_names():
    if not HAVE_GNUPLOT:
        skip("nasty names plot", "no gnuplot")
        return
    specs = [spec("fam." + name, s) for name in QUOTED for s in ("none", "sysmap")]
    document = synth.synthetic_run(specs, seed=4, rounds=4, per_round=3, label="'lab")
    for cell in document["cells"]:
        cell["family"] = "'fam ''q"
    path = write("quoted.json", document)
    out = os.path.join(WORK, "quoted-plots")
    status, _, err = tool("plot", path, "--out", out, "--bootstrap", "100", "--formats", "svg", timeout=120)
    ok(status == 0, "names with quotes, backslashes, $(), backticks, newlines and unicode plot", err[-300:])
    svg = ""
    for name in glob.glob(os.path.join(out, "*.svg")):
        with open(name, encoding="utf-8") as f:
            svg += f.read()
    svg = svg.replace("&apos;", "'").replace("&quot;", '"').replace("&amp;", "&")
    shown = {"'x, ''y": "'x, ''y", "it's": "'z' it's", "backslash": "back\\slash\\\\two",
             "command text": "$(touch no) `touch no`", "newline": "new line", "unicode": "ünï ✓ 测试",
             "a family starting with a quote": "'fam ''q"}
    for what, text in shown.items():
        ok(text in svg, f"the SVG shows the label with {what}", text)
    ok(not glob.glob(os.path.join(WORK, "no")), "no command in a name ran")
    out = os.path.join(WORK, "cdf-plots")
    path = write("many-samples.json", synth.synthetic_run([spec("vdso.a", s) for s in ("none", "sysmap")],
                                                          rounds=600, per_round=5))
    status, _, err = tool("plot", path, "--out", out, "--bootstrap", "100", "--formats", "svg", timeout=120)
    lines = 0
    for name in glob.glob(os.path.join(out, "cdf-*.dat")):
        with open(name, encoding="utf-8") as f:
            lines += sum(1 for _ in f)
    ok(status == 0 and 0 < lines <= 2 * 2000 + 10, "a CDF of 3000 samples a side draws at most 2000 steps",
       f"{status} {lines} lines {err[-200:]!r}")


# ------------------------------------------------------ 4: a full disk

def digests(directory):
    out = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def fill(directory, leave):
    """Writes a filler file until about `leave` bytes are free."""
    info = os.statvfs(directory)
    free = info.f_bavail * info.f_frsize - leave
    try:
        with open(os.path.join(directory, f"filler{leave}"), "wb") as f:
            f.write(b"\0" * max(0, free))
            while not leave:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass


def test_full_disk():
    if not HAVE_GNUPLOT:
        skip("plots into a full disk", "no gnuplot")
        return
    mount = os.path.join(WORK, "small")
    with small_tmpfs(mount, "1m") as why_not:
        if why_not:
            skip("plots into a full disk", why_not)
            return
        out = os.path.join(mount, "plots")
        first = write("disk-a.json", good_run(("vdso.a", "mremap.b"), seed=1))
        second = write("disk-b.json", good_run(("vdso.a", "mremap.b"), seed=2, rounds=6))
        status, _, err = tool("plot", first, "--out", out, "--bootstrap", "100")
        ok(status == 0, "a plot set fits the small tmpfs", err)
        before = digests(out)
        for leave in (24 << 10, 0):
            fill(mount, leave)
            status, _, err = tool("plot", second, "--out", out, "--bootstrap", "100")
            after = digests(out)
            kept = {n: d for n, d in after.items() if n in before and n.endswith((".png", ".svg"))}
            ok(status == 2 and "no space left on device writing " + out in err and "drew nothing" not in err
               and len(err.strip().splitlines()) == 1,
               f"plot into a full disk ({leave >> 10} KiB free) says so, exit 2", f"{status} {err!r}")
            ok(kept and all(before[n] == d for n, d in kept.items()),
               f"the earlier PNG and SVG files are intact ({leave >> 10} KiB free)")
            ok(set(after) == set(before) and all(os.path.getsize(os.path.join(out, n)) for n in after),
               f"no empty or temporary file is left ({leave >> 10} KiB free)", repr(set(after) ^ set(before)))


# ------------------------------------------------------ file/dir mix-ups

def test_file_directory_mixups():
    a_file = write("plain-file", "x")
    a_dir = os.path.join(WORK, "a-dir")
    os.makedirs(a_dir, exist_ok=True)
    cases = [
        ("synth", ["run", "--out", a_dir]), ("synth", ["run", "--out", os.path.join(a_file, "x.json")]),
        ("synth", ["history", a_file]), ("synth", ["run", "--out", os.path.join(WORK, "nodir", "..", "..")]),
        ("compare", [a_dir + "/", a_file]), ("compare", [a_file]),
        ("validate", ["--keep", a_file, "--trials", "1"]),
    ]
    if HAVE_GNUPLOT:
        cases.append(("plot", [write("mix.json", good_run()), "--out", a_file]))
    for name, args in cases:
        result = tool(name, *args, timeout=60)
        ok(one_line_exit_2(result), f"{name} {' '.join(os.path.relpath(a, WORK) if a.startswith('/') else a for a in args)}: "
           "one line, exit 2", f"{result[0]} {result[2][-300:]!r}")


def main():
    try:
        test_wrong_types_and_values()
        test_zero_round_median_fixture()
        test_number_options()
        test_input_size()
        test_terminal_and_markdown()
        test_gnuplot_names()
        test_full_disk()
        test_file_directory_mixups()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
