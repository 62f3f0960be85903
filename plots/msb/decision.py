# SPDX-License-Identifier: GPL-2.0-only
"""`msealbench report`: the decision on CONFIG_MSEAL_SYSTEM_MAPPINGS on one page, as a tables.Report
that the markdown and html renderers write. It states the verdicts comparison.analyse() reached
(group geomeans with their CIs) and computes no statistic of its own; the rest is facts read from
the inputs (runs, a kernel A/B directory, a probe, a history, real-program checks), from this
system (kernel configuration, package database) and from data/affected-software.json."""
import dataclasses
import math
import os

from . import affected, comparison, inputs, results
from .comparison import REGRESSION, UNDECIDABLE
from .tables import Heading, Items, Link, Literal, Report, Table, blank, line

KCONFIG = Link("https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/security/Kconfig")
MSEAL_DOC = Link("https://docs.kernel.org/userspace-api/mseal.html")
CR_KCONFIG = Link("https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/init/Kconfig")
# What CONFIG_CHECKPOINT_RESTORE adds (init/Kconfig and the code under it), so what a kernel built
# with CONFIG_MSEAL_SYSTEM_MAPPINGS (depends on !CHECKPOINT_RESTORE) goes without.
CHECKPOINT_RESTORE_PROVIDES = (
    "prctl(PR_SET_MM, PR_SET_MM_MAP): setting a restored process's code, data, heap, stack and auxv layout",
    "/proc/PID/map_files/ (open a mapping's file) and /proc/PID/timers",
    "/proc/PID/task/TID/children (CONFIG_PROC_CHILDREN, selected by it)",
    "kcmp(2) (CONFIG_KCMP, selected by it; another option, such as DRM, may select it too)",
    "soft-dirty page tracking in /proc/PID/pagemap (CONFIG_MEM_SOFT_DIRTY depends on it)",
    "writing kernel.ns_last_pid (restoring processes with their old PIDs)",
)


@dataclasses.dataclass
class Sources:
    """What the report was given and found; None or empty where an input was not given."""
    settings: object
    run: object = None                  # results.Run with seal modes
    run_analysis: object = None
    ab: object = None                   # inputs.KernelAB
    ab_analyses: list = dataclasses.field(default_factory=list)   # [(candidate Run, Analysis)]
    probe: object = None                # inputs.Probe given on the command line
    history: object = None              # Analysis of mode "history"
    checks: list = dataclasses.field(default_factory=list)        # [inputs.Checks]
    software: list = dataclasses.field(default_factory=list)      # [affected.Software]
    databases: list = dataclasses.field(default_factory=list)
    software_path: str = ""
    system: dict = dataclasses.field(default_factory=dict)        # release, config source, options, sealed
    pictures: list = dataclasses.field(default_factory=list)      # [Picture]
    figure_note: str = ""
    warnings: list = dataclasses.field(default_factory=list)


# ------------------------------------------------------------------ formatting

def percent(ratio):
    return "-" if ratio is None or not math.isfinite(ratio) else f"{(ratio - 1) * 100:+.1f}%"


def interval(c):
    if c.verdict == UNDECIDABLE:
        return "no CI"
    return f"[{percent(c.ci_low)}, {percent(c.ci_high)}]"


def verdict_words(c):
    return f"{c.verdict} ({c.why})" if c.why else c.verdict


def geomean_rows(analysis, label=None):
    """One row per group geomean, section (baseline -> candidate) by section."""
    order = list(dict.fromkeys((g.base_name, g.cand_name) for g in analysis.geomeans))
    rows = []
    for g in sorted(analysis.geomeans, key=lambda g: order.index((g.base_name, g.cand_name))):
        rows.append(([label] if label else []) + [f"{g.base_name} -> {g.cand_name}", g.group, percent(g.ratio),
                                                  interval(g), verdict_words(g), g.note])
    return rows


