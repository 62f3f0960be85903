# SPDX-License-Identifier: GPL-2.0-only
"""Synthetic msealbench results (schema v1) with known distributions, seeded: latencies
log-normal around fixed medians, a drift shared by each round, rare outliers."""
import fnmatch
import math
import random

from . import results

# benchmark, family, parameter sets, median ns/op, coefficient of variation. Names and
# parameters are those of `msealbench list` (tests/t_results.py checks that they still are).
DEFAULT_SUITE = [
    ("vdso.clock_gettime.monotonic", "vdso", [{}], 24.0, 0.03),
    ("vdso.getcpu", "vdso", [{}], 31.0, 0.03),
    ("mremap.move", "mremap", [{"pages": p} for p in (1, 16, 512)], 40000.0, 0.04),
    ("mremap.munmap", "mremap", [{"pages": 1, "vmas": v} for v in (1, 8, 64, 512)], 42000.0, 0.04),
    ("fork.vfork", "fork", [{}], 60000.0, 0.06),
    ("mseal.range", "mseal", [{"vmas": v} for v in (1, 16, 256, 4096)], 1500.0, 0.04),
    ("harness.empty", "harness", [{}], 1.5, 0.02),
]
OUTLIER_PROBABILITY = 0.01


def suite_specs(seals, filters=None, effects=None, medians_scale=1.0):
    """Cell specs of DEFAULT_SUITE for the given seal modes; effects maps a seal mode to
    a true relative cost."""
    specs = []
    for benchmark, family, param_sets, median, cv in DEFAULT_SUITE:
        if filters and not any(_matches(benchmark, f) for f in filters):
            continue
        for params in param_sets:
            scale = 1.0 + 0.15 * math.log2(1 + max(params.values(), default=0))
            for seal in seals:
                specs.append({"benchmark": benchmark, "family": family, "params": params,
                              "seal": seal, "median": median * scale * medians_scale, "cv": cv,
                              "effect": (effects or {}).get(seal, 0.0),
                              "counters": {"task-clock": median * scale,
                                           "instructions:k": 900.0 * scale}})
    return specs


def _matches(benchmark, pattern):
    return fnmatch.fnmatch(benchmark, pattern) or pattern in benchmark


def synthetic_run(specs, seed=1, rounds=20, per_round=5, drift_sd=0.02, label=None,
                  date="2026-11-27T07:00:00Z", partial=False, inject=None, reference_ns=None, slow=None):
    """A results document. inject = (fraction, seal mode or None) slows matching cells.
    reference_ns: each sample gets a getppid probe of about that many ns, following the host's
    speed; slow = (factor, rounds): in those rounds the host is slower by factor, samples and
    probes alike (a shared host's slow period)."""
    rng = random.Random(seed)
    drift = _round_drift(rng, rounds, drift_sd)
    if slow:
        drift = [level * (slow[0] if rnd in slow[1] else 1.0) for rnd, level in enumerate(drift)]
    cells = [_cell(spec, rng, drift, per_round, inject) for spec in specs]
    if reference_ns:
        _add_references(cells, drift, reference_ns, random.Random(seed + 7919))
    counted = sorted({name for spec in specs for name in spec.get("counters") or {}})
    context = _context(seed, label, date, sorted({s["seal"] for s in specs}), rounds, inject, counted)
    context["options"]["reference"] = "getppid" if reference_ns else None
    return results.document(context, cells, partial)


def _add_references(cells, drift, reference_ns, rng):
    """Each ok cell's reference_ns: the probe at its round's host speed, with a little noise (its own
    generator, so the samples are those of the same seed without references)."""
    for cell in cells:
        if cell["status"] == "ok":
            cell["reference_ns"] = [reference_ns * drift[rnd] * math.exp(rng.gauss(0.0, 0.01))
                                    for rnd in cell["rounds"]]


def _round_drift(rng, rounds, drift_sd):
    """A slow random walk: the machine gets faster or slower for all cells of a round."""
    level, walk = 0.0, []
    for _ in range(rounds):
        level = 0.7 * level + rng.gauss(0.0, drift_sd)
        walk.append(math.exp(level))
    return walk


