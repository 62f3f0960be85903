#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""compare --per-reference: samples scaled by the getppid probe around each (reference_ns), on
synthetic runs of a host that switches between a fast and a slow period; the VM merge and the
schema of reference_ns."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, check_schema, done, ok, schema_errors, skip  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import merging, reference, results, synth  # noqa: E402

COMPARE = os.path.join(TOP, "plots", "compare.py")
WORK = tempfile.mkdtemp(prefix="msealbench-t_reference.")
ROUNDS = 24
SLOW = 1.15                      # the host's slow period: everything 15% slower, the probe too
FEW_SLOW = set(range(0, ROUNDS, 6))           # run A: 4 of 24 rounds slow
MANY_SLOW = set(range(ROUNDS)) - {3, 11, 19}  # run B: 21 of 24 rounds slow
REFERENCE = "harness.syscall.getppid"


def specs(slower=None, reference_cell=True, seals=("none",)):
    """Two cells of no true difference between runs (slower: that benchmark 5% slower), and the
    reference's own cell (a control cell too: raw, it would make the others not attributable)."""
    cells = [("mremap.move", 40000.0), ("mseal.range", 1500.0)] + ([(REFERENCE, 170.0)] if reference_cell else [])
    return [{"benchmark": b, "params": {}, "seal": seal, "median": m * (1.05 if b == slower else 1.0),
             "cv": 0.03} for b, m in cells for seal in seals]


def write_run(name, slow_rounds, seed, slower=None, reference_ns=170.0, kernel=None, **kinds):
    document = synth.synthetic_run(specs(slower, **kinds), seed=seed, rounds=ROUNDS, per_round=5, drift_sd=0.01,
                                   label=name, reference_ns=reference_ns, slow=(SLOW, slow_rounds))
    if kernel:
        document["context"]["kernel"]["release"] = kernel
    path = os.path.join(WORK, name + ".json")
    results.write_run(path, document)
    return path