def counts_line(geomeans):
    """How many groups got which verdict, the regressions and improvements named."""
    counts = comparison.count_verdicts(geomeans)
    parts = [f"{len(geomeans)} group verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)]
    for g in geomeans:
        if g.significant:
            parts += ["; ", Literal(g.group), " (", Literal(f"{g.base_name} -> {g.cand_name}"),
                      f"): {g.verdict} {percent(g.ratio)} {interval(g)}"]
    return line(*parts)


def margin_text(settings):
    return (f"equivalent = the whole {settings.confidence:.0%} CI inside +-{settings.margin * 100:g}% "
            f"(the equivalence margin); change = median with sealing against without, + is slower; "
            f"regression or improvement = CI clear of 0 and at least {settings.threshold * 100:g}%")


def config_value(options, name):
    value = (options or {}).get(name)
    return value if isinstance(value, str) and value else "unknown"


# ------------------------------------------------------------------ sections

def verdict_section(s):
    blocks = [Heading(2, ("Verdict",), "verdict"), line(margin_text(s.settings)), blank(),
              Heading(3, ("Kernel sealing at exec (CONFIG_MSEAL_SYSTEM_MAPPINGS=y against =n, kernel A/B)",))]
    rows = [r for cand, analysis in s.ab_analyses for r in geomean_rows(analysis)]
    if rows:
        blocks += [counts_line([g for _, analysis in s.ab_analyses for g in analysis.geomeans]),
                   Table(["kernels", "group", "change", "CI", "verdict", "cells"], rows)]
        for cand, analysis in s.ab_analyses:
            for (base_name, cand_name), (floor, count) in analysis.control_floors.items():
                blocks.append(line("controls moved up to ", f"{floor * 100:.1f}%", " between ", Literal(base_name),
                                   " and ", Literal(cand_name), f" ({count} control cells): a smaller change is "
                                   "not attributable to the option"))
    else:
        blocks.append(line("not measured: no kernel A/B directory given (msealbench vm --kernel plain=IMAGE "
                           "--kernel sealed=IMAGE, then --ab DIR)"))
    blocks += [blank(), Heading(3, ("Userspace sealing (seal modes of one run: sysmap as the option seals, "
                                    "all: every mapping)",))]
    if s.run_analysis is not None and s.run_analysis.geomeans:
        blocks += [counts_line(s.run_analysis.geomeans),
                   Table(["modes", "group", "change", "CI", "verdict", "cells"], geomean_rows(s.run_analysis))]
    elif s.run is not None and len(s.run.seal_modes()) < 2:
        blocks.append(line("not measured: ", Literal(s.run.path), " holds one seal mode (run with --seal none,sysmap,all)"))
    elif s.run is not None:
        blocks.append(line("not measured: no cell of ", Literal(s.run.path), " could be compared (see the run's "
                           "skipped and failed cells)"))
    else:
        blocks.append(line("not measured: no run given (msealbench run --seal none,sysmap,all, then --run FILE)"))
    if s.history is not None:
        blocks += [blank(), Heading(3, ("Trend (history)",))] + history_lines(s.history)
    blocks += [blank(), Heading(3, ("What the option costs besides time",)), Items(cost_items(s))]
    return blocks


def history_lines(analysis):
    latest, _, _ = analysis.columns[-1]
    regressions = [c for c in analysis.columns[-1][1] if c.verdict == REGRESSION]
    out = [line(f"{len(analysis.columns)} runs, each against ", Literal(analysis.baseline.label),
                "; the latest, ", Literal(latest.label), f", has {len(regressions)} regression(s)")]
    if regressions:
        out.append(Items([(Literal(c.benchmark), " ", Literal(results.params_text(c.params)), " ",
                           Literal(c.cand_name), f": {percent(c.ratio)} {interval(c)}") for c in regressions]))
    return out


def denied_vdso_operations(s):
    probe = matrix_probe(s)
    if probe is None:
        return None
    return [r for r in probe.rows if r.get("key", "").startswith("vdso.") and r.get("sealed") == "denied"]


def cost_items(s):
    items = [("It cannot be built with CONFIG_CHECKPOINT_RESTORE (it depends on !CHECKPOINT_RESTORE): CRIU and "
              "everything that checkpoints through it stops working; see What the option disables below.",)]
    denied = denied_vdso_operations(s)
    if denied is None:
        items.append(("Which operations a sealed vDSO refuses: not known without a probe.",))
    else:
        names = ", ".join(r["key"].split(".", 1)[1] for r in denied)
        items.append((f"A sealed vDSO refuses {len(denied)} operations the probe tried: ", Literal(names),
                      " (EPERM): moving it as CRIU's restore does, unmapping it, changing its protection as rr does to patch it."))
    installed = [sw for sw in s.software if sw.installed]
    if not s.databases:
        items.append(("Installed software it would affect: unknown (no dpkg-query or rpm here).",))
    else:
        known = [sw.name for sw in installed if sw.status == "known"]
        suspected = [sw.name for sw in installed if sw.status == "suspected"]
        items.append((f"Installed here: {len(known)} known to break (", Literal(", ".join(known) or "none"),
                      f"), {len(suspected)} suspected (", Literal(", ".join(suspected) or "none"), ")."))
    return items


def inputs_section(s):
    given, missing = [], []
    if s.run:
        given.append(("run ", Literal(s.run.path), ": userspace sealing cost (seal modes ",
                      Literal(", ".join(s.run.seal_modes())), "), the machine and kernel it ran on"))
    else:
        missing.append(("run (--run FILE of msealbench run --seal none,sysmap,all): the cost of sealing "
                        "in userspace",))
    if s.ab:
        labels = ", ".join(r.label for r in s.ab.candidates)
        given.append(("kernel A/B ", Literal(s.ab.directory), ": the kernel's cost of sealing at exec, baseline ",
                      Literal(s.ab.baseline.label), " against ", Literal(labels), ", each kernel's config and probe"))
    else:
        missing.append(("kernel A/B (--ab DIR of msealbench vm): the cost of the option itself, measured on "
                        "kernels built with and without it",))
    if s.probe:
        given.append(("probe ", Literal(s.probe.path), f" ({s.probe.form}): the compatibility matrix"))
    else:
        missing.append(("probe (--probe FILE: msealbench probe --json or its TAP output): "
                        + ("the matrix comes from the A/B kernels' probes" if matrix_probe(s) else
                           "the matrix comes from the run's context, without errnos" if run_probe(s) else
                           "no compatibility matrix"),))
    if s.history:
        given.append(("history of ", f"{len(s.history.runs)} runs: the trend and the latest run's regressions"))
    else:
        missing.append(("history (--history DIR): the trend across kernels or commits",))
    for checks in s.checks:
        given.append(("real-program checks ", Literal(checks.path), f": {len(checks.rows)} results"))
    if not s.checks:
        missing.append(("real-program checks (--checks FILE: JSON of msealbench vm --compat or msealbench try): "
                        "not given",))
    given.append(("this system: kernel configuration (", Literal(s.system.get("config_source") or "not readable"),
                  "), package database (", Literal(", ".join(s.databases) or "none"), "), the list ",
                  Literal(s.software_path)))
    return [Heading(2, ("Inputs",), "inputs"), line("given:"), Items(given), line("missing:"),
            Items(missing or [("nothing",)])]


def disables_section(s):
    blocks = [Heading(2, ("What the option disables",), "disables"),
              line("CONFIG_MSEAL_SYSTEM_MAPPINGS depends on !CHECKPOINT_RESTORE (", KCONFIG, "). A kernel with "
                   "it goes without what CONFIG_CHECKPOINT_RESTORE provides (", CR_KCONFIG, "), among others:"),
              Items([(text,) for text in CHECKPOINT_RESTORE_PROVIDES]),
              line("and every process has its system mappings ([vdso], [vvar], [vvar_vclock], [uprobes]; arm64 "
                   "compat also [sigpage], [vectors]) sealed from exec on: it can no longer move, unmap or "
                   "re-protect them (", MSEAL_DOC, ").")]
    on = [name for name, options in config_rows_options(s) if options.get("CONFIG_CHECKPOINT_RESTORE") in ("y", "m")]
    if on:
        blocks.append(line("CONFIG_CHECKPOINT_RESTORE is on in ", Literal(", ".join(on)),
                           ": turning the option on there turns it off."))
    return blocks


def config_rows_options(s):
    """(where, options) of every kernel the inputs describe."""
    out = [("this system", s.system.get("options") or {})]
    if s.run:
        out.append((f"run {s.run.label}", s.run.context.get("kernel_config") or {}))
    if s.ab:
        for run in [s.ab.baseline] + s.ab.candidates:
            config = (run.context.get("vm") or {}).get("config") or {}
            out.append((f"kernel {run.label}", config.get("options") or {}))
    return out


def sealed_text(sealed):
    if sealed is None:
        return "unknown"
    return ", ".join(sealed) if sealed else "none"


def facts_section(s):
    header = ["kernel", "release", "MSEAL_SYSTEM_MAPPINGS", "CHECKPOINT_RESTORE", "config from",
              "sealed at exec by the kernel"]
    rows = [["this system (where the report was made)", s.system.get("release") or "unknown",
             config_value(s.system.get("options"), "CONFIG_MSEAL_SYSTEM_MAPPINGS"),
             config_value(s.system.get("options"), "CONFIG_CHECKPOINT_RESTORE"),
             s.system.get("config_source") or "not readable", sealed_text(s.system.get("sealed"))]]
    if s.run:
        ctx = s.run.context
        config = ctx.get("kernel_config") if isinstance(ctx.get("kernel_config"), dict) else {}
        rows.append([f"run {os.path.basename(s.run.path)} (host {ctx.get('host')})", (ctx.get("kernel") or {}).get("release") or "unknown",
                     config_value(config, "CONFIG_MSEAL_SYSTEM_MAPPINGS"),
                     config_value(config, "CONFIG_CHECKPOINT_RESTORE"), config.get("source") or "not readable",
                     sealed_text(ctx.get("kernel_sealed_system_mappings"))])
    if s.ab:
        for run in [s.ab.baseline] + s.ab.candidates:
            vm = run.context.get("vm") or {}
            config = vm.get("config") or {}
            rows.append([f"kernel {run.label}" + (" (baseline)" if run is s.ab.baseline else ""),
                         vm.get("release") or "unknown",
                         config_value(config.get("options"), "CONFIG_MSEAL_SYSTEM_MAPPINGS"),
                         config_value(config.get("options"), "CONFIG_CHECKPOINT_RESTORE"),
                         config.get("source") or "not readable", sealed_text(vm.get("kernel_sealed_system_mappings"))])
    if s.probe:
        sealed = None if s.probe.system_mappings is None else [
            str(m.get("name")) for m in s.probe.system_mappings if isinstance(m, dict) and m.get("sealed_at_exec")]
        config = s.probe.kernel_config or {}
        rows.append([f"probe {os.path.basename(s.probe.path)}", s.probe.kernel_release or "unknown",
                     config_value(config, "CONFIG_MSEAL_SYSTEM_MAPPINGS"),
                     config_value(config, "CONFIG_CHECKPOINT_RESTORE"), config.get("source") or "not said",
                     sealed_text(sealed)])
    return [Heading(2, ("Kernel facts",), "kernel"), Table(header, rows),
            line("sealed at exec: the system mappings a freshly exec'd process finds sealed (VmFlags sl in "
                 "/proc/PID/smaps); CONFIG_ARCH_SUPPORTS_MSEAL_SYSTEM_MAPPINGS on this system: ",
                 Literal(config_value(s.system.get("options"), "CONFIG_ARCH_SUPPORTS_MSEAL_SYSTEM_MAPPINGS")))]


def matrix_probe(s):
    """The probe whose matrix the report shows: the one given, else the sealed kernel's of the A/B."""
    if s.probe:
        return s.probe
    if s.ab:
        for run in s.ab.candidates + [s.ab.baseline]:
            probe = inputs.probe_of_run(run)
            if probe:
                return probe
    return None


def run_probe(s):
    """The probe summary a run's context holds, or None."""
    probe = s.run.context.get("probe") if s.run else None
    return probe if isinstance(probe, dict) else None


def operation_text(row):
    """A matrix row's operation: its text without the outcome the other columns show."""
    text = str(row.get("text", ""))
    return text.split(": sealed ")[0] if ": sealed " in text else text


def outcome(row, side):
    value = row.get(side)
    if not value:
        return "-"
    errno = row.get(f"{side}_errno")
    return f"{value} ({errno})" if errno else value


def compatibility_section(s):
    blocks = [Heading(2, ("Compatibility",), "compatibility")]
    probe = matrix_probe(s)
    if probe:
        rows = [[r["key"], operation_text(r), outcome(r, "sealed"), outcome(r, "unsealed"),
                 r.get("documented") or "-", {"ok": "as documented", "not ok": "DIFFERS"}.get(r.get("result"),
                                                                                          "skipped")]
                for r in probe.rows if r.get("key", "").startswith(("vdso.", "anon."))]
        blocks += [line("What sealing denies, from the probe ", Literal(probe.path),
                        ", against the kernel's documented behaviour (", MSEAL_DOC, "):"),
                   Table(["operation", "what", "sealed", "unsealed", "documented", "result"], rows)]
    elif run_probe(s):
        summary = run_probe(s)
        rows = [[key, outcome_name] for outcome_name in ("denied", "allowed", "not_applicable")
                for key in summary.get(outcome_name) or [] if isinstance(key, str)]
        blocks += [line("What sealing denies, from the probe the run recorded (its context; --probe FILE gives "
                        "errnos and the documented outcome):"), Table(["operation", "on the sealed target"], rows),
                   line("differs from the documentation: ", Literal(", ".join(
                       str(m) for m in summary.get("mismatches") or []) or "nothing"))]
    else:
        blocks.append(line("No compatibility matrix: no probe given (msealbench probe --json > probe.json, "
                           "then --probe probe.json)."))
    blocks.append(Heading(3, ("Real programs",)))
    if not s.checks:
        blocks.append(line("not given: no results of real programs run plain and sealed (msealbench vm --compat "
                           "or msealbench try; pass their JSON with --checks FILE)."))
    for checks in s.checks:
        blocks += [line("from ", Literal(checks.path), *((" (", Literal(checks.title), ")") if checks.title else ())),
                   Table(checks.header, checks.rows)]
    return blocks


def software_section(s):
    blocks = [Heading(2, ("Software on this system that the option would affect",), "software")]
    if not s.databases:
        blocks.append(line("No package database here (neither dpkg-query nor rpm): which of the software below is "
                           "installed is unknown."))
    else:
        blocks.append(line("Installed packages found with ", Literal(", ".join(s.databases)), ", from the list ",
                           Literal(s.software_path), " (known: named by the kernel's Kconfig help or reported "
                           "broken; suspected: does what sealing refuses, no report yet)."))
    ordered = sorted(s.software, key=lambda sw: (not sw.installed, sw.status != "known"))
    rows = [[sw.name, sw.status, ", ".join(sw.installed) or ("not installed" if s.databases else "unknown"),
             "; ".join(affected.NEEDS[n] for n in sw.needs) + ": " + sw.reason, Link(sw.reference)]
            for sw in ordered]
    blocks.append(Table(["software", "status", "installed here", "why", "reference"], rows))
    return blocks


def plots_section(s):
    blocks = [Heading(2, ("Plots",), "plots")]
    if s.figure_note:
        blocks.append(line(s.figure_note))
    blocks += s.pictures
    if not s.pictures and not s.figure_note:
        blocks.append(line("nothing to draw: no run or kernel A/B given"))
    return blocks


def platform_text(virtualization):
    if virtualization == "none":
        return "bare metal"
    if not virtualization or virtualization == "unknown":
        return "bare metal or virtual: unknown"
    return f"a virtual machine ({virtualization})"   # shown as a Literal by its caller


def platform_limits(run):
    """What the platform a run measured on does to its numbers, in words."""
    virtualization = run.context.get("virtualization")
    if isinstance(run.context.get("vm"), dict) or virtualization in (None, "none", "unknown"):
        return []
    return [("run ", Literal(run.label), " measured in a virtual machine (", Literal(str(virtualization)),
             "): the host's other guests add noise and system calls may cost virtualisation exits; the seal "
             "modes ran interleaved round by round, so their ratios are paired against that drift.")]


def _monitor_text(monitor):
    words = [str(w) for key in ("operations", "actions")
             for w in (monitor.get(key) if isinstance(monitor.get(key), list) else [])]
    return f"{monitor.get('name')} ({' '.join(words)})"


def noise_limits(run):
    """The host's steal during the rounds and the DAMON monitors that ran, as a run recorded them."""
    ctx, out = run.context, []
    steal = ctx.get("steal").get("run") if isinstance(ctx.get("steal"), dict) else None
    if results.is_number(steal) and steal > 0:
        out.append(("run ", Literal(run.label), f": the hypervisor took {100 * steal:.1f}% of the CPU time during "
                    "the rounds (steal); the times include those waits" + (", above the 2% at which run warns"
                                                                           if steal > 0.02 else "") + "."))
    damon = [k for k in ctx.get("damon") or [] if isinstance(k, dict)] if isinstance(ctx.get("damon"), list) else []
    if damon:
        names = ", ".join(_monitor_text(k) for k in damon)
        out.append(("run ", Literal(run.label), ": DAMON monitors were running (", Literal(names), "): they sample "
                    "page accesses and their actions move pages, so page faults and munmap vary more."))
    return out


def machine_items(run, what):
    ctx = run.context
    options = ctx.get("options") if isinstance(ctx.get("options"), dict) else {}
    vm = ctx.get("vm") if isinstance(ctx.get("vm"), dict) else None
    where = (f"a {str(vm.get('accel', '?')).upper()} guest of msealbench vm ({vm.get('accel_reason')}), "
             f"{len(vm.get('boots_merged') or [])} boot(s) merged" if vm else platform_text(ctx.get("virtualization")))
    return [(what, " ", Literal(run.label), ": ", Literal(str(ctx.get("host"))), ", ",
             Literal(str(ctx.get("cpu_model"))), " (", Literal(str(ctx.get("cpu_count"))), " CPUs, ",
             Literal(str(ctx.get("arch"))), "), kernel ", Literal(str((ctx.get("kernel") or {}).get("release"))),
             ", ", Literal(where), ", clocksource ", Literal(str(ctx.get("clocksource"))), ", ",
             Literal(str(options.get("repetitions"))), " rounds" + (" (--quick)" if options.get("quick") else "")
             + ", taken ", Literal(str(ctx.get("date"))),
             ", msealbench ", Literal(str((ctx.get("tool") or {}).get("version"))),
             *(("; PARTIAL: interrupted",) if run.partial else ()))]


def method_section(s):
    items, limits = [], []
    if s.run:
        items += machine_items(s.run, "run")
        limits += platform_limits(s.run) + noise_limits(s.run)
        notes = s.run.context.get("sealing_notes")
        if isinstance(notes, dict) and notes.get("sysmap"):
            limits.append(("sysmap: ", Literal(notes["sysmap"])))
    if s.ab:
        for run in [s.ab.baseline] + s.ab.candidates:
            items += machine_items(run, "kernel")
            limits += noise_limits(run)
            for note in (run.context.get("vm") or {}).get("notes") or []:
                if (Literal(note),) not in limits:
                    limits.append((Literal(note),))
    if s.history:
        items.append((f"history: {len(s.history.runs)} runs, baseline ", Literal(s.history.baseline.label)))
    limits += [(Literal(w),) for w in s.warnings]
    limits.append(("Absolute times belong to the machine that measured them; the ratios within one run (or one "
                   "pair of kernels on one host) are what carries over. A group's verdict is never firmer than "
                   "its cells'; cells too short to decide say so.",))
    blocks = [Heading(2, ("How the data was taken",), "method")]
    blocks += [Items(items)] if items else [line("no measurement given")]
    blocks += [line("limits:"), Items(limits), line(f"statistics: {s.settings.iterations} bootstrap resamples "
                                                   f"(seed {s.settings.seed}), {s.settings.confidence:.0%} CIs")]
    return blocks


def build(s):
    """The report of s, with its data (for --format json and the tests)."""
    title = "msealbench report: CONFIG_MSEAL_SYSTEM_MAPPINGS, cost and compatibility"
    blocks = [Heading(1, (title,))]
    for section in (verdict_section, inputs_section, disables_section, facts_section, compatibility_section,
                    software_section, plots_section, method_section):
        for block in section(s):  # markdown: a blank line ends each paragraph, list and table
            if block != blank():
                blocks += [block, blank()]
    data = {"schema": "msealbench-report", "schema_version": 1,
            "kernel_ab": [g.as_dict() for _, a in s.ab_analyses for g in a.geomeans],
            "userspace": [g.as_dict() for g in s.run_analysis.geomeans] if s.run_analysis else [],
            "software": [dataclasses.asdict(sw) for sw in s.software], "warnings": s.warnings}
    return Report(blocks, data)
