#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""plots/msb/stats.py against published and hand-derivable values."""
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import stats  # noqa: E402


def close(a, b, tol):
    return a is not None and abs(a - b) <= tol


def test_summaries():
    # A textbook set: mean 5, population standard deviation 2, so sample sd sqrt(32/7).
    data = [2, 4, 4, 4, 5, 5, 7, 9]
    ok(stats.mean(data) == 5.0, "mean of 2,4,4,4,5,5,7,9 is 5")
    ok(close(stats.stddev(data), math.sqrt(32 / 7), 1e-12), "sample standard deviation sqrt(32/7)")
    ok(stats.median(data) == 4.5, "median of an even count averages the middle two")
    ok(stats.median([3, 1, 2]) == 2.0, "median of an odd count is the middle value")
    ok(close(stats.coefficient_of_variation(data), math.sqrt(32 / 7) / 5, 1e-12), "CV is sd / mean")
    tens = list(range(1, 11))
    # Type-7 percentiles (the default of R's quantile()): position (n-1)p.
    ok(close(stats.percentile(tens, 5), 1.45, 1e-12), "p5 of 1..10 is 1.45")
    ok(close(stats.percentile(tens, 95), 9.55, 1e-12), "p95 of 1..10 is 9.55")
    ok(close(stats.geometric_mean([1, 3, 9]), 3.0, 1e-12), "geometric mean of 1,3,9 is 3")


def test_outliers():
    data = [10.0, 11.0, 10.5, 10.2, 30.0]
    flags = stats.outlier_flags(data)
    ok(flags == [False, False, False, False, True], "MAD rule flags 30 among values near 10", str(flags))
    summary = stats.summarize(data)
    ok(summary["n"] == 5 and summary["outliers"] == 1 and summary["max"] == 30.0,
       "summary counts the outlier and keeps it", str(summary))
    flat = [1.0] * 7 + [5.0]
    ok(stats.outlier_count(flat) == 1, "with MAD 0 the mean-deviation fallback still flags 5")
    ok(stats.outlier_count([2.0] * 9) == 0, "identical values have no outliers")


# NAG Library Manual, Mark 26.2, routines G08AHF/G08AKF and G08AJF, example programs:
# Mann-Whitney U test of two groups of 16 and 23 values. With ties (G08AHF example
# data): U = 86, normal statistic -2.8039, lower tail probability 0.0025. The tie-free
# variant (G08AJF example data): U = 86, normal statistic -2.7838, tail 0.0027, exact
# lower tail probability 0.0022.
NAG_TIED_1 = [13.0, 6.0, 12.0, 7.0, 12.0, 7.0, 10.0, 7.0, 10.0, 7.0, 16.0, 7.0, 10.0, 8.0, 9.0, 8.0]
NAG_TIED_2 = [17.0, 6.0, 10.0, 8.0, 15.0, 8.0, 15.0, 10.0, 15.0, 10.0, 14.0, 10.0, 14.0, 11.0,
              14.0, 11.0, 13.0, 12.0, 13.0, 12.0, 13.0, 12.0, 12.0]
NAG_UNTIED_1 = [13.0, 5.8, 11.7, 6.5, 12.3, 6.7, 9.2, 6.9, 10.0, 7.3, 16.0, 7.0, 10.5, 8.5, 9.0, 7.5]
NAG_UNTIED_2 = [17.0, 6.2, 10.1, 8.0, 15.3, 8.2, 15.0, 9.6, 14.9, 10.4, 14.2, 9.8, 13.8, 11.0,
                14.0, 11.1, 12.9, 11.6, 12.8, 12.0, 13.1, 12.4, 11.9]


