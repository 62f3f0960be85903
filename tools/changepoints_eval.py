#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""How well compare's change points (plots/msb/changepoints.py) find a known step in a synthetic
history, and how often they find one where there is none: a benchmark script, not a test.

For each seed and step size it writes a history of --runs synthetic runs (plots/msb/synth.py:
rounds of log-normal samples with a drift shared by each round) in which the cells of --benchmark
are slower by the step from run --at on (1-based), and runs the detection compare uses. Per cell
history (one cell: benchmark, parameters, seal mode) it counts:
  found at the step   a change point exactly at run --at (its label)
  near the step       one within one run of it
  false               a change point anywhere else (on a flat history: any change point)
and per history (all its cells) whether any cell had one at the step / a false one.
Exit status 1 when the target is missed: a 3% step reported at its run in at least 9 of 10
histories, a change point in at most 1 of 10 flat histories (a history: all its cells).
"""
import argparse
import os
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import changepoints, cli, results, stats, synth  # noqa: E402
from msb.comparison import Settings  # noqa: E402

PROG = "changepoints_eval.py"


def parse_args(argv):
    parser = cli.Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=cli.number_in(int, 1, 1000), default=10, help="histories per step (10)")
    parser.add_argument("--runs", type=cli.number_in(int, 6, 200), default=20, help="runs per history (20)")
    parser.add_argument("--at", type=cli.number_in(int, 2, 200), default=12, help="first slower run, 1-based (12)")
    parser.add_argument("--steps", default="0,2,3,5", help="step sizes in percent (0,2,3,5; 0 is flat)")
    parser.add_argument("--benchmark", default="mremap.move",
                        help="the cells of the history (a synth suite pattern: mremap.move has 3 parameter "
                             "sets, x2 seal modes = 6 cells)")
    parser.add_argument("--rounds", type=cli.number_in(int, 2, 100), default=15,
                        help="rounds per run (15, as msealbench run)")
    parser.add_argument("--drift", type=cli.number_in(float, 0, 0.5), default=0.01,
                        help="sd of the drift shared by the cells of a round (0.01; synth.py's runs: 0.02): "
                             "sets the run-to-run noise, printed as the CV of a cell's level")
    parser.add_argument("--seed", type=cli.SEED, default=1, help="first seed (1)")
    parser.add_argument("--cp-alpha", type=cli.number_in(float, 1e-4, 0.5), default=changepoints.Detection().alpha,
                        help="compare's --cp-alpha (its default)")
    args = parser.parse_args(argv)
    try:
        args.steps = [float(s) / 100.0 for s in args.steps.split(",") if s]
    except ValueError:
        parser.error(f"--steps {args.steps!r}: expected percentages separated by commas")
    if args.at > args.runs:
        parser.error(f"--at {args.at} is past the last run ({args.runs})")
    return args


def history_of(directory, args, step, seed):
    specs = synth.suite_specs(["none", "sysmap"], [args.benchmark])
    documents = synth.synthetic_history(specs, args.runs, seed=seed, rounds=args.rounds, drift_sd=args.drift,
                                        step=(step, args.at, None) if step else None)
    for name, document in documents:
        results.write_run(os.path.join(directory, name), document)
    return results.order_runs(results.runs_in(directory), "date")


def tally(args, step, detection, settings):
    """{"cells", "at", "near", "false", "histories", "history_at", "history_false"} over the seeds."""
    counts = dict.fromkeys(("cells", "at", "near", "false", "histories", "history_at", "history_false"), 0)
    counts["cvs"] = []
    step_label = f"r{args.at:02d}"
    for seed in range(args.seed, args.seed + args.seeds):
        with tempfile.TemporaryDirectory(prefix="msealbench-cpeval.") as directory:
            runs = history_of(directory, args, step, seed)
            histories = changepoints.detect(runs, detection, settings.threshold, settings.confidence, seed)
        any_at = any_false = False
        for history in histories:
            labels = [p.label for p in history.change_points]
            at = step and step_label in labels
            near = step and any(abs(p.run_index + 1 - args.at) <= 1 for p in history.change_points)
            false = any(not step or abs(p.run_index + 1 - args.at) > 1 for p in history.change_points)
            counts["cells"] += 1
            counts["cvs"].append(stats.coefficient_of_variation(history.levels))
            counts["at"] += bool(at)
            counts["near"] += bool(near)
            counts["false"] += bool(false)
            any_at, any_false = any_at or bool(at), any_false or false
        counts["histories"] += 1
        counts["history_at"] += any_at
        counts["history_false"] += any_false
    return counts


def evaluate(args):
    detection, settings = changepoints.Detection(alpha=args.cp_alpha), Settings()
    print(f"{args.seeds} seeds from {args.seed}; {args.runs} runs of {args.rounds} rounds; step from run "
          f"r{args.at:02d}; cells of {args.benchmark}; detection: alpha {detection.alpha:g}, "
          f"{detection.permutations} permutations, at least {detection.min_size} runs a side; drift sd {args.drift:g}")
    print(f"{'step':>5}  {'cell histories':>14}  {'found at step':>13}  {'within 1 run':>12}  {'false':>5}  "
          f"{'histories':>9}  {'any cell at step':>16}  {'any false':>9}")
    met = True
    for step in args.steps:
        c = tally(args, step, detection, settings)
        print(f"{step * 100:4g}%  {c['cells']:>14}  {c['at']:>13}  {c['near']:>12}  {c['false']:>5}  "
              f"{c['histories']:>9}  {c['history_at']:>16}  {c['history_false']:>9}")
        if abs(step - 0.03) < 1e-9:
            met &= c["history_at"] * 10 >= 9 * c["histories"]
        if step == 0:
            met &= c["history_false"] * 10 <= c["histories"]
            print(f"       run-to-run CV of a cell's level in the flat histories: median "
                  f"{stats.median(c['cvs']) * 100:.2f}%")
    print("target (a 3% step reported at its run in >= 9 of 10 histories; a change point in <= 1 of 10 flat "
          "histories): "
          + ("met" if met else "MISSED"))
    return 0 if met else 1


def main(argv):
    return cli.guarded(PROG, evaluate, parse_args(argv), {results.BadInput: 2, cli.OutputError: 2})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
