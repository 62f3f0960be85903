# SPDX-License-Identifier: GPL-2.0-only
"""Baseline-versus-candidate comparison of msealbench cells and the verdict rules.

Lower is better for every metric here (ns per operation, counter events per operation).
A ratio is median(candidate) / median(baseline): above 1 means the candidate is slower.
"""
import dataclasses
import fnmatch
import math
import os
import zlib

from . import changepoints, results, stats
from .results import BadInput

REGRESSION = "regression"
IMPROVEMENT = "improvement"
EQUIVALENT = "equivalent"
INCONCLUSIVE = "inconclusive"
NOT_ATTRIBUTABLE = "not attributable"   # two runs: no larger than the controls moved
UNDECIDABLE = "undecidable"             # too few rounds for a round bootstrap to mean anything
VERDICTS = (REGRESSION, IMPROVEMENT, EQUIVALENT, INCONCLUSIVE, NOT_ATTRIBUTABLE, UNDECIDABLE)
# With 3 rounds or fewer a resample of rounds is one of at most 10 sets, and its median one of the
# rounds' own values in most of them: the interval is set by one or two rounds, and the estimate
# can sit on an end of it (a quick run: 1.0416 [0.8839, 1.0416]). Such a comparison cannot decide.
MIN_DECIDING_ROUNDS = 4
TIME = "time"
MIN_SAMPLES = 3
SETTLE_LIMIT = 100  # beyond this many times the current samples, "settling" is not practical
DRAW_BUDGET = 20_000_000  # rounds drawn by all bootstrap resamples of one input: about 20 s
MIN_ITERATIONS = 100
MAX_UNITS = 500_000       # rounds of cells and counters: 100 resamples of them take about 30 s
LOCATION_ITERATIONS = 1000  # resamples behind a cell's own CI (bars, scaling, history plots)


# What a cell measures, first matching pattern of benchmark name wins: a denied path (a call on
# sealed memory that fails with EPERM) and a successful one answer different questions and never
# share a geomean or a group verdict. Unmatched cells form a group of their family.
CELL_GROUPS = (
    ("*.sealed", "{family} denied"),
    ("mremap.*", "mremap success"),
    ("harness.*", "harness/control"),
)


# Control cells: paths a kernel change to memory sealing or the mm calls is unlikely to touch. Between
# two kernels (or two boots) they still move, from code layout and placement alone: how far they
# move is the noise floor of that comparison.
CONTROLS = ("harness.syscall.getppid", "vdso.clock_*", "fork.vfork")


def is_control(benchmark):
    return any(fnmatch.fnmatchcase(benchmark, pattern) for pattern in CONTROLS)


def cell_group(benchmark, family):
    """The group a cell's geomean and group verdict belong to (CELL_GROUPS)."""
    for pattern, group in CELL_GROUPS:
        if fnmatch.fnmatchcase(benchmark, pattern):
            return group.format(family=family)
    return family


@dataclasses.dataclass
class Settings:
    margin: float = 0.02        # equivalence band: the whole CI inside 1 +- margin
    threshold: float = 0.01     # smallest change called a regression or improvement
    alpha: float = 0.05         # Mann-Whitney significance level
    confidence: float = 0.95    # bootstrap interval
    iterations: int = 2000      # bootstrap resamples
    counter_iterations: int = None  # for counters (affordable_settings); None: iterations
    seed: int = 1


@dataclasses.dataclass
class Comparison:
    benchmark: str
    family: str
    params: dict
    metric: str                 # "time" or a counter name
    unit: str
    base_name: str              # what the baseline is: a seal mode or a run label
    cand_name: str
    paired: bool
    n_base: int
    n_cand: int
    rounds: int                 # independent units (processes per side) behind the CI and p
    base_median: float
    cand_median: float
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float              # None for geomean rows
    verdict: str
    more_rounds: int = None     # inconclusive: about how many more rounds (boots) would settle it
    boots: int = None           # the units are boots (files merged by msealbench vm): how many
    boot_spread: float = None   # how far boots disagree (stats.boot_spread)
    note: str = ""
    why: str = ""               # what made the verdict weaker than the interval alone would be
    base_outliers: int = 0
    cand_outliers: int = 0
    base_cv: float = 0.0
    cand_cv: float = 0.0
    replicates: list = dataclasses.field(default=None, repr=False)
    base_cell: object = dataclasses.field(default=None, repr=False)   # the cells compared (none
    cand_cell: object = dataclasses.field(default=None, repr=False)   # for a geomean row)
    group: str = ""             # what the cell measures (cell_group): geomeans are per group

    def __post_init__(self):
        self.group = self.group or cell_group(self.benchmark, self.family)

    INTERNAL = ("replicates", "base_cell", "cand_cell")

    @property
    def change(self):
        return self.ratio - 1.0

    @property
    def significant(self):
        return self.verdict in (REGRESSION, IMPROVEMENT)

    def as_dict(self):
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in self.INTERNAL}
        out["change_pct"] = _pct(self.change)
        return out