def test_mann_whitney_published():
    tied = stats.mann_whitney(NAG_TIED_1, NAG_TIED_2)
    ok(tied.u == 86.0, "NAG G08AHF: U = 86 with ties", str(tied))
    ok(close(tied.z, -2.8039, 5e-5), "NAG G08AHF: tie-corrected z = -2.8039", str(tied.z))
    ok(close(tied.p / 2, 0.0025, 5e-5) and tied.method == "normal",
       "NAG G08AHF: one-sided p 0.0025 (normal approximation)", str(tied))
    untied = stats.mann_whitney(NAG_UNTIED_1, NAG_UNTIED_2, method="normal")
    ok(close(untied.z, -2.7838, 5e-5), "NAG G08AJF: z = -2.7838 without ties", str(untied.z))
    ok(close(untied.p / 2, 0.0027, 5e-5), "NAG G08AJF: one-sided normal p 0.0027", str(untied.p))
    exact = stats.mann_whitney(NAG_UNTIED_1, NAG_UNTIED_2, method="exact")
    ok(close(exact.p / 2, 0.0022, 5e-5), "NAG G08AJF: exact one-sided p 0.0022", str(exact.p))


def test_mann_whitney_derived():
    # 3 against 3 with complete separation: 1 of C(6,3) = 20 orderings is as extreme
    # on each side, so the exact two-sided p is 2/20.
    result = stats.mann_whitney([10, 11, 12], [1, 2, 3])
    ok(result.u == 9.0 and close(result.p, 0.1, 1e-12) and result.method == "exact",
       "complete separation of 3 and 3: U 9, exact p 0.1", str(result))
    counts = stats.u_distribution_counts(5, 7)
    ok(sum(counts) == math.comb(12, 5) and counts == counts[::-1],
       "U distribution of 5 and 7 sums to C(12,5) and is symmetric")
    same = stats.mann_whitney([4.0] * 6, [4.0] * 6)
    ok(same.p == 1.0, "all values equal: p 1, no evidence of a difference", str(same))
    ok(stats.average_ranks([5, 1, 5, 3]) == [3.5, 1.0, 3.5, 2.0], "tied values share the mean rank")


def naive_sample_bootstrap(base, cand, seed, iterations):
    """The control: median(cand) / median(base) with every sample resampled as if the samples
    were independent, which samples of one process are not."""
    rng = random.Random(seed)
    return [stats.median(rng.choices(cand, k=len(cand))) / stats.median(rng.choices(base, k=len(base)))
            for _ in range(iterations)]


def test_bootstrap():
    rng = random.Random(7)
    base = by_round(rng, 15, 20, 100.0, 0.01, 0.05)
    cand = by_round(rng, 15, 20, 105.0, 0.01, 0.05)

    def replicates(seed):
        return stats.bootstrap_rounds_ratio_replicates(base, cand, seed, 500, paired=True)
    first, again, other = replicates(42), replicates(42), replicates(43)
    ok(first == again, "bootstrap with the same seed repeats exactly")
    ok(first != other, "bootstrap with another seed differs")
    low, high = stats.percentile_interval(first, 0.95)
    ok(low < 1.05 < high and high - low < 0.04, "95% CI of the ratio holds the true 1.05",
       f"[{low:.4f}, {high:.4f}]")


def by_round(rng, rounds, per_round, centre, process_sd, sample_sd, shared=None):
    """Samples of one side: each round is a process with its own offset (process_sd),
    plus an optional level shared with the other side in that round."""
    groups = {}
    for rnd in range(rounds):
        level = centre * math.exp(rng.gauss(0, process_sd)) * (shared[rnd] if shared else 1.0)
        groups[rnd] = [level * math.exp(rng.gauss(0, sample_sd)) for _ in range(per_round)]
    return groups


def interval(base, cand, paired, seed=1, iterations=300):
    ratio = stats.median_of_round_medians(cand) / stats.median_of_round_medians(base)
    raw = stats.bootstrap_rounds_ratio_replicates(base, cand, seed, iterations, paired)
    units = len(base)
    widened = stats.widen_replicates(raw, ratio, stats.few_units_widening(units, 0.95))
    return stats.percentile_interval(widened, 0.95)