def compare(*args):
    result = subprocess.run([sys.executable, COMPARE, "--bootstrap", "500", *args],
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def compare_json(*args):
    status, out, err = compare("--format", "json", *args)
    try:
        return status, json.loads(out), err
    except json.JSONDecodeError:
        return status, None, err


def verdict(document, benchmark):
    return next((c["verdict"] for c in (document or {}).get("comparisons", [])
                 if c["benchmark"] == benchmark and c["metric"] == "time"), None)


def test_slow_periods_cancel():
    base = write_run("fast", FEW_SLOW, 1, reference_cell=False)
    cand = write_run("slow", MANY_SLOW, 2, reference_cell=False)
    _, raw, _ = compare_json(base, cand)
    _, scaled, err = compare_json("--per-reference", base, cand)
    raw_verdicts = [verdict(raw, b) for b in ("mremap.move", "mseal.range")]
    scaled_verdicts = [verdict(scaled, b) for b in ("mremap.move", "mseal.range")]
    ok(all(v in ("regression", "inconclusive") for v in raw_verdicts),
       "raw: a run that spent more rounds in the host's slow period looks slower", str(raw_verdicts))
    ok(scaled_verdicts == ["equivalent", "equivalent"],
       "per reference: the same cells are equivalent", f"{scaled_verdicts} {err.strip()[-300:]}")
    p_ns = ((scaled or {}).get("per_reference") or {}).get("p_ns")
    ok(raw and raw.get("per_reference") is None and isinstance(p_ns, float) and 170.0 < p_ns < 170.0 * SLOW * 1.02,
       "json: per_reference is null without the option, {p_ns: the pooled median probe} with it",
       f"{raw and raw.get('per_reference')} {p_ns}")


def test_true_slowdown_found():
    base, cand = write_run("fast2", FEW_SLOW, 3), write_run("slow5", MANY_SLOW, 4, slower="mseal.range")
    status, scaled, err = compare_json("--per-reference", base, cand)
    found = [verdict(scaled, b) for b in ("mremap.move", "mseal.range")]
    ok(found == ["equivalent", "regression"] and status == 1,
       "per reference: a true 5% slowdown is a regression, its unchanged neighbour equivalent",
       f"{found} exit {status} {err.strip()[-300:]}")


def test_slopes():
    """A cell that does not slow with the host (a vDSO read never enters the kernel) gets b = 0 and
    stays as measured; one that slows as the probe does gets b = 1."""
    def run(name, slow_rounds, seed):
        cells = [{"benchmark": "mremap.move", "params": {}, "seal": "none", "median": 40000.0, "cv": 0.03},
                 {"benchmark": "vdso.clock_gettime.monotonic", "params": {}, "seal": "none", "median": 25.0,
                  "cv": 0.03, "follows_host": False}]
        document = synth.synthetic_run(cells, seed=seed, rounds=ROUNDS, per_round=5, drift_sd=0.01, label=name,
                                       reference_ns=170.0, slow=(SLOW, slow_rounds))
        path = os.path.join(WORK, name + ".json")
        results.write_run(path, document)
        return path
    _, scaled, err = compare_json("--per-reference", run("host-a", FEW_SLOW, 21), run("host-b", MANY_SLOW, 22))
    slopes = {s["benchmark"]: s["b"] for s in ((scaled or {}).get("per_reference") or {}).get("slopes", [])}
    ok(slopes == {"mremap.move": 1.0, "vdso.clock_gettime.monotonic": 0.0},
       "per reference: b = 1 for a cell that slows with the probe, 0 for one that does not", f"{slopes} {err[-300:]}")
    found = [verdict(scaled, b) for b in ("mremap.move", "vdso.clock_gettime.monotonic")]
    ok(found[0] in ("equivalent", "inconclusive") and found[1] == "equivalent",
       "per reference: neither is moved by the other run's slow periods (b = 1 would make the vDSO faster)",
       str(found))


def test_slope_rule():
    """reference.slope on hand-made centred rounds (x, y, odd, even): the rule of the module's text."""
    xs = [(-1) ** i * (0.05 + 0.01 * (i % 5)) for i in range(30)]
    def points(b, noise=0.0, swing=1.0):
        return [(x * swing, b * x * swing + noise * (-1) ** (i // 2), x * swing, x * swing) for i, x in enumerate(xs)]
    cases = [("proportional", points(1.0), 1.0), ("close to 1", points(1.2), 1.0), ("unrelated", points(0.0), 0.0),
             ("clearly 1.6", points(1.6), 1.6), ("above the range", points(3.0), 2.0),
             ("too noisy to tell: 1 first", points(0.5, noise=0.5), 1.0),
             ("halves that do not move together", [(x, x, x, -x) for x in xs], 1.0)]
    for name, pts, want in cases:
        got = reference.slope(pts, 2)
        ok(got is not None and abs(got - want) < 1e-9, f"slope rule: {name} -> {want}", str(got))
    ok(reference.slope(points(1.0)[:3], 2) is None, "slope rule: too few rounds to fit -> None (b = 1 is used)")


def test_reference_cell_not_compared():
    only = os.path.join(WORK, "only-getppid.json")
    results.write_run(only, synth.synthetic_run([{"benchmark": REFERENCE, "params": {}, "seal": seal, "median": 170.0,
                                                  "cv": 0.03} for seal in ("none", "sysmap")],
                                                seed=31, rounds=ROUNDS, reference_ns=170.0))
    status, out, err = compare("--per-reference", only)
    ok(status == 2 and len(err.strip().splitlines()) == 1 and only in err and "the reference itself" in err,
       "per reference on a run of getppid alone: exit 2, one line saying why", f"{status} {err!r}")
    base, cand = write_run("ref-a", FEW_SLOW, 5), write_run("ref-b", MANY_SLOW, 6)
    _, raw, _ = compare_json(base, cand)
    _, scaled, _ = compare_json("--per-reference", base, cand)
    listed = [c["benchmark"] for c in (scaled or {}).get("comparisons", []) + (scaled or {}).get("not_compared", [])]
    ok(verdict(raw, REFERENCE) is not None and REFERENCE not in listed,
       "per reference: the getppid cell (the reference itself) is left out", str(listed))
    for fmt in ("text", "markdown"):
        status, out, err = compare("--format", fmt, "--per-reference", base, cand)
        ok(f"{REFERENCE} is the reference and not compared" in out and "figures per reference: each sample s with getppid probe r scaled"
           in out and "P = " in out, f"{fmt}: the report says the figures are per reference and why getppid is "
           "not compared", out[:400] + err[-300:])
    status, out, _ = compare("--per-reference", write_run("modes", MANY_SLOW, 15, seals=("none", "sysmap")))
    ok(status in (0, 1) and "seal modes" in out and "figures per reference" in out,
       "per reference works on one run (seal modes) too", out[:300])
    status, out, err = compare("--per-reference", "--history", base, cand, os.path.join(WORK, "fast.json"))
    ok(status in (0, 1) and "figures per reference" in out and "history of 3 runs" in out,
       "per reference works on a history too", out[:300] + err[-300:])


def test_run_without_references():
    with_ref = write_run("with-ref", FEW_SLOW, 7)
    without = write_run("no-ref", FEW_SLOW, 8, reference_ns=None)
    status, out, err = compare("--per-reference", with_ref, without)
    lines = err.strip().splitlines()
    ok(status == 2 and len(lines) == 1 and without in lines[0] and "no reference probes" in lines[0]
       and "without --per-reference" in lines[0] and not out,
       "per reference on a run without reference_ns: exit 2, one line naming the file", f"{status} {err!r}")
    status, out, err = compare(with_ref, without)
    ok(status in (0, 1) and "mremap.move" in out, "without the option the same runs still compare",
       f"{status} {err[-300:]}")
    with open(with_ref, encoding="utf-8") as f:
        document = json.load(f)
    document["cells"][0]["reference_ns"][3] = 0
    bad = os.path.join(WORK, "zero-ref.json")
    results.write_run(bad, document)
    status, _, err = compare(bad)
    ok(status == 2 and "reference_ns" in err and len(err.strip().splitlines()) == 1,
       "a zero probe time is bad input (exit 2, one line)", err)
    document["cells"][0]["reference_ns"][3] = None
    untimed = os.path.join(WORK, "untimed-ref.json")
    results.write_run(untimed, document)
    status, out, err = compare(with_ref, untimed)
    ok(status in (0, 1) and "mremap.move" in out, "a null probe (the runner's clock could not time it) still compares",
       err[-300:])
    status, _, err = compare("--per-reference", with_ref, untimed)
    ok(status == 2 and untimed in err and "no reference probes" in err,
       "but that cell has no usable probes: --per-reference says so (exit 2)", err)
    document["cells"][0]["reference_ns"].pop()
    results.write_run(bad, document)
    status, _, err = compare(bad)
    ok(status == 2 and "one probe time per sample" in err, "reference_ns of another length than samples is bad input",
       err)


def test_kernels_differ():
    base = write_run("k-a", FEW_SLOW, 9, kernel="6.18.0-a")
    cand = write_run("k-b", FEW_SLOW, 10, kernel="6.19.0-b")
    same = write_run("k-a2", FEW_SLOW, 11, kernel="6.18.0-a")
    _, scaled, err = compare_json("--per-reference", base, cand)
    warned = [w for w in (scaled or {}).get("warnings", []) if "different kernels" in w]
    ok(warned and "6.18.0-a, 6.19.0-b" in warned[0] and "read the raw comparison too" in warned[0]
       and "different kernels" in err, "per reference on two kernels: the warning (stderr and json)",
       f"{warned} {err[-300:]}")
    two = [w for w in (scaled or {}).get("warnings", []) if w.startswith("per reference, two runs")]
    ok(two and "confirm a verdict with a third run" in two[0],
       "per reference on two runs: a warning that the intervals do not hold the runs' own spread", str(two))
    _, _, err = compare("--per-reference", base, same)
    ok("different kernels" not in err, "no such warning for runs of one kernel", err[-300:])
    _, _, err = compare(base, cand)
    ok("different kernels" not in err, "nor without --per-reference", err[-300:])


def test_merge_concatenates():
    boot = [synth.synthetic_run(specs(), seed=s, rounds=3, per_round=2, reference_ns=170.0) for s in (12, 13)]
    cells = merging.merge_cells([(1, boot[0]), (2, boot[1])])
    merged = next(c for c in cells if c["benchmark"] == "mremap.move")
    parts = [next(c for c in b["cells"] if c["benchmark"] == "mremap.move") for b in boot]
    ok(merged["reference_ns"] == parts[0]["reference_ns"] + parts[1]["reference_ns"]
       and len(merged["reference_ns"]) == len(merged["samples"]),
       "the VM merge concatenates reference_ns over boots", str(merged.get("reference_ns"))[:200])
    bare = json.loads(json.dumps(boot[1]))
    for c in bare["cells"]:
        c.pop("reference_ns", None)
    cells = merging.merge_cells([(1, boot[0]), (2, bare)])
    ok(all(c["reference_ns"] is None for c in cells), "a boot without reference_ns leaves the merged one null",
       str([c.get("reference_ns") for c in cells])[:200])
    timed = json.loads(json.dumps(boot))
    for b, t in zip(timed, (0.02, 0.05)):
        for c in b["cells"]:
            c["round_s"] = t
    for c in timed[1]["cells"]:     # the second boot lost its last round: 3 and 2 rounds
        kept = [i for i, r in enumerate(c["rounds"]) if r < 2]
        for series in ("samples", "rounds", "reference_ns"):
            c[series] = [c[series][i] for i in kept]
    cells = merging.merge_cells([(1, timed[0]), (2, timed[1])])
    ok(all(abs(c["round_s"] - (0.02 * 3 + 0.05 * 2) / 5) < 1e-9 for c in cells),
       "the VM merge gives round_s as the boots' mean, weighted by their rounds", str([c.get("round_s") for c in cells])[:200])


def test_schema():
    path = write_run("schema", FEW_SLOW, 14)
    check_schema([path], "a file with reference_ns and context.options.reference validates against the schema")
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    broken = {}
    for name, where in (("negative probe", "reference_ns"), ("context.options.reference a number", "context/options/reference")):
        copy = json.loads(json.dumps(document))
        if where == "reference_ns":
            copy["cells"][0]["reference_ns"][0] = -1.0
        else:
            copy["context"]["options"]["reference"] = 3
        broken[name] = (os.path.join(WORK, f"schema-{where.replace('/', '-')}.json"), where)
        results.write_run(broken[name][0], copy)
    errors = schema_errors([path for path, _ in broken.values()])
    for name, (path, where) in broken.items():
        if errors is None:
            skip(f"the schema refuses a {name}", "no python3-jsonschema")
        else:
            ok(errors[path] and errors[path].startswith(where) if where != "reference_ns" else
               errors[path] and "reference_ns" in errors[path], f"the schema refuses a {name}", str(errors[path]))


try:
    test_slow_periods_cancel()
    test_true_slowdown_found()
    test_slopes()
    test_slope_rule()
    test_reference_cell_not_compared()
    test_run_without_references()
    test_kernels_differ()
    test_merge_concatenates()
    test_schema()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
done()
