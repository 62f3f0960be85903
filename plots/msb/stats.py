# SPDX-License-Identifier: GPL-2.0-only
"""Statistics for msealbench: summaries, outliers, bootstrap intervals, Mann-Whitney U.

Pure functions on lists of numbers, standard library only. Randomness only through a
random.Random(seed) the caller names, so every interval is reproducible.
"""
import collections
import math
import random
import statistics

# Modified z-score cut-off (Iglewicz and Hoaglin): |0.6745 (x - median) / MAD| > 3.5.
MAD_Z_CUTOFF = 3.5
MAD_TO_Z = 0.6745
MEAN_AD_TO_SIGMA = 1.253314  # sigma / mean absolute deviation of a normal sample


def median(values):
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median of no values")
    middle = n // 2
    if n % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def mean(values):
    if not values:
        raise ValueError("mean of no values")
    return math.fsum(values) / len(values)


def stddev(values):
    """Sample standard deviation (n - 1 in the denominator); 0 for a single value."""
    n = len(values)
    if n < 2:
        return 0.0
    centre = mean(values)
    return math.sqrt(math.fsum((v - centre) ** 2 for v in values) / (n - 1))


def coefficient_of_variation(values):
    centre = mean(values)
    return stddev(values) / centre if centre else float("nan")


def percentile(values, pct):
    """Linear interpolation between closest ranks (Hyndman and Fan type 7)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    position = (len(ordered) - 1) * pct / 100.0
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    weight = position - below
    return ordered[below] * (1.0 - weight) + ordered[above] * weight


def outlier_flags(values, cutoff=MAD_Z_CUTOFF):
    """One boolean per value: True where its modified z-score exceeds cutoff.

    Outliers are flagged for the reader, never removed: on a noisy machine they are
    part of what the kernel costs."""
    centre = median(values)
    deviations = [abs(v - centre) for v in values]
    spread = median(deviations)
    scale = MAD_TO_Z / spread if spread else 0.0
    if not spread:
        # More than half the values equal the median: fall back to the mean absolute
        # deviation (scaled to match the MAD of a normal sample).
        mean_spread = mean(deviations)
        if not mean_spread:
            return [False] * len(values)
        scale = 1.0 / (MEAN_AD_TO_SIGMA * mean_spread)
    return [d * scale > cutoff for d in deviations]


def outlier_count(values, cutoff=MAD_Z_CUTOFF):
    return sum(outlier_flags(values, cutoff))


def geometric_mean(values):
    if not values:
        raise ValueError("geometric mean of no values")
    if any(v <= 0 for v in values):
        raise ValueError("geometric mean needs positive values")
    return math.exp(math.fsum(math.log(v) for v in values) / len(values))


def summarize(values):
    """The summary block of the results schema plus the outlier count."""
    if not values:
        return None
    return {
        "n": len(values),
        "median": median(values),
        "mean": mean(values),
        "stddev": stddev(values),
        "cv": coefficient_of_variation(values),
        "min": min(values),
        "max": max(values),
        "p5": percentile(values, 5),
        "p95": percentile(values, 95),
        "outliers": outlier_count(values),
    }


# ---------------------------------------------------------------- bootstrap

def percentile_interval(replicates, confidence):
    """Central interval holding `confidence` of the bootstrap replicates."""
    finite = sorted(r for r in replicates if math.isfinite(r))
    if not finite:
        return (float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2.0 * 100.0
    return (percentile(finite, tail), percentile(finite, 100.0 - tail))


def centred_interval(replicates, estimate, confidence):
    """The percentile interval of positive ratio replicates moved, on a log scale, so that
    the replicates' median falls on the estimate: the spread is the bootstrap's, the centre
    the full data's. A statistic whose replicates sit off its estimate (a geometric mean of
    medians of resampled rounds) thus never gets an interval that excludes its own estimate."""
    usable = [r for r in replicates if r > 0 and math.isfinite(r)]
    if not usable:
        return (float("nan"), float("nan"))
    centre = median(usable)
    low, high = percentile_interval(usable, confidence)
    return (estimate * low / centre, estimate * high / centre)


def _ratio(numerator, denominator):
    return numerator / denominator if denominator else float("inf")


def bootstrap_rounds_ratio_replicates(base_by_round, cand_by_round, seed, iterations, paired):
    """Replicates of the ratio of medians of round medians, cand over base, for samples
    taken in rounds.

    base_by_round and cand_by_round map a round to the samples one process took in it.
    Samples of one process share that process's luck (memory layout, frequency, a burst
    of load), so the independent units are the rounds: each replicate resamples rounds with
    replacement and takes the median of their medians (a cluster bootstrap). Resampling
    samples within a round as well would add nothing the round medians do not already
    vary by, and costs a thousand times more. paired: both sides draw the same rounds,
    since both seal modes ran side by side in a round and drift of the machine common to
    them cancels in the ratio."""
    rng = random.Random(seed)
    base_med = {r: median(v) for r, v in base_by_round.items()}
    cand_med = {r: median(v) for r, v in cand_by_round.items()}
    if paired:
        shared = sorted(set(base_med) & set(cand_med))
        if not shared:
            raise ValueError("no round holds samples of both sides")
        base_rounds = cand_rounds = shared
    else:
        base_rounds, cand_rounds = sorted(base_med), sorted(cand_med)
    replicates = []
    for _ in range(iterations):
        drawn_base = rng.choices(base_rounds, k=len(base_rounds))
        drawn_cand = drawn_base if paired else rng.choices(cand_rounds, k=len(cand_rounds))
        replicates.append(_ratio(median([cand_med[r] for r in drawn_cand]),
                                 median([base_med[r] for r in drawn_base])))
    return replicates


def group_by_boot(samples, rounds, boots):
    """{boot: {round: samples}}: the samples of each round of each boot."""
    nested = {}
    for value, rnd, boot in zip(samples, rounds, boots):
        nested.setdefault(boot, {}).setdefault(rnd, []).append(value)
    return nested


def boot_locations(by_boot):
    """{boot: median of its round medians}: one value per boot."""
    return {boot: median_of_round_medians(by_round) for boot, by_round in by_boot.items()}


def boots_ratio(base_locations, cand_locations, paired):
    """cand over base from boot locations: paired, the median of the ratios of boots with the same
    number (they ran one after the other); unpaired, the ratio of the medians."""
    if paired:
        return median([_ratio(cand_locations[b], base_locations[b]) for b in base_locations])
    return _ratio(median(list(cand_locations.values())), median(list(base_locations.values())))


def bootstrap_boots_ratio_replicates(base_by_boot, cand_by_boot, seed, iterations, paired):
    """Replicates of boots_ratio for samples taken in rounds within boots: a boot's kernel
    layout, KASLR and memory placement are shared by all its rounds, so boots are the
    independent units. Each replicate resamples boots (paired: the same boot numbers on both
    sides), then the rounds within each drawn boot, both with replacement."""
    rng = random.Random(seed)

    def drawn_locations(by_boot, boots):
        meds = {b: round_medians(by_boot[b]) for b in set(boots)}
        return {i: median(rng.choices(meds[b], k=len(meds[b]))) for i, b in enumerate(boots)}

    if paired:
        shared = sorted(set(base_by_boot) & set(cand_by_boot))
    replicates = []
    for _ in range(iterations):
        if paired:
            base_boots = cand_boots = rng.choices(shared, k=len(shared))
        else:
            base_boots = rng.choices(sorted(base_by_boot), k=len(base_by_boot))
            cand_boots = rng.choices(sorted(cand_by_boot), k=len(cand_by_boot))
        replicates.append(boots_ratio(drawn_locations(base_by_boot, base_boots),
                                      drawn_locations(cand_by_boot, cand_boots), paired))
    return replicates


def boot_spread(base_locations, cand_locations, paired):
    """How far boots of one kernel disagree: paired, the range of the per-boot ratios
    (max / min - 1); unpaired, the larger range of the two sides' boot locations."""
    if paired:
        ratios = [_ratio(cand_locations[b], base_locations[b]) for b in base_locations]
        return _ratio(max(ratios), min(ratios)) - 1.0
    return max(_ratio(max(side.values()), min(side.values())) - 1.0 for side in (base_locations, cand_locations))