def test_rounds_bootstrap_is_calibrated():
    # A/A with 5 rounds whose processes differ by 3% and whose samples differ by 1%:
    # a CI that counts samples as independent misses 1 most of the time; counting rounds
    # (and widening for having only 5) keeps the miss rate near the nominal 5%.
    rng = random.Random(11)
    trials, misses, naive_misses = 60, 0, 0
    for trial in range(trials):
        base = by_round(rng, 5, 30, 100.0, 0.03, 0.01)
        cand = by_round(rng, 5, 30, 100.0, 0.03, 0.01)
        low, high = interval(base, cand, paired=True, seed=trial)
        misses += not (low <= 1.0 <= high)
        flat_base = [v for g in base.values() for v in g]
        flat_cand = [v for g in cand.values() for v in g]
        naive = stats.percentile_interval(
            naive_sample_bootstrap(flat_base, flat_cand, trial, 300), 0.95)
        naive_misses += not (naive[0] <= 1.0 <= naive[1])
    ok(misses <= 0.12 * trials, "A/A with per-process noise: round bootstrap CI misses 1 rarely",
       f"{misses} of {trials}")
    ok(naive_misses >= 0.4 * trials, "control: treating samples as independent misses often",
       f"{naive_misses} of {trials}")


def test_rounds_bootstrap_pairs_and_repeats():
    rng = random.Random(3)
    shared = [math.exp(rng.gauss(0, 0.2)) for _ in range(20)]
    base = by_round(rng, 20, 5, 100.0, 0.005, 0.01, shared)
    cand = by_round(rng, 20, 5, 105.0, 0.005, 0.01, shared)
    p_low, p_high = interval(base, cand, paired=True)
    u_low, u_high = interval(base, cand, paired=False)
    ok(p_high - p_low < (u_high - u_low) / 2, "pairing by round cancels drift both modes shared",
       f"paired {p_high - p_low:.4f}, unpaired {u_high - u_low:.4f}")
    ok(1.0 < p_low < 1.05 < p_high, "paired CI finds the 5% difference under 20% drift",
       f"[{p_low:.4f}, {p_high:.4f}]")
    again = interval(base, cand, paired=True)
    ok(again == (p_low, p_high), "round bootstrap with the same seed repeats exactly")


def test_student_t():
    # Two-sided 95% points of Student's t from standard tables.
    for df, table in ((2, 4.303), (4, 2.776), (10, 2.228), (30, 2.042)):
        ok(close(stats.student_t_quantile(0.975, df), table, 0.01 * table),
           f"t quantile 0.975 with {df} degrees of freedom is {table}")
    ok(stats.few_units_widening(1, 0.95) == float("inf"), "one round cannot give an interval")


test_summaries()
test_outliers()
test_mann_whitney_published()
test_mann_whitney_derived()
test_bootstrap()
test_rounds_bootstrap_is_calibrated()
test_rounds_bootstrap_pairs_and_repeats()
test_student_t()


def test_boots_with_a_zero_location():
    """A counter that counted nothing in one boot (context-switches) made a paired boot ratio
    divide by zero, and compare of a kernel A/B end in an internal error."""
    base = {1: {0: [0.0, 0.0]}, 2: {1: [2.0, 2.0]}}
    cand = {1: {0: [1.0, 1.0]}, 2: {1: [2.0, 2.0]}}
    try:
        replicates = stats.bootstrap_boots_ratio_replicates(base, cand, 1, 50, paired=True)
    except ZeroDivisionError:
        replicates = []
    ok(len(replicates) == 50, "a boot whose location is 0 gives an infinite ratio, not ZeroDivisionError")
    try:
        spread = [stats.boot_spread({1: 0.0, 2: 2.0}, {1: 1.0, 2: 2.0}, paired) for paired in (True, False)]
    except ZeroDivisionError:
        spread = []
    ok(spread == [float("inf")] * 2, "the spread of boots one of which is 0 is infinite", str(spread))


test_boots_with_a_zero_location()
done()
