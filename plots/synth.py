#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Synthetic msealbench results (schema v1) with known distributions, seeded.

For tests and demos of compare/plot/validate without the C runner:
  synth.py run [--seal none,sysmap] [--inject-delay PCT[:MODE]] [--out FILE] ...
    accepts the options of `msealbench run` that validate.py uses and writes a run whose
    latencies are log-normal around fixed medians, with a drift shared by each round and
    rare outliers; --effect PCT[:MODE] adds a true cost to a seal mode.
  synth.py history DIR [--runs N]
    writes N labelled runs, the last one with a 6% slowdown in mremap, for trend plots.
  synth.py history DIR --runs 20 --step 3%:12 [--step-filter mremap] [--seed S] [--gzip]
    runs r01..r20 with every cell (or those matching the filter) 3% slower from run 12 on:
    a known change point; --gzip writes run-NN.json.gz.
"""
import argparse
import os
import sys

from msb import cli, results
from msb.cli import OutputError
from msb.results import BadInput
from msb.synth import suite_specs, synthetic_history, synthetic_run


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


SYNTH_REFERENCE_NS = 170.0     # a getppid(2) call on a 2026 x86-64 guest


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
                             label=args.label, inject=inject,
                             reference_ns=SYNTH_REFERENCE_NS if args.reference == "getppid" else None)
    out = args.out or os.path.join("results", f"synthetic-seed{args.seed}.json")
    results.write_run(out, document)
    if not args.quiet:
        print(f"synth: wrote {len(document['cells'])} cells to {out}")


def history_command(args):
    if args.step:
        fraction, first = parse_step(args.step)
        if first > args.runs:
            raise BadInput(f"--step {args.step!r}: run {first} is past the last run ({args.runs})")
        filters = [f for f in (args.filter or "").split(",") if f]
        specs = suite_specs(["none", "sysmap"], filters)
        for name, document in synthetic_history(specs, args.runs, seed=args.seed, rounds=args.rounds,
                                                step=(fraction, first, args.step_filter)):
            write_history_file(args, name, document)
        print(f"synth: wrote {args.runs} runs to {args.dir}, {fraction * 100:+g}% from run {first}")
        return
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
        write_history_file(args, f"run-{index:02d}.json", document)
    print(f"synth: wrote {args.runs} runs to {args.dir}")


def write_history_file(args, name, document):
    results.write_run(os.path.join(args.dir, name + (".gz" if args.gzip else "")), document)


def parse_step(text):
    """"3%:12" -> (0.03, 12): cells slower by 3% from run 12 (1-based) on."""
    fraction, run = parse_percent_mode(text, "--step")
    if run is None or not run.isdigit() or int(run) < 1:
        raise BadInput(f"--step {text!r}: expected PCT:RUN with RUN the first slower run (1, 2, ...), e.g. 3%:12")
    return fraction, int(run)


def parse_args(argv):
    parser = cli.Parser(prog="synth.py", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="write one synthetic run")
    run.add_argument("--filter")
    run.add_argument("--seal", default="none,sysmap")
    run.add_argument("--repetitions", type=cli.number_in(int, 1, 10000))
    run.add_argument("--min-time", type=cli.number_in(float, 0, 3600))
    run.add_argument("--quick", action="store_true")
    run.add_argument("--out")
    run.add_argument("--quiet", action="store_true")
    run.add_argument("--seed", type=cli.SEED, default=1)
    run.add_argument("--inject-delay")
    run.add_argument("--label")
    run.add_argument("--reference", choices=("getppid", "none"), default="getppid",
                     help="write a getppid probe per sample (reference_ns), as the runner does")
    run.add_argument("--effect", help="true cost PCT[:MODE] of a seal mode (synthetic only)")
    history = commands.add_parser("history", help="write a directory of labelled runs")
    history.add_argument("dir")
    history.add_argument("--runs", type=cli.number_in(int, 1, 1000), default=6)
    history.add_argument("--step", help="PCT:RUN: cells slower by PCT from run RUN (1-based) on")
    history.add_argument("--step-filter", help="--step: only benchmarks matching this pattern")
    history.add_argument("--filter", help="--step: benchmarks in the runs, comma separated (default all)")
    history.add_argument("--seed", type=cli.SEED, default=100, help="--step: seed of the history (100)")
    history.add_argument("--rounds", type=cli.number_in(int, 1, 1000), default=12, help="--step: rounds per run (12)")
    history.add_argument("--gzip", action="store_true", help="write run-NN.json.gz")
    return parser.parse_args(argv)


def synthesize(args):
    if args.command == "run":
        run_command(args)
    else:
        history_command(args)
    return 0


def main(argv):
    return cli.guarded("synth", synthesize, parse_args(argv), {BadInput: 2, OutputError: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
