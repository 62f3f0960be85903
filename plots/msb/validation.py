# SPDX-License-Identifier: GPL-2.0-only
"""validate.py's work: trials of the runner with injected slowdowns, compare's verdicts on
them tallied per family, and the report of false regressions, detection rates and targets."""
import math
import os
import shlex
import statistics
import subprocess
import sys
import time

from . import cli, comparison, reference, report, results, stats, tables
from .comparison import EQUIVALENT, IMPROVEMENT, REGRESSION, TIME

PROG = "validate"
DELAYS = (0.01, 0.02, 0.05)
# A few cells per family, so that a trial (four runs) takes about a minute at default
# settings; --filter '' takes every benchmark.
DEFAULT_FILTER = ("vdso.clock_gettime.monotonic,vdso.getcpu,harness.syscall,mremap.move,mremap.resize,"
                  "fork.vfork,exec.posix_spawn.static")
TARGET_FAMILIES = ("vdso", "mremap")
# Families where sealing the system mappings should cost nothing, so that sysmap against
# none is an A/A comparison. exec's sysmap cells include the child's own mseal at entry
# and fork copies sealed mappings: a regression there can be real.
COST_FREE_FAMILIES = ("vdso", "mremap", "harness", "munmap", "mprotect")
FALSE_REGRESSION_TARGET = 0.05
DETECTION_TARGETS = {0.05: 0.95, 0.02: 0.80}
ANSWERED_TARGET = 0.90      # share of cells with an answer: equivalent, regression or improvement
ANSWERS = (EQUIVALENT, REGRESSION, IMPROVEMENT)
RUN_TIMEOUT = 900


class RunnerError(Exception):
    """The runner could not be started or did not write a results file."""


# ------------------------------------------------------------------ running

def runner_command(default):
    """The runner: the command in $MSEALBENCH (split like a shell would), or default."""
    configured = os.environ.get("MSEALBENCH")
    command = shlex.split(configured) if configured else [default]
    if not command:
        raise RunnerError("MSEALBENCH is set but empty")
    return command


def run_arguments(args, out_path, seed, delay):
    """args: validate.py's options, args.runner the runner_command()."""
    extra = ["--inject-delay", f"{delay * 100:g}%:sysmap"] if delay else []
    options = ["--seal", "none,sysmap", "--out", out_path, "--quiet", "--seed", str(seed)] + extra
    if args.filter:
        options += ["--filter", args.filter]
    if args.quick:
        options.append("--quick")
    if args.repetitions:
        options += ["--repetitions", str(args.repetitions)]
    if args.min_time is not None:
        options += ["--min-time", f"{args.min_time:g}"]
    return args.runner + ["run"] + options


