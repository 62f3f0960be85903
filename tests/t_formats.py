#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""compare --format (email, bmf, github-action, junit, tap, csv), export --format (csv, gbench)
and run --format, each read back by its consumer's rules; hostile labels stay inert; the
table's columns agree with its change; the warnings for undecidable and noisy comparisons."""
import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, SYSTEM_PYTHON, TOP, done, ok, skip  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import results, synth  # noqa: E402

COMPARE = os.path.join(TOP, "plots", "compare.py")
EXPORT = os.path.join(TOP, "plots", "export.py")
GBENCH_COMPARE = "/usr/share/benchmark/compare.py"   # Debian's libbenchmark-tools
WORK = tempfile.mkdtemp(prefix="msealbench-t_formats.")
HOSTILE = "x\"'<b>&amp;</b>\n# not ok 99 \x1b[31m\x07=cmd|calc\r]]>"


def write(name, document):
    path = os.path.join(WORK, name)
    results.write_run(path, document)
    return path


def run(*cmd, timeout=120):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)


def compare(*args):
    out = run(sys.executable, COMPARE, "--bootstrap", "300", *args)
    return out.returncode, out.stdout, out.stderr


def suite(seals=("none", "sysmap"), **kw):
    return synth.suite_specs(list(seals), filters=["vdso.*", "mseal.*"], **kw)


def slowed_run(name, rounds=8, effect=0.10, **kw):
    """sysmap 10% slower than none, enough rounds to call it a regression."""
    return write(name, synth.synthetic_run(suite(effects={"sysmap": effect}), rounds=rounds, **kw))


def hostile_run(name, rounds=6):
    """Every text a results file carries, made of quotes, markup, newlines, control characters,
    a TAP line and a spreadsheet formula."""
    document = synth.synthetic_run(suite(effects={"sysmap": 0.10}), rounds=rounds, label=HOSTILE)
    for cell in document["cells"]:
        cell["benchmark"] = "=" + cell["benchmark"] + "." + HOSTILE  # a formula to a spreadsheet
        cell["params"] = dict(cell["params"], **{HOSTILE: HOSTILE})
    return write(name, document)


# ------------------------------------------------------------------ consumers' rules

def tap13_errors(text):
    """Problems of a TAP 13 stream read strictly: version line first, then a plan 1..N, then
    test lines numbered 1..N in order (description up to the first unescaped '#', then an
    optional SKIP/TODO directive), comments; nothing else. Returns (errors, tests)."""
    lines = text.split("\n")
    errors, tests = [], []
    if lines[:1] != ["TAP version 13"]:
        errors.append(f"first line {lines[:1]}")
    plan = re.fullmatch(r"1\.\.(\d+)", lines[1] if len(lines) > 1 else "")
    if not plan:
        errors.append("no plan on line 2")
    for line in lines[2:]:
        if line.startswith("#") or line == "":
            continue
        m = re.fullmatch(r"(not ok|ok) (\d+)((?: (?:[^#\\]|\\.)*)?)(?: # (SKIP|TODO)(?: (.*))?)?", line)
        if not m:
            errors.append(f"not a TAP line: {line[:80]!r}")
            continue
        tests.append({"ok": m.group(1) == "ok", "number": int(m.group(2)), "description": m.group(3).strip(),
                      "directive": m.group(4), "reason": m.group(5)})
    numbers = [t["number"] for t in tests]
    if plan and numbers != list(range(1, int(plan.group(1)) + 1)):
        errors.append(f"plan 1..{plan.group(1)} but tests numbered {numbers[:5]}...")
    return errors, tests


