# SPDX-License-Identifier: GPL-2.0-only
"""Change points in the history of each cell: E-divisive means (Matteson and James, 2014) with a
permutation significance test, the method Apache Otava and MongoDB's CI judge histories by.

A cell's history is its location (median of round medians) in each run that measured it, in run
order. The series is split where the energy statistic between the two sides is largest, and the
split is kept when fewer than alpha of the series' random permutations give a statistic as large;
each side is then split the same way. No threshold on the size of a shift decides whether it is a
change point; the threshold only names a kept one a regression or an improvement. A single noisy
run cannot be a change point: each side of a split holds at least min_size runs.

Deterministic given the seed: each cell draws its permutations and bootstrap from its own seed.
"""
import dataclasses
import math
import operator
import random
import zlib

from . import cli, results, stats

REGRESSION = "regression"
IMPROVEMENT = "improvement"
SMALL = "shift below threshold"
SHIFT_ITERATIONS = 1000       # bootstrap resamples behind a shift's CI


@dataclasses.dataclass
class Detection:
    alpha: float = 0.01         # a split is kept when its permutation p is at most this
    permutations: int = 999     # the smallest p they can give is 1 / (permutations + 1)
    min_size: int = 3           # runs on each side of a split, at least
    recent: int = 5             # a change point within the last `recent` runs is new (exit status)


@dataclasses.dataclass
class ChangePoint:
    run_index: int              # index in the history of the first run at the new level
    label: str                  # that run's label
    p_value: float
    ratio: float                # median level after / median level before (+ is slower)
    ci_low: float
    ci_high: float
    before: float               # the median levels of the segments on each side
    after: float
    runs_before: int            # how many runs those segments hold
    runs_after: int
    kind: str                   # REGRESSION, IMPROVEMENT or SMALL
    new: bool                   # within the last Detection.recent runs of the history

    @property
    def change(self):
        return self.ratio - 1.0

    def as_dict(self):
        out = dataclasses.asdict(self)
        out["change_pct"] = round(self.change * 100.0, 4)
        return out


@dataclasses.dataclass
class CellHistory:
    benchmark: str
    params: dict
    seal: str
    unit: str
    run_indexes: list           # the runs (indexes into the history) that measured the cell
    levels: list                # the cell's location in each of them
    change_points: list

    def as_dict(self):
        return {"benchmark": self.benchmark, "params": self.params, "seal": self.seal, "unit": self.unit,
                "run_indexes": self.run_indexes, "levels": self.levels,
                "change_points": [c.as_dict() for c in self.change_points]}


# ------------------------------------------------------------------ the statistic

def distances(values):
    return [[abs(a - b) for b in values] for a in values]


def best_split(values, min_size):
    """(tau, Q): the split values[:tau] | values[tau:] with the largest energy statistic
    Q = m n / (m + n) * (2 mean|x - y| - mean|x - x'| - mean|y - y'|), each side at least
    min_size long (min_size >= 2, so both within-side means exist); (None, 0) when no split fits."""
    return best_split_of(distances(values), min_size)


def best_split_of(distance, min_size):
    """best_split from the matrix of pairwise distances: O(n^2), the three sums carried from one
    split to the next (the rows are summed as slices: by symmetry a row holds the column too)."""
    n = len(distance)
    if n < 2 * min_size:
        return None, 0.0
    total = sum(sum(distance[i][i + 1:]) for i in range(n))
    left = sum(sum(distance[i][i + 1:min_size]) for i in range(min_size))
    right = sum(sum(distance[i][i + 1:]) for i in range(min_size, n))
    best_tau, best_q = None, -math.inf
    for tau in range(min_size, n - min_size + 1):
        if tau > min_size:  # point tau - 1 moved from the right side to the left
            row = distance[tau - 1]
            left += sum(row[:tau - 1])
            right -= sum(row[tau:])
        m, r = tau, n - tau
        between = total - left - right
        q = m * r / n * (2.0 * between / (m * r) - left / (m * (m - 1) / 2.0) - right / (r * (r - 1) / 2.0))
        if q > best_q:
            best_tau, best_q = tau, q
    return best_tau, best_q


def permutation_p(values, observed, rng, detection):
    """The share of random orderings of values whose best split is at least as strong as observed,
    counting the observed order: (1 + as strong) / (1 + permutations). Stops as soon as the p can
    no longer reach alpha (then the p returned is that of the permutations drawn so far)."""
    distance = distances(values)
    order = list(range(len(values)))
    as_strong = 0
    allowed = detection.alpha * (detection.permutations + 1) - 1  # as_strong above this: not kept
    for drawn in range(1, detection.permutations + 1):
        rng.shuffle(order)
        pick = operator.itemgetter(*order)
        if best_split_of([pick(distance[i]) for i in order], detection.min_size)[1] >= observed:
            as_strong += 1
            if as_strong > allowed:
                return (1 + as_strong) / (1 + drawn)
    return (1 + as_strong) / (1 + detection.permutations)


def e_divisive(values, rng, detection):
    """[(index, p)] of the change points of values, in order: split, test, recurse on each side."""
    found = []

    def divide(start, end):
        tau, q = best_split(values[start:end], detection.min_size)
        if tau is None or q <= 0:
            return
        p = permutation_p(values[start:end], q, rng, detection)
        if p > detection.alpha:
            return
        found.append((start + tau, p))
        divide(start, start + tau)
        divide(start + tau, end)

    divide(0, len(values))
    return sorted(found)


