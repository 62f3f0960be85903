#!/usr/bin/env python3
"""Synthetic msealbench results (schema v1) with known distributions, seeded.

For tests and demos of compare/plot/validate without the C runner:
  synth.py run [--seal none,sysmap] [--inject-delay PCT[:MODE]] [--out FILE] ...
    accepts the options of `msealbench run` that validate.py uses and writes a run whose
    latencies are log-normal around fixed medians, with a drift shared by each round and
    rare outliers; --effect PCT[:MODE] adds a true cost to a seal mode.
  synth.py history DIR [--runs N]
    writes N labelled runs, the last one with a 6% slowdown in mremap, for trend plots.
"""
import argparse
import fnmatch
import json
import math
import os
import random
import sys

import msbcli
from msbcli import OutputError
from msbresults import BadInput

# benchmark, family, parameter sets, median ns/op, coefficient of variation
DEFAULT_SUITE = [
    ("vdso.clock_gettime.monotonic", "vdso", [{}], 24.0, 0.03),
    ("vdso.getcpu", "vdso", [{}], 31.0, 0.03),
    ("mremap.move", "mremap", [{"pages": p} for p in (1, 16, 256)], 40000.0, 0.04),
    ("mremap.vmas", "mremap", [{"vmas": v} for v in (1, 16, 256, 4096)], 42000.0, 0.04),
    ("fork.fork_exit_wait", "fork", [{}], 2.0e6, 0.06),
    ("mseal.range", "mseal", [{"pages": p} for p in (1, 64)], 1500.0, 0.04),
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
                  date="2026-11-27T07:00:00Z", partial=False, inject=None):
    """A results document. inject = (fraction, seal mode or None) slows matching cells."""
    rng = random.Random(seed)
    drift = _round_drift(rng, rounds, drift_sd)
    cells = [_cell(spec, rng, drift, per_round, inject) for spec in specs]
    return {
        "schema": "msealbench-results", "schema_version": 1, "partial": partial,
        "context": _context(seed, label, date, sorted({s["seal"] for s in specs}), rounds, inject),
        "cells": cells,
    }


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
    cell["summary"] = _summary(cell["samples"])
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


def _summary(samples):
    ordered = sorted(samples)
    n = len(ordered)
    mean = sum(ordered) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in ordered) / (n - 1)) if n > 1 else 0.0
    return {"n": n, "median": ordered[n // 2], "mean": mean, "stddev": sd,
            "cv": sd / mean, "min": ordered[0], "max": ordered[-1],
            "p5": ordered[int(0.05 * (n - 1))], "p95": ordered[int(0.95 * (n - 1))]}


def _context(seed, label, date, seals, rounds, inject):
    return {
        "tool": {"name": "msealbench", "version": "0.1.0", "git_revision": "synthetic"},
        "date": date, "label": label, "host": "synthetic",
        "kernel": {"release": "6.18.0-synthetic", "version": "#1", "cmdline": ""},
        "arch": "x86_64", "cpu_model": "synthetic", "cpu_count": 2, "clocksource": "tsc",
        "virtualization": "none", "cpufreq": {"governor": None, "boost": None, "smt": None},
        "perf_event_paranoid": 2, "mseal_available": True, "kernel_sealed_system_mappings": [],
        "seed": seed,
        "options": {"repetitions": rounds, "min_time_s": 0.0, "quick": False, "cpu": None,
                    "seal_modes": seals, "filter": None, "events": [],
                    "inject_delay": None if not inject else
                    {"fraction": inject[0], "seal": inject[1]}},
        "timer": {"clock": "CLOCK_MONOTONIC_RAW", "overhead_ns": 20.0, "resolution_ns": 1.0,
                  "cycle_counter": {"name": "tsc", "reliable": False, "hz": None}},
        "loop_overhead_ns": 0.5,
    }


def write_json(path, document):
    msbcli.make_directory(os.path.dirname(os.path.abspath(path)))
    msbcli.write_file(path, json.dumps(document, indent=1))


# ----------------------------------------------------------------------- CLI

def parse_percent_mode(text, option):
    """"2%:sysmap" -> (0.02, "sysmap"); "5%" -> (0.05, None)."""
    amount, _, mode = text.partition(":")
    try:
        fraction = float(amount.rstrip("%")) / 100.0
    except ValueError:
        fraction = None
    if fraction is None or not -0.5 <= fraction <= 10:
        raise BadInput(f"{option} {text!r}: expected PCT[:MODE] with PCT from -50 to 1000, e.g. 2%:sysmap")
    return fraction, (mode or None)


def run_command(args):
    seals = [s for s in args.seal.split(",") if s]
    filters = [f for f in (args.filter or "").split(",") if f]
    effects = {}
    if args.effect:
        fraction, mode = parse_percent_mode(args.effect, "--effect")
        effects = {s: fraction for s in seals if mode in (None, s)}
    rounds = args.repetitions or (10 if args.quick else 20)
    inject = parse_percent_mode(args.inject_delay, "--inject-delay") if args.inject_delay else None
    document = synthetic_run(suite_specs(seals, filters, effects), seed=args.seed, rounds=rounds,
                             label=args.label, inject=inject)
    out = args.out or os.path.join("results", f"synthetic-seed{args.seed}.json")
    write_json(out, document)
    if not args.quiet:
        print(f"synth: wrote {len(document['cells'])} cells to {out}")


def history_command(args):
    for index in range(args.runs):
        last = index == args.runs - 1
        seals = ["none", "sysmap"]
        specs = suite_specs(seals, ["vdso", "mremap"], medians_scale=1.0)
        if last:
            for spec in specs:
                if spec["family"] == "mremap":
                    spec["median"] *= 1.06
        document = synthetic_run(specs, seed=100 + index, rounds=12, label=f"6.{10 + index}",
                                 date=f"2026-11-{10 + index:02d}T07:00:00Z")
        write_json(os.path.join(args.dir, f"run-{index:02d}.json"), document)
    print(f"synth: wrote {args.runs} runs to {args.dir}")


def parse_args(argv):
    parser = msbcli.Parser(prog="synth.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="write one synthetic run")
    run.add_argument("--filter")
    run.add_argument("--seal", default="none,sysmap")
    run.add_argument("--repetitions", type=msbcli.number_in(int, 1, 10000))
    run.add_argument("--min-time", type=msbcli.number_in(float, 0, 3600))
    run.add_argument("--quick", action="store_true")
    run.add_argument("--out")
    run.add_argument("--quiet", action="store_true")
    run.add_argument("--seed", type=msbcli.SEED, default=1)
    run.add_argument("--inject-delay")
    run.add_argument("--label")
    run.add_argument("--effect", help="true cost PCT[:MODE] of a seal mode (synthetic only)")
    history = commands.add_parser("history", help="write a directory of labelled runs")
    history.add_argument("dir")
    history.add_argument("--runs", type=msbcli.number_in(int, 1, 1000), default=6)
    return parser.parse_args(argv)


def synthesize(args):
    if args.command == "run":
        run_command(args)
    else:
        history_command(args)
    return 0


def main(argv):
    return msbcli.guarded("synth", synthesize, parse_args(argv), {BadInput: 2, OutputError: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