def junit_errors(text):
    """Problems of a JUnit XML report as Jenkins (junit-4.xsd) and GitLab read it: testsuites
    of testsuite elements with name and integer tests/failures/errors/skipped that match their
    testcases; each testcase with name and classname and at most one failure/error/skipped; a
    failure with a message and a type (required by the stricter variants of junit-4.xsd). Returns (errors, root or None)."""
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as e:
        return [f"not XML: {e}"], None
    errors = []
    if root.tag != "testsuites":
        errors.append(f"root is {root.tag}")
    for suite_ in root.iter("testsuite"):
        cases = suite_.findall("testcase")
        for attr in ("name", "tests", "failures", "errors", "skipped"):
            if attr not in suite_.attrib:
                errors.append(f"testsuite without {attr}")
        counted = {"tests": len(cases), "failures": sum(c.find("failure") is not None for c in cases),
                   "errors": sum(c.find("error") is not None for c in cases),
                   "skipped": sum(c.find("skipped") is not None for c in cases)}
        for attr, n in counted.items():
            if suite_.get(attr) != str(n):
                errors.append(f"testsuite {attr}={suite_.get(attr)} but {n} testcases say so")
        for case in cases:
            if not case.get("name") or not case.get("classname"):
                errors.append("testcase without name or classname")
            if len([e for e in case if e.tag in ("failure", "error", "skipped")]) > 1:
                errors.append(f"testcase {case.get('name')[:40]} with two results")
            failure = case.find("failure")
            if failure is not None and not (failure.get("message") and failure.get("type")):
                errors.append("failure without message or type (the stricter schemas require both)")
            if set(e.tag for e in case) - {"failure", "error", "skipped", "system-out", "system-err"}:
                errors.append(f"testcase holds {[e.tag for e in case]}")
    return errors, root


# The BMF JSON Schema of bencher.dev/bmf.json (draft-07): {benchmark: {measure: {value, lower_value,
# upper_value}}}, value required, all numbers; names at most 1024 (benchmark) and 64 (measure).
BMF_SCHEMA = {"type": "object", "patternProperties": {".+": {
    "type": "object", "patternProperties": {".+": {
        "type": "object", "required": ["value"], "properties": {
            "value": {"type": "number"}, "lower_value": {"type": "number"},
            "upper_value": {"type": "number"}}}}}}}


def bmf_errors(text):
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        return [f"not JSON: {e}"]
    errors = []
    if not isinstance(document, dict) or not document:
        return ["not a non-empty object"]
    for benchmark, measures in document.items():
        if len(benchmark) > 1024:
            errors.append("benchmark name above 1024 characters")
        for measure, metric in (measures.items() if isinstance(measures, dict) else [("?", None)]):
            if len(measure) > 64:
                errors.append(f"measure name {measure[:20]} above 64 characters")
            if not isinstance(metric, dict) or not isinstance(metric.get("value"), (int, float)) \
                    or isinstance(metric.get("value"), bool):
                errors.append(f"{benchmark[:30]}/{measure}: no numeric value")
                continue
            if set(metric) - {"value", "lower_value", "upper_value"}:
                errors.append(f"{measure}: unknown keys {set(metric)}")
            if ("lower_value" in metric) != ("upper_value" in metric):
                errors.append(f"{measure}: one bound only")
            if "lower_value" in metric and not metric["lower_value"] <= metric["upper_value"]:
                errors.append(f"{measure}: lower above upper")
    probe = run(SYSTEM_PYTHON, "-c", "import jsonschema, json, sys; "
                "jsonschema.validate(json.load(open(sys.argv[1])), json.loads(sys.argv[2]))",
                _saved("bmf.json", text), json.dumps(BMF_SCHEMA))
    if probe.returncode != 0 and "No module named" not in probe.stderr:
        errors.append(f"jsonschema: {probe.stderr.strip()[-200:]}")
    return errors


def github_action_errors(text):
    """github-action-benchmark's customSmallerIsBetter input: a JSON array of objects with
    name (string), unit (string), value (number), optional range and extra (strings)."""
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as e:
        return [f"not JSON: {e}"]
    if not isinstance(entries, list) or not entries:
        return ["not a non-empty array"]
    errors = []
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not isinstance(e.get("unit"), str):
            errors.append(f"entry without name or unit: {str(e)[:60]}")
            continue
        if not isinstance(e.get("value"), (int, float)) or isinstance(e["value"], bool) \
                or not math.isfinite(e["value"]):
            errors.append(f"{e['name'][:30]}: value is not a number")
        if any(k in e and not isinstance(e[k], str) for k in ("range", "extra")):
            errors.append(f"{e['name'][:30]}: range or extra not a string")
        if set(e) - {"name", "unit", "value", "range", "extra"}:
            errors.append(f"{e['name'][:30]}: unknown keys")
    if len({e.get("name") for e in entries if isinstance(e, dict)}) != len(entries):
        errors.append("two entries share a name (the chart would merge them)")
    return errors