def _pct(fraction):
    return None if fraction is None or not math.isfinite(fraction) else round(fraction * 100.0, 4)


@dataclasses.dataclass
class NotCompared:
    benchmark: str
    params: dict
    seal: str
    reason: str
    metric: str = TIME          # a counter: the cell's time was compared, this counter was not

    def as_dict(self):
        return dataclasses.asdict(self)


def affordable_settings(settings, runs):
    """settings with fewer bootstrap resamples (never below MIN_ITERATIONS) when the
    inputs hold so many rounds that the requested number would take minutes, and the
    warnings saying so; BadInput past MAX_UNITS. Each resample draws every round of a
    cell, once per metric. Time is served first: its resamples depend on the time rounds alone,
    so a cell's time verdict is the same whether counters are compared beside it (compare) or
    not (plot, report); the counters share what is left (counter_iterations)."""
    time_units = sum(len(set(c.rounds)) for run in runs for c in run.ok_cells())
    units = sum(len(set(c.rounds)) * (1 + len(c.counters)) for run in runs for c in run.ok_cells())
    if units > MAX_UNITS:
        raise BadInput(f"the inputs hold {units} rounds over all cells and counters, more than {MAX_UNITS} "
                       "that compare in reasonable time: pass fewer files (compare: or --no-counters)")
    for_time = min(settings.iterations, max(MIN_ITERATIONS, DRAW_BUDGET // max(time_units, 1)))
    counter_units = units - time_units
    for_counters = min(for_time, max(MIN_ITERATIONS, (DRAW_BUDGET - for_time * time_units) // max(counter_units, 1)))
    if for_time >= settings.iterations and (not counter_units or for_counters >= settings.iterations):
        return settings, []
    warnings = []
    if for_time < settings.iterations:
        warnings.append(f"the inputs hold {time_units} rounds of cells: {for_time} bootstrap resamples instead of "
                        f"{settings.iterations}, so the comparison ends in about a minute (CIs a little rougher)")
    if counter_units and for_counters < for_time:
        warnings.append(f"the counters add {counter_units} rounds: {for_counters} bootstrap resamples for them "
                        f"({for_time} for time), so the comparison ends in about a minute")
    return dataclasses.replace(settings, iterations=for_time, counter_iterations=for_counters), warnings


# ------------------------------------------------------------------ verdicts

def decide_verdict(ratio, ci_low, ci_high, p_value, settings):
    """regression / improvement: significant (the CI excludes 1, and p below alpha when
    a p is given) and the change at least the threshold; equivalent: the whole CI inside
    1 +- margin; inconclusive otherwise.

    Callers pass p only where the Mann-Whitney test suits the design: unpaired
    comparisons. Paired by round, the rank test on round medians would ignore the
    pairing (and with 5 rounds no paired rank test can reach p < 0.05), so the
    round-paired CI decides alone."""
    significant_p = p_value is None or p_value < settings.alpha
    if significant_p and ci_low > 1.0 and ratio - 1.0 >= settings.threshold:
        return REGRESSION
    if significant_p and ci_high < 1.0 and 1.0 - ratio >= settings.threshold:
        return IMPROVEMENT
    if 1.0 - settings.margin <= ci_low and ci_high <= 1.0 + settings.margin:
        return EQUIVALENT
    return INCONCLUSIVE


def more_rounds_to_settle(n, ratio, ci_low, ci_high, settings):
    """About how many more units (rounds) would settle an inconclusive result, assuming
    the CI shrinks around the estimate as 1/sqrt(n) (it shrinks a little faster, since
    fewer rounds also widen it: the estimate errs on the side of more).

    Settled means: the CI inside 1 +- margin (equivalent), or the CI clear of 1 with the
    change at least the threshold (regression or improvement). None when neither is
    within SETTLE_LIMIT times the samples already taken."""
    if n <= 0 or not (ci_low < ratio < ci_high):
        return None
    shrink = max(_shrink_to_equivalence(ratio, ci_low, ci_high, settings.margin),
                 _shrink_to_significance(ratio, ci_low, ci_high, settings.threshold))
    if shrink <= 0 or n / shrink ** 2 > n * SETTLE_LIMIT:
        return None
    return max(1, math.ceil(n / shrink ** 2 - n))


def _shrink_to_equivalence(ratio, ci_low, ci_high, margin):
    """The factor the CI must shrink by so both ends fit in 1 +- margin (0: never)."""
    if abs(ratio - 1.0) >= margin:
        return 0.0
    return min((1.0 + margin - ratio) / (ci_high - ratio), (ratio - (1.0 - margin)) / (ratio - ci_low))


def _shrink_to_significance(ratio, ci_low, ci_high, threshold):
    """The factor the CI must shrink by to clear 1 (0: the change is below threshold)."""
    if abs(ratio - 1.0) < threshold:
        return 0.0
    if ratio > 1.0:
        return (ratio - 1.0) / (ratio - ci_low)
    return (1.0 - ratio) / (ci_high - ratio)


# ------------------------------------------------------------ one comparison

def cell_seed(settings, *parts):
    """A seed for one cell's bootstrap that does not depend on the order of cells."""
    text = "\x1f".join(str(p) for p in (settings.seed,) + parts)
    return zlib.crc32(text.encode("utf-8"))


@dataclasses.dataclass
class Series:
    """What compare_series or compare_boots found, before the interval."""
    ratio: float
    raw: list                   # bootstrap replicates of the ratio
    units: int                  # independent units: rounds, or boots
    paired: bool
    p_value: float
    boots: int = None           # set when the units are boots
    boot_spread: float = None
    base_location: float = None  # what the ratio is made of, per side (the table's columns)
    cand_location: float = None


def compare_series(base, cand, settings, seed, base_rounds, cand_rounds, paired):
    """Ratio of medians, its CI, the Mann-Whitney p and the number of independent units
    (rounds) behind them, for two sample lists taken in rounds.

    The ratio is that of the medians of round medians; its CI comes from a bootstrap of
    rounds, widened for the few rounds a run has; the p compares the per-round medians:
    one value per process, because samples of one process are not independent of each
    other."""
    base_by_round = stats.group_by_round(base, base_rounds)
    cand_by_round = stats.group_by_round(cand, cand_rounds)
    paired = paired and bool(set(base_by_round) & set(cand_by_round))
    units = (len(set(base_by_round) & set(cand_by_round)) if paired
             else min(len(base_by_round), len(cand_by_round)))
    ratio = (stats.median_of_round_medians(cand_by_round)
             / stats.median_of_round_medians(base_by_round))
    raw = stats.bootstrap_rounds_ratio_replicates(base_by_round, cand_by_round, seed,
                                                     settings.iterations, paired)
    p_value = stats.mann_whitney(stats.round_medians(cand_by_round),
                                    stats.round_medians(base_by_round)).p
    return Series(ratio, raw, units, paired, p_value,
                  base_location=stats.median_of_round_medians(base_by_round),
                  cand_location=stats.median_of_round_medians(cand_by_round))


def compare_boots(base, cand, settings, seed, base_cell, cand_cell):
    """As compare_series, with boots as the units (files merged by `msealbench vm`): the
    bootstrap resamples boots, then rounds within boots; boot n of one kernel is paired with
    boot n of the other (msealbench vm boots the kernels alternately: A B A B), so a slow
    period of the host that spans both cancels in their ratio. The p compares boot locations."""
    base_by_boot = stats.group_by_boot(base, base_cell.rounds, base_cell.boots)
    cand_by_boot = stats.group_by_boot(cand, cand_cell.rounds, cand_cell.boots)
    shared = set(base_by_boot) & set(cand_by_boot)
    paired = len(shared) >= 2
    if paired:
        base_by_boot = {b: base_by_boot[b] for b in shared}
        cand_by_boot = {b: cand_by_boot[b] for b in shared}
    base_loc, cand_loc = stats.boot_locations(base_by_boot), stats.boot_locations(cand_by_boot)
    units = len(shared) if paired else min(len(base_loc), len(cand_loc))
    raw = stats.bootstrap_boots_ratio_replicates(base_by_boot, cand_by_boot, seed,
                                                    settings.iterations, paired)
    p_value = stats.mann_whitney(list(cand_loc.values()), list(base_loc.values())).p
    ratio = stats.boots_ratio(base_loc, cand_loc, paired)
    # Paired, the ratio is the median of per-boot ratios, not a ratio of two medians: the
    # candidate column shows the baseline scaled by it, so the columns never contradict the change.
    base_location = stats.median(list(base_loc.values()))
    cand_location = base_location * ratio if paired else stats.median(list(cand_loc.values()))
    return Series(ratio, raw, units, paired, p_value, boots=units,
                  boot_spread=stats.boot_spread(base_loc, cand_loc, paired),
                  base_location=base_location, cand_location=cand_location)


def undecidable_why(units, boots, ratio, low, high):
    """Why a comparison cannot decide ("" when it can): too few rounds for the round bootstrap
    (boots resample their rounds too, so they are spared the count), or an estimate on an end
    of its own interval (an interval of no width, every replicate equal, is exact instead)."""
    if boots is None and units < MIN_DECIDING_ROUNDS:
        return f"{units} round{'s' if units != 1 else ''}, at least {MIN_DECIDING_ROUNDS} needed"
    if not (low < ratio < high) and low != high:
        return f"estimate on an end of its own interval: {units} {'boots' if boots else 'rounds'} cannot decide"
    return ""


def smallest_p(rounds):
    """The smallest two-sided Mann-Whitney p that two sides of so many rounds each can give
    (the exact distribution, no ties): 3 against 3 never go below 0.1."""
    return min(1.0, 2.0 / math.comb(2 * rounds, rounds)) if rounds > 0 else 1.0


def rounds_to_reach(alpha):
    """The fewest rounds per side whose smallest Mann-Whitney p is below alpha."""
    rounds = 1
    while smallest_p(rounds) >= alpha:
        rounds += 1
    return rounds


def rounds_needed(c, settings):
    """The fewest rounds that could give comparison c a verdict: enough for the round bootstrap
    and, unpaired (the Mann-Whitney p takes part), for a p below alpha."""
    return max(MIN_DECIDING_ROUNDS, 1 if c.paired else rounds_to_reach(settings.alpha))


def undecidable_warnings(comparisons, settings=None):
    """One line for all cells that too few rounds keep from any regression or improvement
    verdict, with the number of rounds that could decide them (gbench's "9+ repetitions
    recommended"): too few for a confidence interval, or, unpaired, for a Mann-Whitney p below
    alpha (two --quick runs: 3 rounds each, p never below 0.1). A cell undecidable for
    another reason says why in its row."""
    settings = settings or Settings()
    time_rows = [c for c in comparisons if c.metric == TIME and c.boots is None]
    stuck = [c for c in time_rows if c.verdict == UNDECIDABLE and c.rounds < MIN_DECIDING_ROUNDS]
    never = [c for c in time_rows if c not in stuck and not c.paired
             and smallest_p(c.rounds) >= settings.alpha]
    out = []
    if stuck:
        fewest, needed = min(c.rounds for c in stuck), max(rounds_needed(c, settings) for c in stuck)
        out.append(f"{len(stuck)} cells undecidable: {fewest} rounds cannot give a confidence interval; "
                   f"runs of at least {needed} rounds could decide (msealbench run --repetitions "
                   f"{needed} or more, not --quick; its open cells then say how many more)")
    if never:
        fewest, needed = min(c.rounds for c in never), rounds_to_reach(settings.alpha)
        out.append(f"{len(never)} cells can never be called a regression or improvement: with {fewest} "
                   f"rounds a side the Mann-Whitney p is at least {smallest_p(fewest):.3g}, not below alpha "
                   f"{settings.alpha:g}; runs of at least {needed} rounds could (msealbench run "
                   f"--repetitions {needed})")
    return out


def noisy_warnings(comparisons, limit=1.0):
    """One line for all cells whose samples vary by more than limit (coefficient of variation,
    100%): their ratios say little, whatever the interval (as hyperfine warns of noisy runs)."""
    noisy = [c for c in comparisons if c.metric == TIME and max(c.base_cv, c.cand_cv) > limit]
    if not noisy:
        return []
    worst = max(noisy, key=lambda c: max(c.base_cv, c.cand_cv))
    return [f"{len(noisy)} cells vary by more than {limit * 100:.0f}% (coefficient of variation), e.g. "
            f"{worst.benchmark} [{results.params_text(worst.params)}] {worst.base_name}/{worst.cand_name} "
            f"at {max(worst.base_cv, worst.cand_cv) * 100:.0f}% (ratio {worst.ratio:.3g}): its numbers are "
            "mostly noise; measure on an idle machine, with more --min-time and --repetitions"]


def multi_boot(cell):
    """Whether a cell's samples come from two boots or more (a file merged by msealbench vm)."""
    return len(set(cell.boots)) >= 2


def compare_metric(base_cell, cand_cell, metric, settings, names, paired):
    """One Comparison of a metric ("time" or a counter) between two cells, or the
    reason it cannot be made (a string)."""
    base = base_cell.samples if metric == TIME else base_cell.counters[metric]
    cand = cand_cell.samples if metric == TIME else cand_cell.counters[metric]
    if len(base) < MIN_SAMPLES or len(cand) < MIN_SAMPLES:
        return f"too few samples ({len(base)} and {len(cand)}; at least {MIN_SAMPLES} each)"
    for side, values, rounds in (("baseline", base, base_cell.rounds), ("candidate", cand, cand_cell.rounds)):
        location = stats.median_of_round_medians(stats.group_by_round(values, rounds))
        if location <= 0:  # the ratio below divides by the same estimate
            return f"{side} median is {location:g}: no ratio"
    seed = cell_seed(settings, base_cell.benchmark, base_cell.params_text, metric,
                     names[0], names[1])
    if metric != TIME and settings.counter_iterations:
        settings = dataclasses.replace(settings, iterations=settings.counter_iterations)
    if multi_boot(base_cell) and multi_boot(cand_cell):
        series = compare_boots(base, cand, settings, seed, base_cell, cand_cell)
    else:
        series = compare_series(base, cand, settings, seed, base_cell.rounds, cand_cell.rounds, paired)
    ratio, units, paired, p_value = series.ratio, series.units, series.paired, series.p_value
    replicates = stats.widen_replicates(
        series.raw, ratio, stats.few_units_widening(units, settings.confidence))
    low, high = stats.percentile_interval(replicates, settings.confidence)
    verdict = decide_verdict(ratio, low, high, None if paired else p_value, settings)
    more, why = None, undecidable_why(units, series.boots, ratio, low, high)
    if why:
        verdict, more = UNDECIDABLE, max(0, MIN_DECIDING_ROUNDS - units) if series.boots is None else None
    elif verdict == INCONCLUSIVE:
        more = more_rounds_to_settle(units, ratio, low, high, settings)
    return Comparison(
        benchmark=base_cell.benchmark, family=base_cell.family, params=base_cell.params,
        metric=metric, unit=base_cell.unit if metric == TIME else "per op",
        base_name=names[0], cand_name=names[1], paired=paired,
        n_base=len(base), n_cand=len(cand), rounds=units,
        base_median=series.base_location, cand_median=series.cand_location,
        ratio=ratio, ci_low=low, ci_high=high, p_value=p_value, verdict=verdict,
        more_rounds=more, why=why, boots=series.boots, boot_spread=series.boot_spread,
        base_outliers=stats.outlier_count(base), cand_outliers=stats.outlier_count(cand),
        base_cv=stats.coefficient_of_variation(base),
        cand_cv=stats.coefficient_of_variation(cand), replicates=replicates,
        base_cell=base_cell, cand_cell=cand_cell)


def compare_cells(base_cell, cand_cell, settings, names, paired):
    """The time comparison first, then every counter both cells counted.

    Returns (comparisons, [(metric, reason not compared)])."""
    comparisons, problems = [], []
    shared_counters = sorted(set(base_cell.counters) & set(cand_cell.counters))
    for metric in [TIME] + shared_counters:
        result = compare_metric(base_cell, cand_cell, metric, settings, names, paired)
        if isinstance(result, str):
            problems.append((metric, result))
        else:
            comparisons.append(result)
    return comparisons, problems


# ------------------------------------------------------------ pairing cells

def not_compared_reason(base_cell, cand_cell):
    """Why a pair of cells cannot be compared, or None when both ran."""
    for side, cell in (("baseline", base_cell), ("candidate", cand_cell)):
        if cell.status != "ok":
            return f"{cell.status} in {side}: {cell.reason or 'no reason given'}"
        if not cell.samples:
            return f"no samples in {side}"
    return None


def pairs_within_run(run, base_seal="none", cand_seals=None):
    """(baseline cell, candidate cell) pairs of one run: base_seal against each other mode."""
    modes = run.seal_modes()
    if base_seal not in modes:
        raise BadInput(f"{run.path}: holds no cells in seal mode {base_seal!r} (modes: {', '.join(modes)})")
    candidates = cand_seals or [m for m in modes if m != base_seal]
    missing = [m for m in candidates if m not in modes]
    if missing:
        raise BadInput(f"{run.path}: holds no cells in seal mode {missing[0]!r} (modes: {', '.join(modes)})")
    if not candidates:
        raise BadInput(f"{run.path}: holds only seal mode {base_seal!r}: nothing to compare "
                       "(run with --seal none,sysmap, or pass a second file)")
    by_key = {c.key: c for c in run.cells}
    pairs, unmatched = [], []
    for cand_seal in candidates:
        for cell in run.cells:
            if cell.seal != base_seal:
                continue
            partner = by_key.get((cell.benchmark, cell.key[1], cand_seal))
            if partner is None:
                unmatched.append(NotCompared(cell.benchmark, cell.params, cand_seal,
                                             f"no {cand_seal} cell in this run"))
            else:
                pairs.append((cell, partner))
    return pairs, unmatched


def pairs_between_runs(base_run, cand_run, allow_unmatched=False):
    """Pairs of cells with the same benchmark, parameters and seal mode in two runs.

    A cell without a partner is bad input unless allow_unmatched: comparing a subset
    silently could hide a regression."""
    base_by_key = {c.key: c for c in base_run.cells}
    cand_by_key = {c.key: c for c in cand_run.cells}
    pairs = [(base_by_key[k], cand_by_key[k]) for k in base_by_key if k in cand_by_key]
    orphans = [(base_by_key[k], cand_run) for k in base_by_key if k not in cand_by_key]
    orphans += [(cand_by_key[k], base_run) for k in cand_by_key if k not in base_by_key]
    if not pairs:
        raise BadInput(f"{base_run.path} and {cand_run.path} share no cell "
                       "(same benchmark, parameters and seal mode): nothing to compare")
    if orphans and not allow_unmatched:
        cell, other = orphans[0]
        raise BadInput(f"{len(orphans)} cells do not match: {cell.describe()} has no partner in "
                       f"{other.path}; run both with the same --filter and --seal, or pass --allow-unmatched")
    unmatched = [NotCompared(c.benchmark, c.params, c.seal, f"not in {other.path}") for c, other in orphans]
    return pairs, unmatched


def compare_pairs(pairs, settings, names_of, paired):
    """Compare every pair; names_of(base_cell, cand_cell) -> (base name, candidate name)."""
    comparisons, not_compared = [], []
    for base_cell, cand_cell in pairs:
        reason = not_compared_reason(base_cell, cand_cell)
        if reason is None:
            found, problems = compare_cells(base_cell, cand_cell, settings,
                                            names_of(base_cell, cand_cell), paired)
            comparisons += found
            if not any(c.metric == TIME for c in found):
                reason = problems[0][1] if problems else "nothing to compare"
            else:  # a counter without a ratio: said, never a verdict
                not_compared += [NotCompared(base_cell.benchmark, base_cell.params,
                                             f"{base_cell.seal}/{cand_cell.seal}", why, metric)
                                 for metric, why in problems]
        if reason is not None:
            not_compared.append(NotCompared(base_cell.benchmark, base_cell.params,
                                            f"{base_cell.seal}/{cand_cell.seal}", reason))
    return comparisons, not_compared


# ------------------------------------------------------------------ history

ROLLING = "rolling:"
MAX_ROLLING = 1000


def rolling_window(wanted):
    """N of --baseline rolling:N (the median of the last N runs), None for any other baseline."""
    if not wanted or not wanted.startswith(ROLLING):
        return None
    text = wanted[len(ROLLING):]
    if not text.isdigit() or not 1 <= int(text) <= MAX_ROLLING:
        raise BadInput(f"--baseline {wanted!r}: expected rolling:N with N from 1 to {MAX_ROLLING}")
    return int(text)


def pick_baseline(runs, wanted):
    """The baseline run: the first (wanted None or "first"), or the run of that label or file name."""
    if not wanted or wanted == "first":
        return runs[0]
    for run in runs:
        if wanted in (run.label, run.path, os.path.basename(run.path)):
            return run
    raise BadInput(f"--baseline {wanted!r} names no run (labels: {', '.join(r.label for r in runs)})")


def pooled_run(runs):
    """One Run whose cells hold every round of the runs (rounds renumbered so they stay apart):
    a rolling baseline, located by the median of the round medians of the last N runs."""
    cells = {}
    for number, run in enumerate(runs):
        for cell in run.ok_cells():
            pooled = cells.get(cell.key)
            if pooled is None:
                pooled = cells[cell.key] = dataclasses.replace(cell, samples=[], rounds=[], counters={}, boots=[])
            offset = number * (results.ROUND_LIMIT + 1)
            pooled.samples += cell.samples
            pooled.rounds += [offset + r for r in cell.rounds]
    label = f"median of {runs[0].label}..{runs[-1].label}" if len(runs) > 1 else runs[0].label
    return results.Run(path=label, label=label, date=runs[-1].date, partial=False, context={},
                       cells=list(cells.values()))


def compare_history(runs, baseline, settings, window=None):
    """Each run against the baseline, or with a window, against the pooled window runs before
    it (the first run has none); time only. Returns [(run, comparisons, not_compared)]."""
    columns = []
    for index, run in enumerate(runs):
        if window:
            base = pooled_run(runs[max(0, index - window):index]) if index else None
        else:
            base = None if run is baseline else baseline
        if base is None:
            columns.append((run, [], []))
            continue
        pairs, unmatched = pairs_between_runs(base, run, allow_unmatched=True)
        comparisons, not_compared = compare_pairs(
            pairs, settings, lambda b, c: (b.seal, c.seal), paired=False)
        columns.append((run, comparisons, unmatched + not_compared))
    return columns


# ------------------------------------------------------------------ geomeans

def group_geomeans(comparisons, settings, floors=None):
    """One row per (group, baseline, candidate): the geometric mean of the time ratios of
    the cells that measure one thing (cell_group), its CI from the per-cell bootstrap
    replicates combined replicate by replicate (the cells were resampled independently,
    so that is a valid joint resample) and centred on the estimate (stats.centred_interval).
    Its verdict: by that CI, then no firmer than the controls (floors: control_floors) and
    than its cells allow (cap_group_verdict)."""
    groups = {}
    for c in comparisons:
        if c.metric == TIME and c.replicates:
            groups.setdefault((c.group, c.base_name, c.cand_name), []).append(c)
    rows = []
    for (group, base_name, cand_name), members in groups.items():
        row = _geomean_row(group, base_name, cand_name, members, settings)
        below_control_floor([row], floors or {})
        row.verdict, row.why = cap_group_verdict(row.verdict, members, row.why)
        rows.append(row)
    return rows


def _geomean_row(group, base_name, cand_name, members, settings):
    ratio = stats.geometric_mean([c.ratio for c in members])
    joint = []
    for replicate in zip(*(c.replicates for c in members)):
        usable = [r for r in replicate if r > 0 and math.isfinite(r)]
        if len(usable) == len(replicate):
            joint.append(stats.geometric_mean(usable))
    low, high = stats.centred_interval(joint, ratio, settings.confidence)
    verdict = decide_verdict(ratio, low, high, None, settings)
    families = sorted({c.family for c in members})
    return Comparison(
        benchmark=f"geomean {group}", family=families[0], params={}, metric=TIME,
        unit="ratio", base_name=base_name, cand_name=cand_name,
        paired=all(c.paired for c in members),
        n_base=len(members), n_cand=len(members), rounds=min(c.rounds for c in members),
        base_median=float("nan"), cand_median=float("nan"), ratio=ratio,
        ci_low=low, ci_high=high, p_value=None, verdict=verdict,
        note=f"{len(members)} cell" + ("s" if len(members) > 1 else ""), replicates=joint, group=group)


def cap_group_verdict(verdict, members, why=""):
    """A group's verdict is never firmer than its cells': a regression (improvement) needs at
    least one cell that is one on its own evidence; pooled cells that each could not tell
    are inconclusive together, and a cell that cannot decide makes its group undecidable.
    Returns (verdict, why)."""
    stuck = sum(c.verdict == UNDECIDABLE for c in members)
    if stuck:
        return UNDECIDABLE, f"{stuck} of its cells undecidable"
    if verdict in (REGRESSION, IMPROVEMENT) and not any(c.verdict == verdict for c in members):
        return INCONCLUSIVE, f"pooled {verdict}, but no cell is one on its own"
    return verdict, why


def sections(comparisons):
    """Comparisons grouped by (baseline name, candidate name) in first-seen order."""
    grouped = {}
    for c in comparisons:
        grouped.setdefault((c.base_name, c.cand_name), []).append(c)
    return grouped


def control_floors(comparisons):
    """{(baseline name, candidate name): (largest change of a control cell's time, how many
    control cells)}: how far paths the change cannot explain moved between two runs."""
    floors = {}
    for c in comparisons:
        if c.metric == TIME and is_control(c.benchmark) and math.isfinite(c.ratio):
            floor, count = floors.get((c.base_name, c.cand_name), (0.0, 0))
            floors[(c.base_name, c.cand_name)] = (max(floor, abs(c.change)), count + 1)
    return floors


def below_control_floor(comparisons, floors):
    """A regression or improvement of time no larger than its section's control floor becomes
    not attributable: the controls moved as much without the change."""
    for c in comparisons:
        floor = floors.get((c.base_name, c.cand_name))
        if c.metric == TIME and c.significant and floor and abs(c.change) <= floor[0]:
            c.why = f"{c.verdict} of {c.change * 100:+.1f}%, but controls moved up to {floor[0] * 100:.1f}%"
            c.verdict = NOT_ATTRIBUTABLE


def count_verdicts(comparisons):
    counts = {v: 0 for v in VERDICTS}
    for c in comparisons:
        counts[c.verdict] += 1
    return counts


# ------------------------------------------------------------ runs

def partial_warnings(runs):
    return [f"{r.path} is partial (the run was interrupted): only its finished rounds are compared"
            for r in runs if r.partial]


def gate_on(run):
    """Whether the run took its samples behind the contention gate (run --gate on)."""
    options = run.context.get("options") if isinstance(run.context, dict) else None
    return isinstance(options, dict) and options.get("gate") is True


def gate_warnings(runs):
    """One line when the runs differ in the contention gate: a gated run measures the host's
    fast periods only, an ungated one all of them, so on a shared host their figures differ by
    up to the gap between the host's speeds whatever the kernel did."""
    on = [r for r in runs if gate_on(r)]
    off = [r for r in runs if not gate_on(r)]
    if not on or not off:
        return []

    def named(group):
        return group[0].path + (f" and {len(group) - 1} more" if len(group) > 1 else "")
    return [f"the runs differ in the contention gate (on in {named(on)}, off in {named(off)}): "
            "gated samples come from the host's fast periods only, so on a shared host the figures can differ "
            "by the gap between its speeds; compare runs made with the same --gate"]


def outlier_warnings(comparisons):
    """One line for all cells where more than 5% of the samples are outliers."""
    noisy = [f"{c.benchmark} [{results.params_text(c.params)}] {c.base_name}/{c.cand_name}"
             for c in comparisons if c.metric == TIME and
             (c.base_outliers > 0.05 * c.n_base or c.cand_outliers > 0.05 * c.n_cand)]
    if not noisy:
        return []
    return [f"{len(noisy)} cells have more than 5% outliers (MAD rule; kept, the median resists them), "
            f"e.g. {noisy[0]}; per-cell counts are in --format json"]


def strip_counters(cells):
    for cell in cells:
        cell.counters = {}


def candidate_seals(text):
    """--cand-seal's comma-separated modes; None (every other mode) when not given."""
    return [s for s in text.split(",") if s] if text else None


def compare_run_modes(run, settings, base_seal="none", cand_seals=None):
    """One run: base_seal against each other mode (or cand_seals), paired by round."""
    pairs, unmatched = pairs_within_run(run, base_seal, cand_seals)
    comparisons, not_compared = compare_pairs(
        pairs, settings, lambda b, c: (b.seal, c.seal), paired=True)
    return comparisons, unmatched + not_compared


def run_pair_names(base_run, cand_run):
    """names_of for two runs: 'label:seal' for each side (A and B when the labels agree)."""
    if base_run.label != cand_run.label:
        first, second = base_run.label, cand_run.label
    else:
        first, second = "A", "B"
    return lambda b, c: (f"{first}:{b.seal}", f"{second}:{c.seal}")


def compare_two_runs(base_run, cand_run, settings, allow_unmatched=False):
    """Two runs: cells matched by benchmark, parameters and seal mode, unpaired."""
    pairs, unmatched = pairs_between_runs(base_run, cand_run, allow_unmatched)
    comparisons, not_compared = compare_pairs(
        pairs, settings, run_pair_names(base_run, cand_run), paired=False)
    return comparisons, unmatched + not_compared


# ------------------------------------------------------------------ analysis

@dataclasses.dataclass
class Location:
    """A cell's median of round medians, with a bootstrap CI over its rounds."""
    median: float
    low: float
    high: float


def cell_location(cell, settings, *key):
    """Rounds are the independent units, as in the comparisons; seeded from key, so reproducible."""
    by_round = stats.group_by_round(cell.samples, cell.rounds)
    replicates = stats.bootstrap_rounds_median_replicates(
        by_round, cell_seed(settings, "median", *key), min(settings.iterations, LOCATION_ITERATIONS))
    low, high = stats.percentile_interval(replicates, settings.confidence)
    return Location(stats.median_of_round_medians(by_round), low, high)


@dataclasses.dataclass
class Analysis:
    """Everything compare found in its inputs; the reports and the plots render from it and
    compute nothing themselves."""
    mode: str                   # "run" (seal modes of one run), "files" (two runs) or "history"
    runs: list
    settings: Settings
    comparisons: list = dataclasses.field(default_factory=list)
    geomeans: list = dataclasses.field(default_factory=list)
    not_compared: list = dataclasses.field(default_factory=list)
    baseline: object = None     # history: the run the others are compared with
    rolling: int = None         # history: each run against the last `rolling` runs instead
    detection: object = None    # history: changepoints.Detection, when change points were sought
    histories: list = dataclasses.field(default_factory=list)  # history: changepoints.CellHistory per cell
    columns: list = dataclasses.field(default_factory=list)  # history: [(run, comparisons, not_compared)]
    locations: dict = dataclasses.field(default_factory=dict, repr=False)
    control_floors: dict = dataclasses.field(default_factory=dict)  # two runs: control_floors()

    def location(self, cell):
        """The cell's Location (analyse(..., locations=True))."""
        return self.locations[id(cell)]

    def time_comparisons(self):
        return [c for c in self.comparisons if c.metric == TIME]


def analyse(mode, runs, settings, base_seal="none", cand_seals=None, allow_unmatched=False,
            baseline=None, locations=False, detection=None):
    """The comparisons of runs (as results.select_runs gave them), with group geomeans or,
    for a history, each run against the baseline (a run, or rolling:N) and, given a
    changepoints.Detection, the change points of each cell; locations: also every measured
    cell's median with its CI (what the plots draw). A run of one seal mode has locations only."""
    analysis = Analysis(mode, runs, settings)
    if mode == "history":
        analysis.rolling = rolling_window(baseline)
        analysis.baseline = runs[0] if analysis.rolling else pick_baseline(runs, baseline)
        analysis.columns = compare_history(runs, analysis.baseline, settings, analysis.rolling)
        if detection is not None:
            analysis.detection = detection
            analysis.histories = changepoints.detect(runs, detection, settings.threshold,
                                                     settings.confidence, settings.seed)
        found = None
    elif mode == "files":
        found = compare_two_runs(runs[0], runs[1], settings, allow_unmatched)
    elif len(runs[0].seal_modes()) > 1 or not locations:  # one mode: refused, unless only located
        found = compare_run_modes(runs[0], settings, base_seal, cand_seals)
    else:
        found = None
    if found:
        analysis.comparisons, analysis.not_compared = found
        if mode == "files":
            analysis.control_floors = control_floors(analysis.comparisons)
            below_control_floor(analysis.comparisons, analysis.control_floors)
        analysis.geomeans = group_geomeans(analysis.comparisons, settings, analysis.control_floors)
    if locations:
        analysis.locations = {id(cell): cell_location(cell, settings, run.path, cell.describe())
                              for run in runs for cell in run.ok_cells()}
    return analysis
