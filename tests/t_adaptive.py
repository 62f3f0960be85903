#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Adaptive rounds: after --repetitions, a point gets further rounds (up to --max-rounds, within
--time-budget) only while its intervals are wider than its precision target. The rule is
recomputed here from the results file, independently of the C code (src/precision.c), and the
run must have stopped each point exactly when the rule says."""
import collections
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, check_schema, ok, done  # noqa: E402

TMP = tempfile.mkdtemp(prefix="msealbench-adaptive.")
T975 = [math.inf, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042]
POWER = (1.959964 + 0.841621) / 1.959964


def half_width(x):
    """95% interval half-width of the median of x: t(n-1) * 1.4826 MAD * 1.2533 / sqrt(n)."""
    n = len(x)
    if n < 3:
        return math.inf
    med = statistics.median(x)
    mad = statistics.median(abs(v - med) for v in x)
    t = T975[n - 1] if n - 1 < len(T975) else 1.959964 + 2.4 / (n - 1)
    return t * 1.4826 * mad * 1.2533 / math.sqrt(n)


def points(run):
    """{(benchmark, params): {seal: {round: log median}}}, and the cells of each point."""
    logs, cells = collections.defaultdict(dict), collections.defaultdict(list)
    for c in run["cells"]:
        key = (c["benchmark"], json.dumps(c["params"], sort_keys=True))
        cells[key].append(c)
        if c["status"] != "ok":
            continue
        by_round = collections.defaultdict(list)
        for s, r in zip(c["samples"], c["rounds"]):
            by_round[r].append(s)
        logs[key][c["seal"]] = {r: math.log(statistics.median(v)) for r, v in by_round.items()}
    return logs, cells


def shortfall(modes, before, mde):
    """How far a point is from its target on its rounds before `before` (modes: {seal: {round: log
    median}}), as the runner judges it: the largest ratio of an interval's half-width to what the
    target allows (-1: no mode); and the baseline's rounds."""
    location = math.log1p(mde) / POWER / math.sqrt(2)
    ratio = math.log1p(mde) / POWER
    worst, base = -1, None
    for seal in ("none", "sysmap", "all"):
        if seal not in modes:
            continue
        mine = {r: v for r, v in modes[seal].items() if r < before}
        if base is None:
            base = mine
        else:
            worst = max(worst, half_width([v - base[r] for r, v in mine.items() if r in base]) / ratio)
        worst = max(worst, half_width(list(mine.values())) / location)
    return worst, len(base or ())


def still_open(modes, rounds, mde):
    """The rule, on the first `rounds` rounds of a point."""
    return shortfall(modes, rounds, mde)[0] > 1