def _saved(name, text):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def compare_document(*args):
    status, out, err = compare("--format", "json", *args)
    return json.loads(out) if out.strip().startswith("{") else None, err


# ------------------------------------------------------------------ the table

def test_columns_agree_with_change():
    """Rounds at two levels with skewed samples: the pooled median (11) of the candidate is above
    the baseline (10) while the median of round medians (8) is below it."""
    document = synth.synthetic_run(suite(), rounds=4)
    for cell in document["cells"]:
        if cell["benchmark"] == "vdso.getcpu":
            per_round = ([10.0] * 5,) * 4 if cell["seal"] == "none" else \
                ([5, 5, 5, 50, 50], [5, 5, 5, 50, 50], [11] * 5, [11] * 5)
            cell["samples"] = [float(v) for values in per_round for v in values]
            cell["rounds"] = [r for r, values in enumerate(per_round) for _ in values]
            cell["counters"] = None
            cell["summary"] = results.cell_summary(cell["samples"])
    path = write("skewed.json", document)
    data, err = compare_document(path)
    rows = (data or {}).get("comparisons", [])
    wrong = [f"{c['benchmark']} {c['metric']}: {c['base_median']} -> {c['cand_median']} ({c['change_pct']}%)"
             for c in rows if c["change_pct"] and (c["cand_median"] - c["base_median"]) * c["change_pct"] < 0]
    getcpu = [c for c in rows if c["benchmark"] == "vdso.getcpu" and c["metric"] == "time"]
    ok(rows and not wrong and getcpu and getcpu[0]["cand_median"] == 8.0,
       "json: every row's baseline and candidate agree with the sign of its change", "; ".join(wrong[:3]) or err)
    status, out, _ = compare(path)
    line = next((ln for ln in out.splitlines() if ln.startswith("vdso.getcpu ")), "")
    m = re.search(r"\s(\S+)\s+(\S+) \(\s*([-+][\d.]+)%\)", line)
    ok(m and (float(m.group(2)) - float(m.group(1))) * float(m.group(3)) > 0,
       "text: the columns of the skewed cell move the way its change says", line)


def test_quick_runs_say_how_many_rounds():
    a = write("quick-a.json", synth.synthetic_run(suite(), rounds=3, seed=1))
    b = write("quick-b.json", synth.synthetic_run(suite(), rounds=3, seed=2))
    _, _, err = compare(a, b)
    ok("at least 4 rounds could decide" in err and "--repetitions 4" in err,
       "two 3-round runs: a warning names the 4 rounds that could decide", err)
    c = write("four-a.json", synth.synthetic_run(suite(), rounds=4, seed=1))
    d = write("four-b.json", synth.synthetic_run(suite(), rounds=4, seed=2))
    _, _, err = compare("--alpha", "0.01", c, d)
    ok(re.search(r"can never be called a regression.*p is at least 0\.0286.*at least 5 rounds", err),
       "two 4-round runs at alpha 0.01: the p can never get below alpha, 5 rounds could", err)
    _, _, err = compare(c, d)
    ok("can never" not in err, "two 4-round runs at alpha 0.05: no such warning", err)


def test_noisy_cells_are_warned_about():
    specs = suite()
    for spec in specs:
        if spec["benchmark"] == "vdso.getcpu":
            spec["cv"] = 1.5
    path = write("noisy.json", synth.synthetic_run(specs, rounds=6))
    _, _, err = compare(path)
    ok(re.search(r"\d+ cells? vary by more than 100% .*vdso\.getcpu", err),
       "a cell above 100% coefficient of variation gets a plain warning", err)
    _, _, err = compare(slowed_run("calm.json"))
    ok("vary by more than" not in err, "calm cells get none", err)