def start_runner(command):
    """cli.run_child with one retry: a runner being rebuilt is briefly not executable."""
    for attempt in (1, 2):
        try:
            return cli.run_child(command, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        except cli.Failure as e:
            problem = e
        except subprocess.TimeoutExpired:
            raise RunnerError(f"{shlex.join(command)}: still running after {RUN_TIMEOUT} s; stopped") from None
        if attempt == 1:
            time.sleep(3)
    raise RunnerError(f"{problem}; build it with `make`, or set MSEALBENCH")


def trial_path(work_dir, trial, delay):
    return os.path.join(work_dir, f"trial{trial}-delay{round(delay * 100)}.json")


def kept_trials(work_dir):
    """The trials an earlier --keep left in work_dir, in order; BadInput when there are fewer than
    two complete ones (the A/A runs need two)."""
    trials = []
    while all(os.path.isfile(trial_path(work_dir, len(trials), d)) for d in (0.0,) + DELAYS):
        trials.append({d: results.load_run(trial_path(work_dir, len(trials), d)) for d in (0.0,) + DELAYS})
    if len(trials) < 2:
        raise results.BadInput(f"{work_dir}: {len(trials)} complete trial(s) kept (trialN-delayD.json for D in 0, 1, "
                               "2, 5); validate --from needs two or more")
    return trials


def run_once(args, work_dir, trial, delay):
    out_path = trial_path(work_dir, trial, delay)
    command = run_arguments(args, out_path, args.seed + 10 * trial + round(delay * 100), delay)
    result = start_runner(command)
    # Status 1 means some cell failed: the others still count, failed cells are never compared.
    if result.returncode not in (0, 1) or not os.path.exists(out_path):
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise RunnerError(f"{shlex.join(command)}: exit {result.returncode}: {last}")
    return results.load_run(out_path)


def run_trial(args, work_dir, trial):
    return {delay: run_once(args, work_dir, trial, delay) for delay in (0.0,) + DELAYS}


def run_trials(args, work_dir):
    """Trials until the budget is spent (at least two) or exactly --trials."""
    trials, started = [], time.monotonic()
    while True:
        trial_start = time.monotonic()
        trials.append(run_trial(args, work_dir, len(trials)))
        spent = time.monotonic() - started
        per_trial = time.monotonic() - trial_start
        progress(f"trial {len(trials)}: 4 runs in {per_trial:.0f} s ({spent:.0f} s so far)")
        if args.trials:
            if len(trials) >= args.trials:
                return trials, spent
        elif len(trials) >= 2 and spent + per_trial > args.budget:
            return trials, spent


def progress(text):
    print(f"{PROG}: {text}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ tallying

class Tally:
    """Per family and column: how many comparisons, how many regression verdicts."""

    def __init__(self):
        self.counts = {}
        self.half_widths = {}
        self.answered = {}
        self.mde_targets = {}   # family -> the runner's precision target (results options)

    def add(self, column, comparisons):
        for c in comparisons:
            if c.metric != TIME:
                continue
            found, total = self.counts.get((c.family, column), (0, 0))
            self.counts[(c.family, column)] = (found + (c.verdict == REGRESSION), total + 1)
            if column == "aa_modes":
                if math.isfinite(c.ci_high):
                    self.half_widths.setdefault(c.family, []).append(c.ci_high - c.ratio)
                answered, cells = self.answered.get(c.family, (0, 0))
                self.answered[c.family] = (answered + (c.verdict in ANSWERS), cells + 1)

    def answered_rate(self, family=None):
        pairs = [v for f, v in self.answered.items() if family is None or f == family]
        answered, cells = sum(a for a, _ in pairs), sum(n for _, n in pairs)
        return (answered / cells if cells else None), answered, cells

    def rate(self, family, column):
        found, total = self.counts.get((family, column), (0, 0))
        return (found / total if total else None), found, total

    def families(self):
        return sorted({family for family, _ in self.counts})


def modes_comparisons(run, settings):
    pairs, _ = comparison.pairs_within_run(run, "none", ["sysmap"])
    comparisons, _ = comparison.compare_pairs(pairs, settings, lambda b, c: (b.seal, c.seal), paired=True)
    return comparisons


def runs_comparisons(base_run, cand_run, settings):
    for run in (base_run, cand_run):
        run.cells = [c for c in run.cells if c.seal == "none"]
    pairs, _ = comparison.pairs_between_runs(base_run, cand_run, allow_unmatched=True)
    comparisons, _ = comparison.compare_pairs(pairs, settings, lambda b, c: ("A", "B"), paired=False)
    # As compare says it for two runs: no larger than the controls moved is not attributable.
    comparison.below_control_floor(comparisons, comparison.control_floors(comparisons))
    return comparisons


def as_measured(runs):
    return runs


def per_comparison(runs):
    """The runs of one comparison as compare --per-reference scales them: P and the slopes fitted
    over these runs only."""
    return reference.per_reference(runs).runs


def tally_trials(trials, settings, scale=as_measured):
    """scale: what each comparison's runs go through first (a list of one run, or of two)."""
    tally = Tally()
    for runs in trials:
        options = runs[0.0].context.get("options") or {}
        tally.mde_targets.update(options.get("precision_targets") or {})
    for index, runs in enumerate(trials):
        tally.add("aa_modes", modes_comparisons(scale([runs[0.0]])[0], settings))
        for delay in DELAYS:
            tally.add(delay, modes_comparisons(scale([runs[delay]])[0], settings))
        if index:
            previous, current = scale([_copy_run(trials[index - 1][0.0]), _copy_run(runs[0.0])])
            tally.add("aa_runs", runs_comparisons(previous, current, settings))
    return tally


def views(trials):
    """[(name, scale for tally_trials, reference.PerReference of the plain runs or None)]: raw and,
    when every run recorded reference probes, per reference, each comparison scaled over its own
    runs as compare does; the plain runs scaled together for the variance table and the heading."""
    found = [("raw", as_measured, None)]
    runs = [run for by_delay in trials for run in by_delay.values()]
    measured = all(any(c.benchmark != reference.REFERENCE_BENCHMARK for c in run.ok_cells()) for run in runs)
    if measured and reference.without_probes(runs) is None:
        found.append(("per reference", per_comparison, reference.per_reference([t[0.0] for t in trials])))
    return found


def tally_views(trials, settings):
    """[(name, Tally, PerReference of the plain runs or None)] of views(trials): the same runs
    tallied each way."""
    return [(name, tally_trials(trials, settings, scale), plain) for name, scale, plain in views(trials)]


def _copy_run(run):
    return results.Run(run.path, run.label, run.date, run.partial, run.context, list(run.cells))


def minimum_detectable_effect(half_widths, settings, power=0.8):
    """The slowdown that clears the CI 80% of the time: the typical upper CI half-width
    scaled from the CI's z to z + z(power), and never below the threshold."""
    if not half_widths:
        return None
    normal = statistics.NormalDist()
    z_ci = normal.inv_cdf(0.5 + settings.confidence / 2)
    return max(settings.threshold, stats.median(half_widths) * (z_ci + normal.inv_cdf(power)) / z_ci)


# ------------------------------------------------------------------ where the noise comes from

def variance_sources(plain_runs):
    """Per family, from the plain runs' time samples, on a log scale (so spreads are relative):
    (within a process: one sample's spread inside a round; what that leaves in a round's median
    (spread / sqrt(samples) * 1.25); between processes: the spread of a cell's round medians;
    between runs: the spread of a cell's location over the runs), each the median over cells.
    Rounds buy down the second and third only to the extent the between-process part dominates;
    nothing within a run buys down the last."""
    within, in_median, between, locations = {}, {}, {}, {}
    for run in plain_runs:
        for cell in run.cells:
            if cell.status != "ok" or not cell.samples:
                continue
            by_round = stats.group_by_round([math.log(v) for v in cell.samples if v > 0], cell.rounds)
            rounds = [v for v in by_round.values() if len(v) >= 3]
            if len(rounds) < 3:
                continue
            spread = stats.median([stats.robust_spread(v) for v in rounds])
            within.setdefault(cell.family, []).append(spread)
            in_median.setdefault(cell.family, []).append(
                spread * 1.25 / math.sqrt(stats.median([len(v) for v in rounds])))
            medians = stats.round_medians(by_round)
            between.setdefault(cell.family, []).append(stats.robust_spread(medians))
            key = (cell.benchmark, results.params_text(cell.params), cell.seal)
            locations.setdefault(cell.family, {}).setdefault(key, []).append(stats.median(medians))
    table = {}
    for family in within:
        over_runs = [stats.robust_spread(v) for v in locations[family].values() if len(v) >= 3]
        over_runs += [abs(v[0] - v[1]) / math.sqrt(2) for v in locations[family].values() if len(v) == 2]
        table[family] = (stats.median(within[family]), stats.median(in_median[family]),
                         stats.median(between[family]), stats.median(over_runs) if over_runs else None)
    return table


def variance_rows(plain_runs):
    def pct(x):
        return "-" if x is None else f"{math.expm1(x):.2%}"
    header = ["family", "one sample", "its share of a round median", "between processes (rounds)", "between runs"]
    return header, [[family] + [pct(x) for x in row] for family, row in sorted(variance_sources(plain_runs).items())]


# ------------------------------------------------------------------ report

def rate_text(rate, found, total):
    return "-" if rate is None else f"{found}/{total} ({rate:.0%})"


def report_rows(tally, settings):
    header = (["family", "A/A modes", "A/A runs"] + [f"{d:.0%} found" for d in DELAYS]
              + ["MDE (80%)", "MDE target", "answered"])
    rows = []
    for family in tally.families():
        mde = minimum_detectable_effect(tally.half_widths.get(family, []), settings)
        target = tally.mde_targets.get(family)
        rows.append([family, rate_text(*tally.rate(family, "aa_modes")), rate_text(*tally.rate(family, "aa_runs"))]
                    + [rate_text(*tally.rate(family, d)) for d in DELAYS]
                    + ["-" if mde is None else f"{mde:.1%}", "-" if target is None else f"<={target:.0%}",
                       rate_text(*tally.answered_rate(family))])
    rows.append(["target", f"<={FALSE_REGRESSION_TARGET:.0%}", f"<={FALSE_REGRESSION_TARGET:.0%}"]
                + [f">={DETECTION_TARGETS[d]:.0%}" if d in DETECTION_TARGETS else "" for d in DELAYS]
                + ["", "", f">={ANSWERED_TARGET:.0%} in all"])
    return header, rows


def not_run_lines(trials):
    """Cells that were skipped or failed: they are left out of every rate."""
    missing = [(run.path, cell) for runs in trials for run in runs.values()
               for cell in run.cells if cell.status != "ok"]
    if not missing:
        return []
    path, cell = missing[0]
    return [f"{len(missing)} cells did not run and are left out, e.g. {cell.describe()} in "
            f"{os.path.basename(path)}: {cell.status}: {cell.reason}"]


def check_targets(tally, settings):
    """[(text, met)] for the stated targets, on the families they name (and every
    family for false regressions)."""
    checks = []
    for family in tally.families():
        for column, name in (("aa_modes", "A/A modes"), ("aa_runs", "A/A runs")):
            rate, found, total = tally.rate(family, column)
            if column == "aa_modes" and family not in COST_FREE_FAMILIES:
                continue
            if rate is not None:
                checks.append((f"{family}: false regressions ({name}) {rate:.1%} <= "
                               f"{FALSE_REGRESSION_TARGET:.0%}", rate <= FALSE_REGRESSION_TARGET))
    for family in TARGET_FAMILIES:
        for delay, wanted in DETECTION_TARGETS.items():
            rate, found, total = tally.rate(family, delay)
            if rate is None:
                checks.append((f"{family}: no cells ran, {delay:.0%} detection not checked", None))
            else:
                checks.append((f"{family}: {delay:.0%} slowdown found {rate:.1%} >= {wanted:.0%}", rate >= wanted))
    for family in tally.families():
        target = tally.mde_targets.get(family)
        mde = minimum_detectable_effect(tally.half_widths.get(family, []), settings)
        if target is not None and mde is not None:
            checks.append((f"{family}: minimum detectable effect {mde:.1%} <= {target:.0%}", mde <= target + 1e-9))
    rate, answered, cells = tally.answered_rate()
    if rate is not None:
        checks.append((f"cells answered (equivalent, regression or improvement) {answered}/{cells} "
                       f"{rate:.1%} >= {ANSWERED_TARGET:.0%}", rate >= ANSWERED_TARGET))
    return checks


def view_heading(name, scaled):
    if scaled is None:
        return f"{name}: the figures as measured"
    return (f"{name}: each comparison scaled as compare --per-reference scales it, P and slopes fitted over its "
            f"own runs (one run for the modes, two for A/A runs); over the plain runs together (the variance table "
            f"below): {scaled.notes[0]}")


def targets_line(name, checks):
    """One line: how the view fares on the targets check_targets states."""
    tested = [(text, met) for text, met in checks if met is not None]
    missed = [text for text, met in tested if not met]
    return (f"{name}: {len(tested) - len(missed)} of {len(tested)} targets met"
            + (f"; missed: {'; '.join(missed)}" if missed else ""))


def validation_report(tallies, settings, trials, spent, args):
    """(tables.Report, whether every target tested was met): tallies as tally_views gives them;
    the targets are those of the first (raw), the others get a table and a line each."""
    views = [(name, *report_rows(tally, settings), check_targets(tally, settings), plain)
             for name, tally, plain in tallies]
    (_, header, rows, checks, _), others = views[0], views[1:]
    kept = getattr(args, "kept", None)
    blocks = [tables.line(f"msealbench validate: {len(trials)} trials x 4 runs (plain; 1%, 2%, 5% delay in sysmap) "
                          + (f"in {spent:.0f} s" if not kept else "tallied from the files kept in "),
                          *([tables.Literal(kept)] if kept else []),
                          f"; runner options: {'--quick ' if args.quick else ''}--filter ",
                          tables.Literal(args.filter or "(all)")),
              tables.line(report.settings_line(settings)), tables.blank()]
    for name, view_header, view_rows, _, plain in views:
        if others:
            blocks.append(tables.line(view_heading(name, plain)))
        blocks += [tables.Table(view_header, view_rows), tables.blank()]
    blocks += [tables.line("cells: share of cell comparisons with a regression verdict; A/A should be low, found high."),
               tables.line("A/A runs counts what compare says of two runs: a change no larger than the control cells "
                           "moved is not attributable, not a regression."),
               tables.line("MDE target: the runner's precision target for the family (run's options); answered: A/A "
                           "modes cells that got equivalent, regression or improvement."),
               tables.line(f"A/A modes is a true A/A only where sealing costs nothing ({', '.join(COST_FREE_FAMILIES)}); "
                           "elsewhere it may show a real cost and is not held to the target.")]
    blocks += [tables.line(tables.Literal(text)) for text in not_run_lines(trials)]
    noise = [variance_rows([runs[0.0] for runs in trials])] + [variance_rows(plain.runs) for *_, plain in others]
    blocks += [tables.blank(), tables.line("Where the variance comes from (plain runs; robust spreads, median over cells):"),
               tables.Table(*noise[0])]
    for (name, *_), table in zip(others, noise[1:]):
        blocks += [tables.line(f"{name}:"), tables.Table(*table)]
    blocks += [tables.line("More rounds narrow what the spread between processes leaves; a longer --min-time only "
                           "the within-process share; nothing within a run narrows the spread between runs.")]
    # met is None for a target nothing tested: said as such, and not a miss.
    blocks += [tables.blank()] + [tables.line(f"{'n/a   ' if met is None else 'met   ' if met else 'MISSED'}  {text}")
                                  for text, met in checks]
    blocks += [tables.line(targets_line(name, view_checks)) for name, _, _, view_checks, _ in others]
    met = all(met is not False for _, met in checks)
    per_reference = [{"view": name, **reference.summary(plain), "header": view_header, "rows": view_rows,
                      "checks": [{"check": text, "met": m} for text, m in view_checks],
                      "targets_met": all(m is not False for _, m in view_checks),
                      "variance_sources": dict(zip(("header", "rows"), table))}
                     for (name, view_header, view_rows, view_checks, plain), table in zip(others, noise[1:])]
    data = {"schema": "msealbench-validate", "schema_version": 1, "trials": len(trials), "seconds": spent,
            "settings": vars(settings), "header": header, "rows": rows,
            "checks": [{"check": text, "met": met} for text, met in checks], "targets_met": met,
            "variance_sources": dict(zip(("header", "rows"), noise[0])),
            "per_reference": per_reference[0] if per_reference else None}
    return tables.Report(blocks, data), met
