#!/usr/bin/env python3
"""plots/msbstats.py against published and hand-derivable values."""
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
import msbstats  # noqa: E402


def close(a, b, tol):
    return a is not None and abs(a - b) <= tol


def test_summaries():
    # A textbook set: mean 5, population standard deviation 2, so sample sd sqrt(32/7).
    data = [2, 4, 4, 4, 5, 5, 7, 9]
    ok(msbstats.mean(data) == 5.0, "mean of 2,4,4,4,5,5,7,9 is 5")
    ok(close(msbstats.stddev(data), math.sqrt(32 / 7), 1e-12), "sample standard deviation sqrt(32/7)")
    ok(msbstats.median(data) == 4.5, "median of an even count averages the middle two")
    ok(msbstats.median([3, 1, 2]) == 2.0, "median of an odd count is the middle value")
    ok(close(msbstats.coefficient_of_variation(data), math.sqrt(32 / 7) / 5, 1e-12), "CV is sd / mean")
    tens = list(range(1, 11))
    # Type-7 percentiles (the default of R's quantile()): position (n-1)p.
    ok(close(msbstats.percentile(tens, 5), 1.45, 1e-12), "p5 of 1..10 is 1.45")
    ok(close(msbstats.percentile(tens, 95), 9.55, 1e-12), "p95 of 1..10 is 9.55")
    ok(close(msbstats.geometric_mean([1, 3, 9]), 3.0, 1e-12), "geometric mean of 1,3,9 is 3")


def test_outliers():
    data = [10.0, 11.0, 10.5, 10.2, 30.0]
    flags = msbstats.outlier_flags(data)
    ok(flags == [False, False, False, False, True], "MAD rule flags 30 among values near 10", str(flags))
    summary = msbstats.summarize(data)
    ok(summary["n"] == 5 and summary["outliers"] == 1 and summary["max"] == 30.0,
       "summary counts the outlier and keeps it", str(summary))
    flat = [1.0] * 7 + [5.0]
    ok(msbstats.outlier_count(flat) == 1, "with MAD 0 the mean-deviation fallback still flags 5")
    ok(msbstats.outlier_count([2.0] * 9) == 0, "identical values have no outliers")


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
    tied = msbstats.mann_whitney(NAG_TIED_1, NAG_TIED_2)
    ok(tied.u == 86.0, "NAG G08AHF: U = 86 with ties", str(tied))
    ok(close(tied.z, -2.8039, 5e-5), "NAG G08AHF: tie-corrected z = -2.8039", str(tied.z))
    ok(close(tied.p / 2, 0.0025, 5e-5) and tied.method == "normal",
       "NAG G08AHF: one-sided p 0.0025 (normal approximation)", str(tied))
    untied = msbstats.mann_whitney(NAG_UNTIED_1, NAG_UNTIED_2, method="normal")
    ok(close(untied.z, -2.7838, 5e-5), "NAG G08AJF: z = -2.7838 without ties", str(untied.z))
    ok(close(untied.p / 2, 0.0027, 5e-5), "NAG G08AJF: one-sided normal p 0.0027", str(untied.p))
    exact = msbstats.mann_whitney(NAG_UNTIED_1, NAG_UNTIED_2, method="exact")
    ok(close(exact.p / 2, 0.0022, 5e-5), "NAG G08AJF: exact one-sided p 0.0022", str(exact.p))


def test_mann_whitney_derived():
    # 3 against 3 with complete separation: 1 of C(6,3) = 20 orderings is as extreme
    # on each side, so the exact two-sided p is 2/20.
    result = msbstats.mann_whitney([10, 11, 12], [1, 2, 3])
    ok(result.u == 9.0 and close(result.p, 0.1, 1e-12) and result.method == "exact",
       "complete separation of 3 and 3: U 9, exact p 0.1", str(result))
    counts = msbstats.u_distribution_counts(5, 7)
    ok(sum(counts) == math.comb(12, 5) and counts == counts[::-1],
       "U distribution of 5 and 7 sums to C(12,5) and is symmetric")
    same = msbstats.mann_whitney([4.0] * 6, [4.0] * 6)
    ok(same.p == 1.0, "all values equal: p 1, no evidence of a difference", str(same))
    ok(msbstats.average_ranks([5, 1, 5, 3]) == [3.5, 1.0, 3.5, 2.0], "tied values share the mean rank")