def test_zero_counters_are_summed_up():
    specs = suite()
    for spec in specs:
        spec["counters"] = dict(spec["counters"], **{"page-faults": 0.0})
    path = write("zero-counter.json", synth.synthetic_run(specs, rounds=6))
    _, out, _ = compare(path)
    lines = [ln for ln in out.splitlines() if "page-faults" in ln]
    cells = len({(s["benchmark"], json.dumps(s["params"])) for s in specs})
    ok(len(lines) == 1 and f"in {cells} cells" in lines[0] and "median is 0" in lines[0],
       f"a counter at zero in all {cells} cells is one line of 'not compared'", "\n".join(lines[:4]))


# ------------------------------------------------------------------ comparison formats

def test_email():
    path = hostile_run("hostile-email.json")
    status, out, err = compare("--format", "email", path)
    long_lines = [ln for ln in out.splitlines() if len(ln) > 100]
    controls = [ch for ch in out if not ch.isprintable() and ch != "\n"]
    ok(out and not long_lines and not controls, "email: every line within 100 columns, no control character",
       f"{len(long_lines)} long, {controls[:3]}; {err}")
    quick = write("email-quick.json", synth.synthetic_run(suite(), rounds=3))
    status, out, _ = compare("--format", "email", quick)
    ok(re.search(r"^warning: \d+ cells undecidable.*\n  .*", out, re.M) and max(map(len, out.splitlines())) <= 100,
       "email: compare's warnings close the mail, wrapped to 100 columns", out[-400:])
    path = slowed_run("email.json")
    status, out, _ = compare("--format", "email", path)
    rows = [ln for ln in out.splitlines() if re.match(r"(vdso|mseal)\.", ln)]
    bad = []
    for ln in rows:
        m = re.search(r"\s(\d[\d.]*)\s+(\d[\d.]*) \(\s*([-+][\d.]+)%\)", ln)
        if not m or (float(m.group(2)) - float(m.group(1))) * float(m.group(3)) < 0:
            bad.append(ln)
    ok(rows and not bad and "Gmean" in out and "regression" in out and status == 1,
       "email: a row per cell with baseline, candidate (change) and verdict, Gmean rows, exit status 1",
       "\n".join(bad[:2]) or out[:300])


def test_bmf():
    data, _ = compare_document(slowed_run("bmf.json"))
    status, out, err = compare("--format", "bmf", slowed_run("bmf.json"))
    errors = bmf_errors(out)
    document = json.loads(out) if not errors else {}
    getcpu = next((m for name, m in document.items() if name.startswith("vdso.getcpu [-] none->sysmap")
                   and "latency" in m), None)
    row = next((c for c in (data or {}).get("comparisons", []) if c["benchmark"] == "vdso.getcpu"
                and c["metric"] == "time"), None)
    ok(not errors and getcpu and row and abs(getcpu["latency"]["value"] - row["cand_median"]) < 1e-9
       and abs(getcpu["ratio"]["lower_value"] - row["ci_low"]) < 1e-9,
       "bmf: valid Bencher Metric Format; latency is the candidate, bounds from the CI",
       "; ".join(errors[:3]) or str(getcpu))
    status, out, _ = compare("--format", "bmf", hostile_run("hostile-bmf.json"))
    errors = bmf_errors(out)
    ok(not errors and any(HOSTILE in name for name in json.loads(out)),
       "bmf: hostile names are JSON strings that read back as the same text", "; ".join(errors[:3]))


def test_github_action():
    status, out, _ = compare("--format", "github-action", slowed_run("gab.json"))
    errors = github_action_errors(out)
    entries = json.loads(out) if not errors else []
    regression = [e for e in entries if e["name"].startswith("vdso.getcpu [-] none->sysmap")
                  and e["unit"] == "ns/op"]
    ok(not errors and regression and "regression" in regression[0]["extra"] and "%" in regression[0]["range"],
       "github-action: customSmallerIsBetter entries, CI as range, verdict in extra",
       "; ".join(errors[:3]) or str(regression[:1]))
    status, out, _ = compare("--format", "github-action", hostile_run("hostile-gab.json"))
    ok(not github_action_errors(out), "github-action: hostile names stay JSON strings",
       "; ".join(github_action_errors(out)[:3]))


