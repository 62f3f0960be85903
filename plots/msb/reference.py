# SPDX-License-Identifier: GPL-2.0-only
"""Per-reference figures: every timed sample adjusted to one host speed, by its own probe.

The runner times a getppid(2) probe just before and just after each sample, outside its timed
region (reference_ns, the mean of the two). On a shared host that switches between speeds, a slow
period slows the probe and the sample together, but not every operation by as much: a kernel path
slows about as the probe does, a vDSO clock read that never enters the kernel much less, fork of
a large process more. So each benchmark (with its parameters) gets its own slope b, fitted over
the compared runs from how its round medians move with their rounds' probes, within each cell (a
run's mode): the log of a round's median sample against the log of its median probe, each taken
from the cell's mean, so a difference between cells or runs, which is what a comparison looks
for, never enters the fit. A probe is itself noisy, and least squares on a noisy x would pull b
toward 0; so b is an instrumental-variable slope: the median probe of a round's odd samples
instruments that of its even samples (the host's speed is common to both, their noise is not).
The fitted slope is used only where it stands clear of the two simple cases: within two standard
errors or SNAP_MARGIN of 1 it is 1 (the sample moves in proportion to the probe; 1 also wins a
tie, and when the runs' rounds hardly differ in host speed the error is large and b is 1), within
as much of 0 it is 0 (left as measured); otherwise it is clamped to [0, 2]. b's own error is not
in compare's interval: where the compared runs' typical probes differ by a factor d, an error e in
b moves their ratio by about d ** e (0.1 in b and runs 12% apart in host speed: 1.1%), which the
margin keeps to the benchmarks whose slope is clearly not 1. A sample s with probe r becomes
s * (P / r) ** b, P the median probe of all compared runs: the time "at the host speed where a
getppid call takes P ns". Rounds of fewer than 4 samples do not count; a benchmark with no cell of
three such rounds keeps b = 1 and is named in a warning. Counters are left as they are.

b and P come from the runs given: comparing other runs (a longer history) can change them, and
so every per-reference figure; the raw figures never change."""
import dataclasses
import math

from . import results, stats
from .results import BadInput

REFERENCE_BENCHMARK = "harness.syscall.getppid"   # the probe's own operation: constant once scaled
SLOPE_RANGE = (0.0, 2.0)
MIN_ROUND_SAMPLES = 4   # a round's odd and even halves need two samples each
MIN_ROUNDS = 3
SNAP_MARGIN = 0.25      # slopes this close to 1 (or 0) are taken as 1 (or 0)


@dataclasses.dataclass
class PerReference:
    runs: list          # new Run objects; the inputs are not changed
    p_ns: float         # the pooled median probe every sample is scaled to
    slopes: dict        # (benchmark, params text) -> b, None when too few rounds to fit (scaled with 1)
    notes: list         # what the figures are, in words (for the report)
    warnings: list      # for stderr and the report's warnings


def kernel_release(run):
    kernel = run.context.get("kernel") if isinstance(run.context, dict) else None
    release = kernel.get("release") if isinstance(kernel, dict) else None
    return release if isinstance(release, str) and release else None


def without_probes(runs):
    """(run, cell) of the first ok cell without reference_ns, or None when every one has them."""
    return next(((run, cell) for run in runs for cell in run.ok_cells() if cell.reference is None), None)


def probes_of(runs):
    """Every reference_ns value of every ok cell; BadInput naming the first run and cell without."""
    missing = without_probes(runs)
    if missing:
        raise BadInput(f"{missing[0].path}: cell {missing[1].describe()} has no reference probes (written before "
                       "msealbench recorded them, or run with --reference none); compare without --per-reference")
    probes = [probe for run in runs for cell in run.ok_cells() for probe in cell.reference]
    if not probes:
        raise BadInput(f"{runs[0].path}: no measured cells, so no reference probes to scale by")
    return probes


def group_key(cell):
    return (cell.benchmark, cell.params_text)


def round_logs(cell):
    """[(x, y, odd, even)] of each of the cell's rounds of MIN_ROUND_SAMPLES or more, all logs: the
    median probe, the median sample, the median probe of the round's odd and of its even samples."""
    probes = stats.group_by_round(cell.reference, cell.rounds)
    samples = stats.group_by_round(cell.samples, cell.rounds)
    return [tuple(math.log(stats.median(v)) for v in (probes[rnd], samples[rnd], probes[rnd][0::2], probes[rnd][1::2]))
            for rnd in sorted(probes) if len(probes[rnd]) >= MIN_ROUND_SAMPLES]


def centred_rounds(cells):
    """(benchmark, params text) -> ([(x, y, odd, even)] of every round of its cells, each cell
    centred on its own means; the number of cells). A benchmark without a cell of MIN_ROUNDS
    rounds maps to ([], 0)."""
    groups = {}
    for cell in cells:
        points = round_logs(cell)
        centred, count = groups.setdefault(group_key(cell), ([], 0))
        if len(points) < MIN_ROUNDS:
            continue
        means = [stats.mean([p[i] for p in points]) for i in range(4)]
        groups[group_key(cell)] = (centred + [tuple(v - m for v, m in zip(p, means)) for p in points], count + 1)
    return groups


