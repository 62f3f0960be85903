# SPDX-License-Identifier: GPL-2.0-only
"""Per-reference figures: every timed sample scaled by the host's speed right around it.

The runner times one getppid(2) call just before and just after each sample, outside its timed
region (reference_ns, the mean of the two). On a shared host that switches between speeds, a
sample divided by its own probe keeps the kernel's work and loses most of the host's mood; times
P, the median probe of all runs compared, it reads in ns again: "at the host speed where a
getppid call takes P ns". Counters are left as they are."""
import dataclasses

from . import results, stats
from .results import BadInput

REFERENCE_BENCHMARK = "harness.syscall.getppid"   # the probe's own operation: constant once scaled


@dataclasses.dataclass
class PerReference:
    runs: list          # new Run objects; the inputs are not changed
    p_ns: float         # the pooled median probe every sample is scaled to
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


def scaled_cell(cell, p_ns):
    if cell.status != "ok" or not cell.samples:
        return cell
    return dataclasses.replace(cell, samples=[s * p_ns / r for s, r in zip(cell.samples, cell.reference)])


def kernel_warnings(runs):
    releases = {kernel_release(r) for r in runs}
    if len(releases) < 2:
        return []
    shown = ", ".join(sorted(r or "unknown" for r in releases))
    return [f"per-reference figures of different kernels ({shown}) carry the reference's own change between "
            "them: a kernel that slows getppid(2) makes every other cell look faster; read the raw comparison too"]


def per_reference(runs):
    """The runs with every sample s of every ok cell scaled to s * P / r (r its probe, P the median
    of every probe of every run, so all share one scale), the reference's own cells left out."""
    p_ns = stats.median(probes_of(runs))
    scaled = [results.Run(run.path, run.label, run.date, run.partial, run.context,
                          [scaled_cell(c, p_ns) for c in run.cells if c.benchmark != REFERENCE_BENCHMARK])
              for run in runs]
    note = (f"figures per reference: each sample scaled by P / its getppid probe (P = {p_ns:.1f} ns, the median "
            f"probe of these runs); {REFERENCE_BENCHMARK} is the reference and not compared")
    return PerReference(scaled, p_ns, [note], kernel_warnings(runs))