def test_junit():
    data, _ = compare_document(slowed_run("junit.json"))
    status, out, _ = compare("--format", "junit", slowed_run("junit.json"))
    errors, root = junit_errors(out)
    regressions = [c for c in (data or {}).get("comparisons", []) + (data or {}).get("geomeans", [])
                   if c["metric"] == "time" and c["verdict"] == "regression"]
    failures = [] if root is None else root.findall(".//failure")
    times = [c for c in (data or {}).get("comparisons", []) if c["metric"] == "time"]
    ok(not errors and regressions and len(failures) == len(regressions)
       and all(re.search(r"change \+\d+\.\d+%", f.get("message")) for f in failures)
       and len(root.findall(".//testcase")) == len(times) + len(data["geomeans"]),
       "junit: a testcase per compared cell and geomean, each regression a failure with its numbers",
       "; ".join(errors[:3]) or f"{len(failures)} failures, {len(regressions)} regressions")
    status, out, _ = compare("--format", "junit", hostile_run("hostile-junit.json"))
    errors, root = junit_errors(out)
    names = [] if root is None else [c.get("name") for c in root.iter("testcase")]
    ok(not errors and names and all("<b>" in n and "\\n" in n and "\n" not in n for n in names
                                     if "geomean" not in n)
       and not root.findall(".//b"),
       "junit: hostile names are attribute text (markup inert, control characters escaped)",
       "; ".join(errors[:3]) or str(names[:1]))


def test_tap():
    data, _ = compare_document(slowed_run("tap.json"))
    status, out, _ = compare("--format", "tap", slowed_run("tap.json"))
    errors, tests = tap13_errors(out)
    regressions = sum(c["verdict"] == "regression" for c in (data or {}).get("comparisons", [])
                      + (data or {}).get("geomeans", []) if c["metric"] == "time")
    ok(not errors and tests and sum(not t["ok"] for t in tests) == regressions > 0
       and re.search(r"# Totals: pass:\d+ fail:%d " % regressions, out),
       "tap: TAP 13 with a plan, a line per verdict, 'not ok' for each regression, kselftest Totals",
       "; ".join(errors[:3]))
    status, out, _ = compare("--format", "tap", hostile_run("hostile-tap.json"))
    errors, tests = tap13_errors(out)
    ok(not errors and tests and not any(t["directive"] for t in tests if t["ok"] and "undecidable" not in
                                        t["description"]) and "not ok 99" not in out.replace("\\# not ok 99", ""),
       "tap: a hostile '#', newline or 'not ok' in a name starts no directive and no line",
       "; ".join(errors[:3]))
    quick = write("tap-quick.json", synth.synthetic_run(suite(), rounds=3))
    status, out, _ = compare("--format", "tap", quick)
    errors, tests = tap13_errors(out)
    ok(not errors and tests and all(t["directive"] == "SKIP" for t in tests),
       "tap: undecidable comparisons are SKIP with their reason", "; ".join(errors[:3]))


def test_comparison_csv():
    data, _ = compare_document(slowed_run("csv.json"))
    status, out, _ = compare("--format", "csv", slowed_run("csv.json"))
    rows = list(csv.DictReader(io.StringIO(out)))
    expected = len(data["comparisons"]) + len(data["geomeans"])
    numeric = all(float(r["ratio"]) > 0 for r in rows)
    ok(len(rows) == expected and numeric and {"baseline_value", "candidate_value", "verdict"} <= set(rows[0]),
       f"csv: one row per compared cell, metric and geomean ({expected})", f"{len(rows)} rows")
    status, out, _ = compare("--format", "csv", hostile_run("hostile-csv.json"))
    rows = list(csv.reader(io.StringIO(out)))
    widths = {len(r) for r in rows}
    formulas = [f for r in rows for f in r if f and f[0] in "=+-@" and not re.fullmatch(r"-?[\d.e+-]+", f)]
    ok(len(widths) == 1 and not formulas and not any("\n" in f or "\x1b" in f for r in rows for f in r),
       "csv: hostile text keeps its row, starts no formula, holds no control character",
       f"widths {widths}, formulas {formulas[:2]}")


def test_out_file_and_dash():
    path = slowed_run("out.json")
    target = os.path.join(WORK, "verdicts.tap")
    status, out, _ = compare("--format", "tap", "--out", target, path)
    with open(target) as f:
        written = f.read()
    status2, out2, _ = compare("--format", "tap", "--out", "-", path)
    ok(out == "" and written.startswith("TAP version 13") and out2 == written and status == status2 == 1,
       "compare --out FILE writes the file (exit status kept), --out - standard output")