def _cell(spec, rng, drift, per_round, inject):
    cell = {
        "benchmark": spec["benchmark"], "family": spec.get("family", spec["benchmark"].split(".")[0]),
        "summary_text": "synthetic " + spec["benchmark"], "params": spec.get("params", {}),
        "seal": spec["seal"], "unit": "ns/op", "status": spec.get("status", "ok"),
        "reason": spec.get("reason"), "notes": ["synthetic data"], "batch": 1, "vma_count": 40,
        "samples": [], "rounds": [], "cycles": None, "counters": None, "summary": None,
    }
    if cell["status"] != "ok":
        return cell
    slowdown = (1.0 + spec.get("effect", 0.0)) * _injected(spec["seal"], inject)
    counter_medians = spec.get("counters") or {}
    values = {name: [] for name in counter_medians}
    for rnd, level in enumerate(drift):
        level = level if spec.get("follows_host", True) else 1.0   # e.g. a vDSO read: no kernel entry
        for _ in range(per_round):
            noise = math.exp(rng.gauss(0.0, spec["cv"]))
            if rng.random() < OUTLIER_PROBABILITY:
                noise *= rng.uniform(1.5, 3.0)
            cell["samples"].append(spec["median"] * slowdown * level * noise)
            cell["rounds"].append(rnd)
            for name, centre in counter_medians.items():
                values[name].append(centre * slowdown * math.exp(rng.gauss(0.0, spec["cv"] / 4)))
    if counter_medians:
        cell["counters"] = _counters(values, len(cell["samples"]))
    cell["summary"] = results.cell_summary(cell["samples"])
    return cell


def _injected(seal, inject):
    if not inject:
        return 1.0
    fraction, mode = inject
    return 1.0 + fraction if mode in (None, seal) else 1.0


def _counters(values, count):
    events = [{"name": n, "status": "counted", "reason": None} for n in values]
    events.append({"name": "cycles", "status": "unsupported", "reason": "ENOENT: no such PMU event"})
    return {"events": events, "values": values, "running_ratio": [1.0] * count}


def _context(seed, label, date, seals, rounds, inject, events):
    return {
        "tool": {"name": "msealbench", "version": "0.1.0", "git_revision": "synthetic"},
        "date": date, "label": label, "host": "synthetic",
        "kernel": {"release": "6.18.0-synthetic", "version": "#1", "cmdline": ""},
        "arch": "x86_64", "cpu_model": "synthetic", "cpu_count": 2, "clocksource": "tsc",
        "virtualization": "none", "cpufreq": {"governor": None, "boost": None, "smt": None},
        "perf_event_paranoid": 2, "mseal_available": True, "kernel_sealed_system_mappings": [],
        "seed": seed,
        "options": {"repetitions": rounds, "max_rounds": rounds, "time_budget_s": None,
                    "precision_targets": {"harness": 0.01, "vdso": 0.01, "mremap": 0.01, "fork": 0.02,
                                          "exec": 0.02, "mseal": 0.02},
                    "min_time_s": 0.0, "quick": False, "cpu": None,
                    "seal_modes": seals, "filter": None, "events": ",".join(events) or None,
                    "inject_delay": None if not inject else
                    {"fraction": inject[0], "seal": inject[1]}},
        "timer": {"clock": "CLOCK_MONOTONIC_RAW", "overhead_ns": 20.0, "resolution_ns": 1.0,
                  "cycle_counter": {"name": "tsc", "reliable": False, "hz": None}},
        "loop_overhead_ns": 0.5,
    }


def synthetic_history(specs, runs, seed=100, rounds=12, step=None, drift_sd=0.02):
    """[(file name, document)] of a history of runs labelled r01, r02, ... a day apart.
    step = (fraction, first run (1-based), benchmark pattern or None): from that run on, the
    matching cells are slower by fraction (a known change point for the detector to find)."""
    history = []
    for number in range(1, runs + 1):
        run_specs = [dict(spec) for spec in specs]
        if step and number >= step[1]:
            for spec in run_specs:
                if step[2] is None or _matches(spec["benchmark"], step[2]):
                    spec["median"] *= 1.0 + step[0]
        document = synthetic_run(run_specs, seed=seed * 1000 + number, rounds=rounds, drift_sd=drift_sd,
                                 label=f"r{number:02d}",
                                 date=f"2026-{1 + (number - 1) // 28:02d}-{1 + (number - 1) % 28:02d}T07:00:00Z")
        history.append((f"run-{number:02d}.json", document))
    return history