def run(name, *args):
    out = os.path.join(TMP, name + ".json")
    r = subprocess.run([MSEALBENCH, "run", "--quiet", "--events", "none", "--min-time", "0.02",
                        "--out", out] + list(args), capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        ok(False, f"run {name}", r.stderr[-300:])
        return None
    with open(out) as f:
        return json.load(f)


def check_rule(what, data, base, most):
    logs, cells = points(data)
    wrong, stops = [], collections.Counter()
    for key, modes in logs.items():
        mde = data["context"]["options"]["precision_targets"][cells[key][0]["family"]]
        rounds = {seal: sorted(v) for seal, v in modes.items()}
        k = len(next(iter(rounds.values())))
        stopped = {c["stopped"] for c in cells[key]}
        stops.update(stopped)
        if any(r != list(range(k)) for r in rounds.values()):
            wrong.append(f"{key}: the modes' rounds differ or have gaps: {rounds}")
        elif stopped == {"precise"}:
            if still_open(modes, k, mde) or (k > base and not still_open(modes, k - 1, mde)):
                wrong.append(f"{key}: stopped as precise after {k} rounds against the rule")
        elif stopped == {"max rounds"}:
            if k != most or still_open(modes, k - 1, mde) is False:
                wrong.append(f"{key}: 'max rounds' after {k} rounds (max {most})")
        else:
            wrong.append(f"{key}: stopped {stopped}")
    ok(not wrong, f"{what}: every point stopped where the precision rule says ({dict(stops)})", "; ".join(wrong[:3]))
    return stops


def check_budget_order():
    """A budget too short for a round of every open point: the points that would reach their target
    for the least time (rounds lacking times round_s) get it while they fit, the rest stop. The
    budget comes from a pilot run's costs, a few further rounds past the first 8; where it happens
    to end between rounds, the run is made again with another."""
    args = ["--filter", "harness.empty,harness.syscall.getppid,fork.fork", "--quick", "--repetitions", "8"]
    pilot = run("pilot", *args)
    if not pilot:
        return
    ok(all(c["round_s"] and c["round_s"] > 0 for c in pilot["cells"]),
       "every cell records what one of its rounds took (round_s)", str([c["round_s"] for c in pilot["cells"]]))
    _, cells = points(pilot)
    full = sum(c["round_s"] for cs in cells.values() for c in cs)
    for extra in (3.5, 2.5, 4.5, 3.0):
        split = run("split", *args, "--max-rounds", "40", "--precision", "0.01%",
                    "--time-budget", f"{max(1, (8 + extra) * full):.3f}")
        if not split:
            return
        logs, cells = points(split)
        rounds = {key: set(cs[0]["rounds"]) for key, cs in cells.items()}
        cut = next((r for r in range(8, 41) if any(r in rs for rs in rounds.values())
                    and any(r - 1 in rs and r not in rs for rs in rounds.values())), None)
        if cut is not None:
            break
    ok(cut is not None, "a budget short of a round of every open point gives it to some of them",
       str(sorted(len(r) for r in rounds.values())))
    if cut is None:
        return
    rank = {}
    for key in (k for k, rs in rounds.items() if cut - 1 in rs):
        mde = split["context"]["options"]["precision_targets"][cells[key][0]["family"]]
        worst, n = shortfall(logs[key], cut, mde)
        cost = sum(c["round_s"] for c in cells[key])
        rank[key] = cost * max(1, n * (worst * worst - 1))
    cost = {k: sum(c["round_s"] for c in cells[k]) for k in rank}
    took = [k for k in rank if cut in rounds[k]]
    # A point left out that ranked before one that took part must have been passed over: it did
    # not fit where the cheaper one did (1.25: round_s is a mean that moved after the decision).
    wrong = [f"{e[0]} {e[1]} (rank {rank[e]:.3g}, {cost[e]:.3f} s) before {i[0]} {i[1]} "
             f"(rank {rank[i]:.3g}, {cost[i]:.3f} s)" for e in rank if e not in took for i in took
             if rank[i] > 1.25 * rank[e] and cost[e] * 1.25 < cost[i]]
    ok(not wrong, f"round {cut + 1} went to the points that would reach their target for the least time, "
       f"while they fitted ({len(took)} of {len(rank)})", "; ".join(wrong[:2]))
    ok(all(c["stopped"] == "time budget" for c in split["cells"]),
       "the points the budget cannot take stop as 'time budget'", str({c["stopped"] for c in split["cells"]}))


def main():
    coarse = run("coarse", "--filter", "harness.empty,vdso.getcpu", "--repetitions", "4", "--max-rounds", "8",
                 "--precision", "1000%")
    if coarse:
        opts = coarse["context"]["options"]
        ok(opts["max_rounds"] == 8 and opts["precision_targets"]["vdso"] == 10 and opts["time_budget_s"] is None,
           "results record max_rounds, the precision targets and the time budget", json.dumps(opts)[:300])
        stops = check_rule("coarse target (1000%)", coarse, 4, 8)
        ok(stops.get("precise"), "a coarse target lets points stop before the most rounds", str(stops))
        check_schema([os.path.join(TMP, "coarse.json")], "an adaptive run's results")
    middle = run("middle", "--filter", "harness.empty,harness.syscall,vdso.getcpu,mremap.move.sealed", "--repetitions", "3",
                 "--max-rounds", "10", "--precision", "5%")
    if middle:
        check_rule("middle target (5%)", middle, 3, 10)
    fine = run("fine", "--filter", "harness.empty", "--repetitions", "3", "--max-rounds", "6", "--precision", "0.01%")
    if fine:
        stops = check_rule("fine target (0.01%)", fine, 3, 6)
        ok(set(stops) == {"max rounds"}, "a target no run meets takes every point to --max-rounds", str(stops))
    fixed = run("fixed", "--filter", "harness.empty", "--repetitions", "5")
    if fixed:
        cells = fixed["cells"]
        ok(all(c["stopped"] == "not adaptive" and sorted(set(c["rounds"])) == list(range(5)) for c in cells)
           and fixed["context"]["options"]["max_rounds"] == 5,
           "--repetitions alone: exactly that many rounds, not adaptive")
    # 3 rounds of two cells of 0.2 s each: past the 1 s budget before any further round.
    budget = run("budget", "--filter", "harness.empty", "--repetitions", "3", "--max-rounds", "50",
                 "--precision", "0.01%", "--time-budget", "1", "--min-time", "0.6")
    if budget:
        ok(all(c["stopped"] == "time budget" and sorted(set(c["rounds"])) == [0, 1, 2] for c in budget["cells"]),
           "a spent --time-budget ends the run after --repetitions, each point marked 'time budget'",
           str({(c["benchmark"], c["stopped"], len(set(c["rounds"]))) for c in budget["cells"]}))
    check_budget_order()
    for args, want in ((["--max-rounds", "0"], "--max-rounds: '0'"), (["--time-budget", "x"], "--time-budget: 'x'"),
                       (["--precision", "2%%"], "--precision: '2%%'")):
        r = subprocess.run([MSEALBENCH, "run"] + args, capture_output=True, text=True, timeout=30)
        ok(r.returncode == 2 and r.stderr.count("\n") == 1 and want in r.stderr,
           f"run {' '.join(args)}: one line naming the problem, exit 2", r.stderr[:200])


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
done()