# ------------------------------------------------------------------ run formats

def export(*args):
    return run(sys.executable, EXPORT, *args)


def test_run_csv():
    path = write("tidy.json", synth.synthetic_run(suite(), rounds=4))
    loaded = results.load_run(path)
    out = export("--format", "csv", path)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    samples = sum(len(c.samples) for c in loaded.ok_cells())
    first = loaded.ok_cells()[0]
    mine = [r for r in rows if r["benchmark"] == first.benchmark and r["seal"] == first.seal
            and r["params"] == (results.params_text(first.params) if first.params else "")]
    ok(out.returncode == 0 and len(rows) == samples and [float(r["value"]) for r in mine] == first.samples
       and "task-clock" in rows[0] and [int(r["round"]) for r in mine] == first.rounds,
       f"export csv: one row per sample ({samples}), its round and counters", out.stderr)
    out = export("--format", "csv", hostile_run("hostile-tidy.json"))
    rows = list(csv.reader(io.StringIO(out.stdout)))
    ok(out.returncode == 0 and len({len(r) for r in rows}) == 1
       and not any(f[:1] == "=" for r in rows for f in r) and "\x1b" not in out.stdout,
       "export csv: hostile labels stay in their field", out.stderr)


def test_run_trackers():
    """export bmf and github-action: a tracker's history gets each cell's median and its CI."""
    path = write("tracked.json", synth.synthetic_run(suite(), rounds=6))
    loaded = results.load_run(path)
    out = export("--format", "bmf", path)
    errors = bmf_errors(out.stdout)
    document = json.loads(out.stdout) if not errors else {}
    cell = next(c for c in loaded.ok_cells() if c.benchmark == "vdso.getcpu" and c.seal == "sysmap")
    metric = document.get("vdso.getcpu [-] sysmap", {}).get("latency", {})
    median = sorted(sorted(v for v, r in zip(cell.samples, cell.rounds) if r == k)[2] for k in range(6))
    ok(out.returncode == 0 and not errors and len(document) == len(loaded.ok_cells())
       and metric.get("lower_value", 0) <= metric.get("value") <= metric.get("upper_value", 0)
       and abs(metric["value"] - (median[2] + median[3]) / 2) < 1e-9,
       "export bmf: valid BMF, a cell's median of round medians inside its CI bounds",
       "; ".join(errors[:3]) or out.stderr or str(metric))
    out = export("--format", "github-action", path)
    errors = github_action_errors(out.stdout)
    ok(out.returncode == 0 and not errors and len(json.loads(out.stdout)) == len(loaded.ok_cells()),
       "export github-action: a customSmallerIsBetter entry per cell", "; ".join(errors[:3]) or out.stderr)
    out = export("--format", "bmf", hostile_run("hostile-tracked.json"))
    ok(out.returncode == 0 and not bmf_errors(out.stdout) and any(HOSTILE in n for n in json.loads(out.stdout)),
       "export bmf: hostile names read back as the same text", out.stderr)


def test_gbench():
    a = write("gb-a.json", synth.synthetic_run(suite(), rounds=9, seed=1))
    b = write("gb-b.json", synth.synthetic_run(suite(effects={"sysmap": 0.10}), rounds=9, seed=2))
    outs = []
    for path in (a, b):
        out = export("--format", "gbench", path, "--out", path + ".gb")
        outs.append(out)
    with open(a + ".gb") as f:
        document = json.load(f)
    iterations = [x for x in document["benchmarks"] if x["run_type"] == "iteration"]
    cells = len(results.load_run(a).ok_cells())
    ok(all(o.returncode == 0 for o in outs) and len(iterations) == 9 * cells
       and all(x["time_unit"] == "ns" and x["real_time"] > 0 for x in iterations)
       and {"date", "host_name", "num_cpus"} <= set(document["context"]),
       "export gbench: google-benchmark JSON, a repetition per round of each cell")
    probe = run(SYSTEM_PYTHON, "-c", "import scipy, numpy")
    if not os.path.exists(GBENCH_COMPARE) or probe.returncode != 0:
        skip("google-benchmark's tools/compare.py reads two exported runs",
             "libbenchmark-tools or python3-scipy not installed (tools/deps.sh check)")
        return
    out = run(SYSTEM_PYTHON, GBENCH_COMPARE, "--no-color", "benchmarks", a + ".gb", b + ".gb",
              timeout=300)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("vdso.getcpu/sysmap_median")), "")
    change = re.search(r"\s([-+]\d\.\d+)\s", line)
    ok(out.returncode == 0 and change and 0.05 < float(change.group(1)) < 0.15
       and "vdso.getcpu/sysmap_pvalue" in out.stdout,
       "google-benchmark's own tools/compare.py reads two exported runs (the 10% slowdown, a U test)",
       out.stderr[-300:] or line)