def slope(points, cells):
    """b from centred (x, y, odd, even) points (the module's text): the odd half instruments the
    even one; 1 or 0 when within two standard errors or SNAP_MARGIN of it (1 first), else clamped to
    SLOPE_RANGE; None when there are too few points to fit."""
    freedom = len(points) - cells - 1
    cross = sum(odd * even for _, _, odd, even in points)
    if freedom < 1:
        return None
    if cross <= 0:  # the halves do not move together: no host speed to follow, error unbounded
        return 1.0
    b = sum(odd * y for _, y, odd, _ in points) / cross
    spread = math.sqrt(sum((y - b * x) ** 2 for x, y, _, _ in points) / freedom)
    error = spread * math.sqrt(sum(odd * odd for _, _, odd, _ in points)) / cross
    for simple in (1.0, 0.0):
        if abs(b - simple) <= max(2 * error, SNAP_MARGIN):
            return simple
    return min(SLOPE_RANGE[1], max(SLOPE_RANGE[0], b))


def fitted_slopes(cells):
    """{(benchmark, params text): b} of the measured cells given (see the module's text); None for
    a benchmark too short of rounds to fit, which is then scaled with b = 1."""
    return {key: slope(points, count) for key, (points, count) in centred_rounds(cells).items()}


def scaled_cell(cell, p_ns, slopes):
    if cell.status != "ok" or not cell.samples:
        return cell
    b = slopes.get(group_key(cell))
    b = 1.0 if b is None else b
    return dataclasses.replace(cell, samples=[s * (p_ns / r) ** b for s, r in zip(cell.samples, cell.reference)])


def kernel_warnings(runs):
    releases = {kernel_release(r) for r in runs}
    if len(releases) < 2:
        return []
    shown = ", ".join(sorted(r or "unknown" for r in releases))
    return [f"per-reference figures of different kernels ({shown}) carry the reference's own change between "
            "them: a kernel that slows getppid(2) makes every other cell look faster; read the raw comparison too"]


TWO_RUNS_WARNING = (
    "per reference, two runs: the intervals count the rounds of each run, not what differs between runs beyond "
    "the host speed the probe follows (validate's per-reference 'between runs' column measures it on this machine; "
    "README, \"How a run measures\", has a run where it made exec comparisons false regressions); confirm a verdict "
    "with a third run or a --history")


def per_reference(runs, two_runs=False):
    """The runs with every sample s of every ok cell scaled to s * (P / r) ** b (r its probe, P the
    median of every probe of every run, so all share one scale, b its benchmark's slope), the
    reference's own cells left out; two_runs: a comparison of two files, which gets a warning."""
    p_ns = stats.median(probes_of(runs))
    kept = [[c for c in run.cells if c.benchmark != REFERENCE_BENCHMARK] for run in runs]
    for run, cells in zip(runs, kept):
        if not any(c.status == "ok" and c.samples for c in cells):
            raise BadInput(f"{run.path}: no measured cell but {REFERENCE_BENCHMARK}, the reference itself, which is "
                           "not compared per reference; compare without --per-reference")
    slopes = fitted_slopes(c for cells in kept for c in cells if c.status == "ok" and c.samples)
    scaled = [results.Run(run.path, run.label, run.date, run.partial, run.context,
                          [scaled_cell(c, p_ns, slopes) for c in cells])
              for run, cells in zip(runs, kept)]
    return PerReference(scaled, p_ns, slopes, [note_text(p_ns, slopes)],
                        kernel_warnings(runs) + unfitted_warnings(slopes) + ([TWO_RUNS_WARNING] if two_runs else []))


def note_text(p_ns, slopes):
    used = list(slopes.values())
    counts = (f" (b = 1 for {sum(b == 1.0 for b in used)}, 0 for {sum(b == 0.0 for b in used)}, "
              f"fitted for {sum(b not in (0.0, 1.0, None) for b in used)}, too few rounds to fit (b = 1) for "
              f"{sum(b is None for b in used)}, of {len(used)})") if used else ""
    return (f"figures per reference: each sample s with getppid probe r scaled to s * (P / r) ** b, P = {p_ns:.1f} "
            f"ns (the median probe of these runs), b per benchmark from how its rounds move with their "
            f"probes{counts}; {REFERENCE_BENCHMARK} is the reference and not compared")


def unfitted_warnings(slopes):
    short = sorted(f"{key[0]} [{key[1]}]" for key, b in slopes.items() if b is None)
    if not short:
        return []
    return [f"per reference: {len(short)} benchmark(s) have no cell of {MIN_ROUNDS} rounds of {MIN_ROUND_SAMPLES} "
            f"samples or more, so their slope was not fitted and b = 1 was used (e.g. {short[0]}); more "
            "--repetitions fit it"]


def summary(scaled):
    """For a json report: P and each benchmark's slope."""
    return {"p_ns": scaled.p_ns,
            "slopes": [{"benchmark": key[0], "params": key[1], "b": 1.0 if b is None else b, "fitted": b is not None}
                       for key, b in sorted(scaled.slopes.items())]}
