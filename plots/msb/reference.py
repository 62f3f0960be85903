# SPDX-License-Identifier: GPL-2.0-only
"""Per-reference figures: every timed sample adjusted to one host speed, by its own probe.

The runner times a getppid(2) probe just before and just after each sample, outside its timed
region (reference_ns, the mean of the two). On a shared host that switches between speeds, a slow
period slows the probe and the sample together, but not every operation by as much: a kernel path
slows about as the probe does, a vDSO clock read that never enters the kernel hardly at all. So
each benchmark (with its parameters) gets its own slope b, fitted over the compared runs from how
its round medians move with their rounds' probes, within each cell (a run's mode): the log of a
round's median sample against the log of its median probe, each taken from the cell's mean, so a
difference between cells or runs, which is what a comparison looks for, never enters the fit.
The fitted slope is used only where the rounds tell it from the two simple cases: within two
standard errors of 1 it is 1 (the sample moves in proportion to the probe, the usual kernel path),
within two of 0 it is 0 (left as measured); otherwise it is clamped to [0, 2]. A sample s with
probe r becomes s * (P / r) ** b, P the median probe of all compared runs: the time "at the host
speed where a getppid call takes P ns". A benchmark with no cell of three rounds or more keeps
b = 0. Counters are left as they are."""
import dataclasses
import math

from . import results, stats
from .results import BadInput

REFERENCE_BENCHMARK = "harness.syscall.getppid"   # the probe's own operation: constant once scaled
SLOPE_RANGE = (0.0, 2.0)


@dataclasses.dataclass
class PerReference:
    runs: list          # new Run objects; the inputs are not changed
    p_ns: float         # the pooled median probe every sample is scaled to
    slopes: dict        # (benchmark, params text) -> b
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
    """[(log median probe, log median sample)] of each of the cell's rounds."""
    by_round = {}
    for sample, probe, rnd in zip(cell.samples, cell.reference, cell.rounds):
        by_round.setdefault(rnd, ([], []))
        by_round[rnd][0].append(probe)
        by_round[rnd][1].append(sample)
    return [(math.log(stats.median(p)), math.log(stats.median(s))) for p, s in by_round.values()]


def centred_rounds(runs):
    """(benchmark, params text) -> ([(x, y)] of every round of its cells, each cell centred on its
    own means; the number of cells)."""
    groups = {}
    for run in runs:
        for cell in run.ok_cells():
            points = round_logs(cell)
            if len(points) < 3:
                continue
            mx = sum(x for x, _ in points) / len(points)
            my = sum(y for _, y in points) / len(points)
            centred, cells = groups.get(group_key(cell), ([], 0))
            groups[group_key(cell)] = (centred + [(x - mx, y - my) for x, y in points], cells + 1)
    return groups


def slope(points, cells):
    """The least-squares slope of centred points, 1 or 0 when within two standard errors of it,
    else clamped to SLOPE_RANGE; 0 without variation in the probe."""
    sxx = sum(x * x for x, _ in points)
    freedom = len(points) - cells - 1
    if sxx <= 0 or freedom < 1:
        return 0.0
    b = sum(x * y for x, y in points) / sxx
    error = math.sqrt(sum((y - b * x) ** 2 for x, y in points) / freedom / sxx)
    for simple in (1.0, 0.0):
        if abs(b - simple) <= 2 * error:
            return simple
    return min(SLOPE_RANGE[1], max(SLOPE_RANGE[0], b))


def fitted_slopes(runs):
    """b of each benchmark and parameters (see the module's text)."""
    return {key: slope(points, cells) for key, (points, cells) in centred_rounds(runs).items()}


def scaled_cell(cell, p_ns, slopes):
    if cell.status != "ok" or not cell.samples:
        return cell
    b = slopes.get(group_key(cell), 0.0)
    return dataclasses.replace(cell, samples=[s * (p_ns / r) ** b for s, r in zip(cell.samples, cell.reference)])


def kernel_warnings(runs):
    releases = {kernel_release(r) for r in runs}
    if len(releases) < 2:
        return []
    shown = ", ".join(sorted(r or "unknown" for r in releases))
    return [f"per-reference figures of different kernels ({shown}) carry the reference's own change between "
            "them: a kernel that slows getppid(2) makes every other cell look faster; read the raw comparison too"]


def per_reference(runs):
    """The runs with every sample s of every ok cell scaled to s * (P / r) ** b (r its probe, P the
    median of every probe of every run, so all share one scale, b its benchmark's slope), the
    reference's own cells left out."""
    p_ns = stats.median(probes_of(runs))
    kept = [[c for c in run.cells if c.benchmark != REFERENCE_BENCHMARK] for run in runs]
    slopes = fitted_slopes(runs)
    scaled = [results.Run(run.path, run.label, run.date, run.partial, run.context,
                          [scaled_cell(c, p_ns, slopes) for c in cells])
              for run, cells in zip(runs, kept)]
    return PerReference(scaled, p_ns, slopes, [note_text(p_ns, slopes)], kernel_warnings(runs))


def note_text(p_ns, slopes):
    shown = [b for key, b in slopes.items() if key[0] != REFERENCE_BENCHMARK]
    counts = (f" (b = 1 for {sum(b == 1.0 for b in shown)}, 0 for {sum(b == 0.0 for b in shown)}, "
              f"fitted for {sum(b not in (0.0, 1.0) for b in shown)} of {len(shown)})") if shown else ""
    return (f"figures per reference: each sample s with getppid probe r scaled to s * (P / r) ** b, P = {p_ns:.1f} "
            f"ns (the median probe of these runs), b per benchmark from how its rounds move with their "
            f"probes{counts}; {REFERENCE_BENCHMARK} is the reference and not compared")



def summary(scaled):
    """For a json report: P and each benchmark's slope."""
    return {"p_ns": scaled.p_ns,
            "slopes": [{"benchmark": key[0], "params": key[1], "b": b} for key, b in sorted(scaled.slopes.items())]}