# ------------------------------------------------------------------ entry points

def test_msealbench_commands():
    if not os.access(MSEALBENCH, os.X_OK):
        skip("msealbench export, run --format", f"{MSEALBENCH} not built")
        return
    path = write("cmd.json", synth.synthetic_run(suite(), rounds=4))
    out = run(MSEALBENCH, "export", "--format", "csv", path, "--out", "-")
    ok(out.returncode == 0 and out.stdout.startswith("label,date,benchmark"),
       "msealbench export --format csv FILE --out -", out.stderr)
    out = run(MSEALBENCH, "export", "--format", "tap", path)
    ok(out.returncode == 2 and out.stderr.count("\n") == 1, "msealbench export: an unknown format is one line, 2",
       out.stderr)
    results_path, csv_path = os.path.join(WORK, "run.json"), os.path.join(WORK, "run.csv")
    out = run(MSEALBENCH, "run", "--quick", "--filter", "harness.empty", "--seal", "none,sysmap",
              "--events", "none", "--out", results_path, "--format", "csv", "--format-out", csv_path, timeout=300)
    rows = list(csv.DictReader(open(csv_path))) if os.path.exists(csv_path) else []
    ok(out.returncode == 0 and rows and len(rows) == sum(len(c.samples) for c in
                                                         results.load_run(results_path).ok_cells()),
       "msealbench run --format csv --format-out FILE: the results and their CSV", out.stderr[-300:])
    progress = re.findall(r"round (\d+)/3 done, [\d.]+ s elapsed, about [\d.]+ s to go", out.stderr)
    ok(progress == ["1", "2", "3"], "run on a non-terminal: one progress line per round, with time to go",
       out.stderr[-300:])
    out = run(MSEALBENCH, "run", "--quick", "--filter", "harness.empty", "--seal", "none",
              "--events", "none", "--out", results_path, "--format", "gbench", timeout=300)
    try:
        gbench = json.loads(out.stdout)
    except json.JSONDecodeError:
        gbench = {}
    ok(out.returncode == 0 and gbench.get("benchmarks") and "benchmark (ns/op" in out.stderr,
       "msealbench run --format gbench: the JSON on stdout, the table moved to stderr", out.stderr[-300:])
    out = run(MSEALBENCH, "run", "--format", "gbench", "--out", "-")
    ok(out.returncode == 2 and "--format" in out.stderr, "run --format with --out -: refused before running",
       out.stderr)
    from msb import ci_formats
    known = {f: run(MSEALBENCH, "run", "--format", f, "--out", "-").stderr for f in list(ci_formats.RUN_FORMATS) + ["xml"]}
    ok(all("not a run format" not in known[f] for f in ci_formats.RUN_FORMATS) and "not a run format" in known["xml"],
       "run --format knows export's formats (msb/ci_formats.py RUN_FORMATS), and only those", str(known))


def main():
    test_columns_agree_with_change()
    test_quick_runs_say_how_many_rounds()
    test_noisy_cells_are_warned_about()
    test_zero_counters_are_summed_up()
    test_email()
    test_bmf()
    test_github_action()
    test_junit()
    test_tap()
    test_comparison_csv()
    test_out_file_and_dash()
    test_run_csv()
    test_run_trackers()
    test_gbench()
    test_msealbench_commands()
    shutil.rmtree(WORK, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