# ------------------------------------------------------------------ shifts

def shift_interval(before, after, rng, confidence):
    """Ratio median(after) / median(before) with a percentile bootstrap CI (each side's runs
    resampled on their own)."""
    replicates = []
    for _ in range(SHIFT_ITERATIONS):
        low = stats.median([rng.choice(before) for _ in before])
        high = stats.median([rng.choice(after) for _ in after])
        replicates.append(high / low)
    ci_low, ci_high = stats.percentile_interval(replicates, confidence)
    return stats.median(after) / stats.median(before), ci_low, ci_high


def kind_of(ratio, threshold):
    if ratio - 1.0 >= threshold:
        return REGRESSION
    if 1.0 - ratio >= threshold:
        return IMPROVEMENT
    return SMALL


def change_points(levels, labels, seed, detection, threshold, confidence, history_length, run_indexes):
    """ChangePoints of one cell's levels (positive numbers, one per run that measured it)."""
    rng = random.Random(seed)
    logs = [math.log(v) for v in levels]  # a shift of x% is the same distance at any level
    found = e_divisive(logs, rng, detection)
    edges = [0] + [index for index, _ in found] + [len(levels)]
    points = []
    for number, (index, p) in enumerate(found):
        before, after = levels[edges[number]:index], levels[index:edges[number + 2]]
        ratio, low, high = shift_interval(before, after, rng, confidence)
        run_index = run_indexes[index]
        points.append(ChangePoint(
            run_index=run_index, label=labels[index], p_value=p, ratio=ratio, ci_low=low, ci_high=high,
            before=stats.median(before), after=stats.median(after), runs_before=len(before),
            runs_after=len(after), kind=kind_of(ratio, threshold),
            new=run_index >= history_length - detection.recent))
    return points


# ------------------------------------------------------------------ histories

def cell_level(cell):
    """A cell's location in one run: the median of its round medians, as the comparisons use."""
    return stats.median_of_round_medians(stats.group_by_round(cell.samples, cell.rounds))


def cell_seed(seed, *parts):
    """A seed for one cell that does not depend on the order of the cells."""
    return zlib.crc32("\x1f".join(str(p) for p in (seed, "changepoints") + parts).encode("utf-8"))


def detect(runs, detection, threshold, confidence, seed):
    """A CellHistory for every (benchmark, parameters, seal mode) measured in the runs (in
    history order), with its change points."""
    series = {}
    for index, run in enumerate(runs):
        for cell in run.ok_cells():
            level = cell_level(cell)
            if level > 0:
                entry = series.setdefault(cell.key, (cell, [], []))
                entry[1].append(index)
                entry[2].append(level)
    histories = []
    for cell, indexes, levels in series.values():
        labels = [runs[i].label for i in indexes]
        found = change_points(levels, labels, cell_seed(seed, cell.describe()), detection, threshold,
                              confidence, len(runs), indexes)
        histories.append(CellHistory(cell.benchmark, cell.params, cell.seal, cell.unit, indexes, levels, found))
    return histories


def new_regressions(histories):
    """(history, change point) of each new regression that the cell's later runs have not undone:
    the cell's last change point is a regression within the last Detection.recent runs."""
    found = []
    for history in histories:
        if history.change_points:
            last = history.change_points[-1]
            if last.kind == REGRESSION and last.new:
                found.append((history, last))
    return found


def long_enough(runs, detection):
    """Whether the history can hold a change point at all: min_size runs on each side."""
    return len(runs) >= 2 * detection.min_size


def describe(history):
    return f"{history.benchmark} [{results.params_text(history.params)}] seal={history.seal}"


# ------------------------------------------------------------------ options

def add_options(parser):
    """History: how change points are sought (msb/changepoints.py)."""
    default = Detection()
    parser.add_argument("--cp-alpha", type=cli.number_in(float, 1e-4, 0.5), default=default.alpha,
                        help=f"history: permutation p at most this keeps a change point ({default.alpha:g})")
    parser.add_argument("--permutations", type=cli.number_in(int, 19, 10000), default=default.permutations,
                        help=f"history: permutations behind each p ({default.permutations}; 19 to 10000)")
    parser.add_argument("--min-segment", type=cli.number_in(int, 2, 1000), default=default.min_size,
                        help=f"history: runs on each side of a change point, at least ({default.min_size})")
    parser.add_argument("--recent", type=cli.number_in(int, 1, 100000), default=default.recent,
                        help=f"history: a change point within the last N runs is new ({default.recent})")
    parser.add_argument("--no-change-points", action="store_true",
                        help="history: no change points; the exit status follows the newest run's verdicts")


def detection_from(args):
    """The Detection of add_options' options; None with --no-change-points."""
    if args.no_change_points:
        return None
    if args.cp_alpha * (args.permutations + 1) < 1:
        raise results.BadInput(f"--cp-alpha {args.cp_alpha:g} is below the smallest p {args.permutations} "
                               f"permutations can give (1/{args.permutations + 1}): raise --permutations")
    return Detection(alpha=args.cp_alpha, permutations=args.permutations, min_size=args.min_segment,
                     recent=args.recent)