def robust_spread(values):
    """1.4826 times the median absolute deviation: the standard deviation of normal data, little
    moved by a few wild values."""
    centre = median(values)
    return 1.4826 * median([abs(v - centre) for v in values])


def median_of_round_medians(by_round):
    """The location estimate that treats each round (process) as one unit."""
    return median(round_medians(by_round))


def bootstrap_rounds_median_replicates(by_round, seed, iterations):
    """Replicates of the median of round medians, rounds resampled with replacement."""
    rng = random.Random(seed)
    meds = round_medians(by_round)
    return [median(rng.choices(meds, k=len(meds))) for _ in range(iterations)]


def student_t_quantile(probability, df):
    """Quantile of Student's t by the Cornish-Fisher expansion around the normal quantile
    (Abramowitz and Stegun 26.7.5); within 1% of the exact value from 2 degrees of freedom."""
    z = statistics.NormalDist().inv_cdf(probability)
    terms = [
        (z ** 3 + z) / 4,
        (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96,
        (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384,
        (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160,
    ]
    return z + sum(term / df ** (power + 1) for power, term in enumerate(terms))


def few_units_widening(units, confidence):
    """Factor for a bootstrap interval built from only `units` independent units: the
    bootstrap's spread is too small by sqrt((k-1)/k) and the normal quantile should be
    Student's with k-1 degrees of freedom. inf below two units."""
    if units < 2:
        return float("inf")
    tail = 0.5 + confidence / 2
    return (student_t_quantile(tail, units - 1) / statistics.NormalDist().inv_cdf(tail)
            * math.sqrt(units / (units - 1)))


def widen_replicates(replicates, centre, factor):
    """Stretch ratio replicates away from centre by factor on a log scale, so that any
    percentile interval of them widens by that factor (and combinations such as a
    geometric mean over cells inherit it)."""
    if not math.isfinite(factor):
        return [float("nan")] * len(replicates)
    log_centre = math.log(centre)
    return [math.exp(log_centre + (math.log(r) - log_centre) * factor)
            if r > 0 and math.isfinite(r) else r for r in replicates]


def round_medians(by_round):
    """One value per round (per process): the unit a test across processes should use."""
    return [median(values) for _, values in sorted(by_round.items())]


def group_by_round(samples, rounds):
    grouped = {}
    for value, rnd in zip(samples, rounds):
        grouped.setdefault(rnd, []).append(value)
    return grouped


# ------------------------------------------------------------ Mann-Whitney U

def average_ranks(values):
    """Ranks 1..n of values; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared_rank = (start + end) / 2.0 + 1.0
        for k in range(start, end + 1):
            ranks[order[k]] = shared_rank
        start = end + 1
    return ranks


def tie_sizes(values):
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return [t for t in counts.values() if t > 1]


def _normal_upper_tail(z):
    return 0.5 * math.erfc(z / math.sqrt(2.0))


# Exact distribution only for small samples without ties; beyond this the normal
# approximation is within a few 1e-4 and far cheaper.
EXACT_MAX_PRODUCT = 400


def u_statistic(x, y):
    """U of x: the number of pairs (xi, yj) with xi > yj, ties counting one half."""
    ranks = average_ranks(list(x) + list(y))
    rank_sum_x = math.fsum(ranks[:len(x)])
    return rank_sum_x - len(x) * (len(x) + 1) / 2.0


MannWhitney = collections.namedtuple("MannWhitney", "u p z method")


def mann_whitney(x, y, method="auto"):
    """Two-sided Mann-Whitney U test of x against y.

    Returns MannWhitney(u, p, z, method): u counts the pairs where x beats y, z is the
    standardised u (continuity corrected by 0.5, variance corrected for ties). method
    "auto" takes the exact distribution for small samples without ties and the
    normal approximation otherwise; "normal" or "exact" force one."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("Mann-Whitney U needs values in both samples")
    u_x = u_statistic(x, y)
    ties = tie_sizes(list(x) + list(y))
    z = _normal_z(u_x, n1, n2, ties)
    if method == "auto":
        method = "exact" if not ties and n1 * n2 <= EXACT_MAX_PRODUCT else "normal"
    if method == "exact":
        if ties:
            raise ValueError("the exact Mann-Whitney distribution here assumes no ties")
        return MannWhitney(u_x, _exact_two_sided_p(u_x, n1, n2), z, "exact")
    p = 1.0 if z is None else min(1.0, 2.0 * _normal_upper_tail(abs(z)))
    return MannWhitney(u_x, p, z, "normal")


def _normal_z(u_x, n1, n2, ties):
    """None when every value is equal (no variance: no evidence of a difference)."""
    n = n1 + n2
    expected = n1 * n2 / 2.0
    tie_term = sum(t ** 3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    variance = n1 * n2 / 12.0 * ((n + 1) - tie_term)
    if variance <= 0:
        return None
    distance = max(abs(u_x - expected) - 0.5, 0.0)
    return math.copysign(distance, u_x - expected) / math.sqrt(variance)


def u_distribution_counts(n1, n2):
    """counts[u] = number of orderings of n1 x's and n2 y's whose U of x is u.

    Built by adding one value at a time: the largest of the pooled values is either
    an x (beating all n2 y's) or a y (beating nothing)."""
    # table[j] holds the counts for (i, j) while i grows row by row.
    table = [[1] for _ in range(n2 + 1)]
    for i in range(1, n1 + 1):
        row = [[1]]  # j = 0: one ordering, U = 0
        for j in range(1, n2 + 1):
            with_x_last = [0] * j + table[j]     # (i-1, j) shifted by j
            with_y_last = row[j - 1]             # (i, j-1)
            size = max(len(with_x_last), len(with_y_last))
            row.append([(with_x_last[k] if k < len(with_x_last) else 0)
                        + (with_y_last[k] if k < len(with_y_last) else 0)
                        for k in range(size)])
        table = row
    return table[n2]


def _exact_two_sided_p(u_x, n1, n2):
    counts = u_distribution_counts(n1, n2)
    total = sum(counts)
    u = int(round(u_x))
    lower = sum(counts[:u + 1])
    upper = sum(counts[u:])
    return min(1.0, 2.0 * min(lower, upper) / total)