def test_bootstrap():
    rng = random.Random(7)
    base = [100 * math.exp(rng.gauss(0, 0.05)) for _ in range(200)]
    cand = [105 * math.exp(rng.gauss(0, 0.05)) for _ in range(200)]
    first = msbstats.bootstrap_ratio_replicates(base, cand, seed=42, iterations=500)
    again = msbstats.bootstrap_ratio_replicates(base, cand, seed=42, iterations=500)
    other = msbstats.bootstrap_ratio_replicates(base, cand, seed=43, iterations=500)
    ok(first == again, "bootstrap with the same seed repeats exactly")
    ok(first != other, "bootstrap with another seed differs")
    low, high = msbstats.percentile_interval(first, 0.95)
    ok(low < 1.05 < high and high - low < 0.04, "95% CI of the ratio holds the true 1.05",
       f"[{low:.4f}, {high:.4f}]")


def test_paired_bootstrap():
    # Each round shifts both modes by the same large factor: pairing by round cancels it.
    rng = random.Random(3)
    base, cand, rounds = [], [], []
    for rnd in range(30):
        level = math.exp(rng.gauss(0, 0.2))
        for _ in range(3):
            base.append(100 * level * math.exp(rng.gauss(0, 0.01)))
            cand.append(102 * level * math.exp(rng.gauss(0, 0.01)))
            rounds.append(rnd)
    paired = msbstats.bootstrap_paired_ratio_replicates(
        msbstats.group_by_round(base, rounds), msbstats.group_by_round(cand, rounds), 5, 500)
    unpaired = msbstats.bootstrap_ratio_replicates(base, cand, 5, 500)
    p_low, p_high = msbstats.percentile_interval(paired, 0.95)
    u_low, u_high = msbstats.percentile_interval(unpaired, 0.95)
    ok(p_high - p_low < (u_high - u_low) / 2, "pairing by round narrows the CI under shared drift",
       f"paired {p_high - p_low:.4f}, unpaired {u_high - u_low:.4f}")
    ok(p_low > 1.0, "paired CI finds the 2% difference under 20% drift", f"[{p_low:.4f}, {p_high:.4f}]")


def test_stratified_bootstrap():
    # Few rounds (as a default run has) with many samples each: the paired bootstrap
    # keeps every round and resamples inside it.
    rng = random.Random(9)
    base, cand = {}, {}
    for rnd in range(4):
        level = 1.0 + 0.3 * rnd
        base[rnd] = [100 * level * math.exp(rng.gauss(0, 0.02)) for _ in range(40)]
        cand[rnd] = [103 * level * math.exp(rng.gauss(0, 0.02)) for _ in range(40)]
    ok(len(base) < msbstats.MIN_ROUNDS_TO_RESAMPLE, "fixture has fewer rounds than a block bootstrap needs")
    paired = msbstats.bootstrap_paired_ratio_replicates(base, cand, 2, 500)
    again = msbstats.bootstrap_paired_ratio_replicates(base, cand, 2, 500)
    low, high = msbstats.percentile_interval(paired, 0.95)
    ok(paired == again and low < 1.03 < high and high - low < 0.06,
       "stratified paired CI is reproducible and holds the true 1.03", f"[{low:.4f}, {high:.4f}]")


test_summaries()
test_outliers()
test_stratified_bootstrap()
test_mann_whitney_published()
test_mann_whitney_derived()
test_bootstrap()
test_paired_bootstrap()
done()
