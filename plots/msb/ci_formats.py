# SPDX-License-Identifier: GPL-2.0-only
"""The output formats CI systems and other tools read, one renderer each (a function of a
tables.Report, as in msb/tables.py), in two tables that tables.render takes:

  comparison_formats() (compare --format): tables.RENDERERS and COMPARISON_ONLY: email, bmf,
      github-action, junit, tap, csv (one row per compared cell)
  RUN_FORMATS (msealbench export --format, run --format): csv (one row per sample), gbench,
      bmf and github-action (each cell's median with its CI, for trackers that keep the history)

They render the model behind a report (report.model: a comparison.Analysis, or a results.Run),
not its text. Text from results files (labels, benchmark names, parameters, reasons) is data:
each renderer writes it so that the consumer reads it back as the same text and acts on none of
it (JSON: json.dumps; XML: ElementTree's escaping, control characters shown as escapes since
XML 1.0 cannot hold them; TAP: no newline, and '#' escaped so no text becomes a directive;
CSV: csv quoting, control characters escaped, a leading = + - @ defused for spreadsheets).
"""
import csv
import io
import json
import math
import textwrap
import xml.etree.ElementTree as ET

from . import cli, comparison, results, stats, tables
from .comparison import TIME, REGRESSION, UNDECIDABLE
from .report import format_value, significance_mark

EMAIL_WIDTH = 100


class NotThisFormat(cli.Failure):
    """A format asked of a report it does not apply to (status 2, like bad input)."""
    status = 2


# ------------------------------------------------------------------ the model

def analysis_of(report, output_format):
    """The comparison.Analysis behind a compare report: its compared rows (a history: the
    newest run's against the baseline)."""
    analysis = report.model
    if not isinstance(analysis, comparison.Analysis):
        raise NotThisFormat(f"--format {output_format} renders a comparison (compare --format {output_format})")
    return analysis


def compared(analysis):
    """(comparisons, geomeans) of an analysis; a history's are those of its newest run."""
    if analysis.mode == "history":
        return analysis.columns[-1][1], []
    return analysis.comparisons, analysis.geomeans


def run_of(report, output_format):
    if not isinstance(report.model, results.Run):
        raise NotThisFormat(f"--format {output_format} renders a results file (msealbench export "
                            f"--format {output_format} FILE)")
    return report.model


def cell_name(c):
    """What names a compared row, for every format: benchmark [params] baseline->candidate."""
    if c.base_cell is None:  # a group geomean
        return f"{c.benchmark} {c.base_name}->{c.cand_name}"
    name = f"{c.benchmark} [{results.params_text(c.params)}] {c.base_name}->{c.cand_name}"
    return name if c.metric == TIME else f"{name} {c.metric}"


def number(value):
    """A finite float, or None (JSON null)."""
    return float(value) if value is not None and math.isfinite(value) else None


def ci_text(c):
    if c.verdict == UNDECIDABLE or not (math.isfinite(c.ci_low) and math.isfinite(c.ci_high)):
        return "no CI"
    return f"{(c.ci_low - 1) * 100:+.2f}% to {(c.ci_high - 1) * 100:+.2f}%"


def summary_text(c):
    """The numbers of a row in one line: what a failure message, a TAP line and a tooltip show."""
    values = "" if number(c.base_median) is None or number(c.cand_median) is None else \
        f"{c.base_median:.6g} -> {c.cand_median:.6g} {c.unit}, "
    p = "" if c.p_value is None else f", p {c.p_value:.4g}"
    why = f" ({c.why})" if c.why else ""
    return (f"{c.verdict}{why}: {values}change {c.change * 100:+.2f}% "
            f"({ci_text(c)}, ratio {c.ratio:.4f}), {c.rounds} rounds{p}")


# ------------------------------------------------------------------ email

def render_email(report):
    """The verdict table in at most EMAIL_WIDTH columns, as mmtests' compare-kernels prints
    it for a mail: baseline and candidate values, the change in brackets, a verdict."""
    analysis = analysis_of(report, "email")
    comparisons, geomeans = compared(analysis)
    settings = analysis.settings
    number_width, verdict_width = 12, 16
    name_width = EMAIL_WIDTH - (number_width * 2 + 12 + 2 + verdict_width + 4)
    out = [fit(f"msealbench compare: {', '.join(cli.terminal_text(r.label) for r in analysis.runs)}"),
           fit(f"margin {settings.margin * 100:g}%, {settings.confidence * 100:g}% CI; change: + is slower, "
               "* significant; time per operation (median of round medians)")]
    for (base_name, cand_name), members in comparison.sections(comparisons).items():
        members = [c for c in members if c.metric == TIME]
        if not members:
            continue
        out += ["", fit(f"{'':{name_width}} {cli.terminal_text(base_name):>{number_width}} "
                        f"{cli.terminal_text(cand_name):>{number_width + 12}}")]
        for c in members:
            params = f" {results.params_text(c.params)}" if c.params else ""
            out.append(email_row(cli.terminal_text(c.benchmark + params),
                                 c.base_median, c, settings, name_width, number_width, verdict_width))
        for g in geomeans:
            if (g.base_name, g.cand_name) == (base_name, cand_name):
                out.append(email_row(cli.terminal_text(f"Gmean {g.group}"), None, g, settings,
                                     name_width, number_width, verdict_width))
    counts = comparison.count_verdicts([c for c in comparisons if c.metric == TIME])
    out += ["", fit("verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n))]
    warnings = (report.data or {}).get("warnings") or []
    for warning in warnings:  # what compare says on stderr belongs in the mail too
        out += textwrap.wrap("warning: " + cli.terminal_text(warning), EMAIL_WIDTH, subsequent_indent="  ")
    return "\n".join(out)


def fit(text, width=EMAIL_WIDTH):
    return text if len(text) <= width else text[:width - 3] + "..."


def email_row(name, base_value, c, settings, name_width, number_width, verdict_width):
    cand = "" if base_value is None else format_value(c.cand_median)
    change = "(    -   )" if not math.isfinite(c.change) else f"({c.change * 100:+7.2f}%)"
    row = (f"{fit(name, name_width):<{name_width}} {format_value(base_value) if base_value else '':>{number_width}} "
           f"{cand:>{number_width}} {change}{significance_mark(c, settings)} "
           f"{fit(c.verdict, verdict_width)}")
    return fit(row.rstrip())


# ------------------------------------------------------------------ Bencher (BMF)

def measure_name(c):
    """Bencher's built-in latency measure is nanoseconds: time per operation goes there."""
    if c.metric == TIME:
        return "latency" if c.unit == "ns/op" else c.unit
    return c.metric


def render_bmf(report):
    """Bencher Metric Format: {benchmark: {measure: {value, lower_value, upper_value}}}. Per
    compared row, the candidate's value in its unit, with bounds that are the ratio's confidence
    interval applied to the baseline (what the candidate may be, at the stated confidence), and
    the ratio itself as a measure "ratio" with its interval (the geomean rows: only that)."""
    analysis = analysis_of(report, "bmf")
    comparisons, geomeans = compared(analysis)
    document = {}
    for c in comparisons + geomeans:
        measures = document.setdefault(cell_name(c), {})
        interval = (c.ci_low, c.ci_high) if c.verdict != UNDECIDABLE else (None, None)
        if number(c.base_median) is not None and number(c.cand_median) is not None:
            measures[measure_name(c)] = bounded(c.cand_median, *(None if x is None else c.base_median * x
                                                                 for x in interval))
        if number(c.ratio) is not None:
            measures["ratio" if c.metric == TIME else f"{c.metric} ratio"] = bounded(c.ratio, *interval)
    return json.dumps({name: m for name, m in document.items() if m}, indent=1, allow_nan=False)


def bounded(value, low, high):
    """A BMF metric: value, and the bounds when both are numbers (an undecidable row has none)."""
    out = {"value": number(value)}
    if number(low) is not None and number(high) is not None:
        out["lower_value"], out["upper_value"] = number(low), number(high)
    return out


def run_locations(run):
    """(cell, name, Location) of every measured cell of a run: its median of round medians with
    a bootstrap CI over its rounds (comparison.cell_location, seeded: the same file gives the same
    numbers)."""
    settings = comparison.Settings()
    for cell in run.ok_cells():
        name = f"{cell.benchmark} [{results.params_text(cell.params)}] {cell.seal}"
        yield cell, name, comparison.cell_location(cell, settings, cell.describe())


def render_run_bmf(report):
    """A run in BMF, for Bencher to keep the history and judge it with its own thresholds: per cell
    the measure latency (ns per operation) with the 95% CI of its median as bounds."""
    run = run_of(report, "bmf")
    return json.dumps({name: {"latency" if cell.unit == "ns/op" else cell.unit:
                              bounded(location.median, location.low, location.high)}
                       for cell, name, location in run_locations(run)}, indent=1, allow_nan=False)


def render_run_github_action(report):
    """A run as customSmallerIsBetter entries: per cell its median, the CI as range."""
    run = run_of(report, "github-action")
    return json.dumps([{"name": name, "unit": cell.unit, "value": location.median,
                        "range": f"{location.low:.6g} to {location.high:.6g}",
                        "extra": f"95% CI of the median of {len(set(cell.rounds))} round medians, "
                                 f"{len(cell.samples)} samples"}
                       for cell, name, location in run_locations(run)], indent=1, allow_nan=False)


# ------------------------------------------------------------------ github-action-benchmark

def render_github_action(report):
    """github-action-benchmark's customSmallerIsBetter input: a list of {name, unit, value,
    range, extra}; value the candidate's time (or counter) per operation, range the change's
    confidence interval, extra the baseline, ratio, verdict and rounds (its chart's tooltip)."""
    analysis = analysis_of(report, "github-action")
    comparisons, _ = compared(analysis)
    entries = []
    for c in comparisons:
        if number(c.cand_median) is None:
            continue
        entries.append({"name": cell_name(c), "unit": c.unit, "value": number(c.cand_median),
                        "range": ci_text(c), "extra": summary_text(c)})
    return json.dumps(entries, indent=1, allow_nan=False)


# ------------------------------------------------------------------ JUnit XML

def xml_text(text):
    """Text XML 1.0 can hold (no C0 control but tab, newline, carriage return), the rest shown as
    escapes; ElementTree escapes & < > and quotes."""
    return cli.terminal_text(text)


def render_junit(report):
    """JUnit XML as Jenkins and GitLab read it: a testsuite of one testcase per compared cell
    (time) and per group geomean; a regression is a <failure> whose message holds the numbers,
    an undecidable comparison is <skipped>. Counter verdicts do not gate: not testcases."""
    analysis = analysis_of(report, "junit")
    comparisons, geomeans = compared(analysis)
    rows = [c for c in comparisons if c.metric == TIME] + geomeans
    failures = sum(c.verdict == REGRESSION for c in rows)
    skipped = sum(c.verdict == UNDECIDABLE for c in rows)
    counts = {"tests": str(len(rows)), "failures": str(failures), "errors": "0", "skipped": str(skipped)}
    suites = ET.Element("testsuites", name="msealbench compare", **counts)
    suite = ET.SubElement(suites, "testsuite", name=xml_text(" vs ".join(r.label for r in analysis.runs)),
                          time="0", **counts)
    for c in rows:
        case = ET.SubElement(suite, "testcase", classname=xml_text(f"msealbench.{c.group}"),
                             name=xml_text(cell_name(c)), time="0")
        if c.verdict == REGRESSION:
            failure = ET.SubElement(case, "failure", message=xml_text(summary_text(c)), type="regression")
            failure.text = xml_text(summary_text(c))
        elif c.verdict == UNDECIDABLE:
            ET.SubElement(case, "skipped", message=xml_text(summary_text(c)))
        else:
            ET.SubElement(case, "system-out").text = xml_text(summary_text(c))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


# ------------------------------------------------------------------ TAP 13

def tap_text(text):
    """One line of TAP description: no control character, and '#' escaped as '\\#' so that no
    text starts a directive (a backslash doubled first, so '\\#' reads back unambiguously)."""
    return cli.terminal_text(text).replace("\\", "\\\\").replace("#", "\\#")


def render_tap(report):
    """The verdicts as TAP 13, the way kselftest prints: a plan, one line per compared cell
    (time) and group geomean; a regression is 'not ok', an undecidable comparison a SKIP; the
    numbers follow the name; a Totals comment at the end."""
    analysis = analysis_of(report, "tap")
    comparisons, geomeans = compared(analysis)
    rows = [c for c in comparisons if c.metric == TIME] + geomeans
    out = ["TAP version 13", f"1..{len(rows)}"]
    passed = failed = skipped = 0
    for number_, c in enumerate(rows, 1):
        line = f"{tap_text(cell_name(c))}: {tap_text(summary_text(c))}"
        if c.verdict == REGRESSION:
            out.append(f"not ok {number_} {line}")
            failed += 1
        elif c.verdict == UNDECIDABLE:
            out.append(f"ok {number_} {line} # SKIP {tap_text(c.why or 'too few rounds')}")
            skipped += 1
        else:
            out.append(f"ok {number_} {line}")
            passed += 1
    out.append(f"# Totals: pass:{passed} fail:{failed} xfail:0 xpass:0 skip:{skipped} error:0")
    return "\n".join(out)


# ------------------------------------------------------------------ CSV

def csv_text(value):
    """A CSV field: numbers as they are; text with control characters escaped and, when it
    starts with a character a spreadsheet would take for a formula, a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "" if isinstance(value, float) and not math.isfinite(value) else repr(value)
    text = cli.terminal_text(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "|") else text


def csv_lines(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[csv_text(v) for v in row] for row in rows])
    return out.getvalue()


COMPARISON_COLUMNS = ("benchmark", "family", "group", "params", "metric", "unit", "baseline", "candidate",
                      "n_baseline", "n_candidate", "rounds", "baseline_value", "candidate_value", "ratio",
                      "ci_low", "ci_high", "change_pct", "p_value", "verdict", "why")


def render_comparison_csv(report):
    """One row per compared cell and metric, and per group geomean."""
    analysis = analysis_of(report, "csv")
    comparisons, geomeans = compared(analysis)
    rows = [[c.benchmark, c.family, c.group, results.params_text(c.params) if c.params else "",
             c.metric, c.unit, c.base_name, c.cand_name, c.n_base, c.n_cand, c.rounds,
             number(c.base_median), number(c.cand_median), number(c.ratio),
             None if c.verdict == UNDECIDABLE else number(c.ci_low),
             None if c.verdict == UNDECIDABLE else number(c.ci_high),
             number(c.change * 100), c.p_value, c.verdict, c.why] for c in comparisons + geomeans]
    return csv_lines(COMPARISON_COLUMNS, rows)


def render_run_csv(report):
    """Tidy: one row per sample of every measured cell, its time and each counter per operation
    in columns (empty where the cell did not count it)."""
    run = run_of(report, "csv")
    counters = sorted({name for c in run.ok_cells() for name in c.counters})
    header = ["label", "date", "benchmark", "family", "params", "seal", "unit", "round", "boot",
              "sample", "value"] + counters
    rows = []
    for c in run.ok_cells():
        for i, value in enumerate(c.samples):
            rows.append([run.label, run.date, c.benchmark, c.family, results.params_text(c.params)
                         if c.params else "", c.seal, c.unit, c.rounds[i] if i < len(c.rounds) else None,
                         c.boots[i] if i < len(c.boots) else None, i, value]
                        + [c.counters[n][i] if n in c.counters and i < len(c.counters[n]) else None
                           for n in counters])
    return csv_lines(header, rows)


# ------------------------------------------------------------------ google-benchmark JSON

def gbench_name(cell):
    """google-benchmark's name shape, family/arguments: vdso.getcpu/vmas:16/sysmap."""
    parts = [cell.benchmark] + [f"{k}:{v}" for k, v in cell.params.items()] + [cell.seal]
    return "/".join(str(p) for p in parts)


def render_gbench(report):
    """A run as google-benchmark's JSON output (its docs/json_format.md), so that its
    tools/compare.py compares two msealbench runs: one repetition per round of each measured
    cell (real_time and cpu_time: the round's median time per operation; iterations: its
    samples), then the mean, median and stddev aggregates over rounds. msealbench measures
    wall-clock time only: cpu_time repeats it."""
    run = run_of(report, "gbench")
    context = run.context
    kernel = context.get("kernel") if isinstance(context.get("kernel"), dict) else {}
    loadavg = context.get("loadavg") if isinstance(context.get("loadavg"), list) else []
    steal = context.get("steal") if isinstance(context.get("steal"), dict) else {}
    document = {"context": {
        "date": run.date, "host_name": str(context.get("host") or ""),
        "executable": "msealbench", "num_cpus": context.get("cpu_count") if isinstance(
            context.get("cpu_count"), int) else 0,
        "mhz_per_cpu": 0, "cpu_scaling_enabled": False, "caches": [],
        "load_avg": [x for x in loadavg if isinstance(x, (int, float))],
        "library_build_type": "release", "msealbench_label": run.label,
        "kernel_release": str(kernel.get("release") or ""),
        "msealbench_steal_run": steal.get("run") if isinstance(steal.get("run"), (int, float)) else None},
        "benchmarks": []}
    family_index = 0
    for cell in run.ok_cells():
        if not cell.unit.startswith("ns"):
            continue
        by_round = stats.group_by_round(cell.samples, cell.rounds)
        name = gbench_name(cell)
        medians = stats.round_medians(by_round)
        common = {"family_index": family_index, "per_family_instance_index": 0, "run_name": name,
                  "repetitions": len(medians), "threads": 1, "time_unit": "ns"}
        for index, values in enumerate(values for _, values in sorted(by_round.items())):
            value = stats.median(values)
            document["benchmarks"].append({"name": name, **common, "run_type": "iteration",
                                           "repetition_index": index, "iterations": len(values),
                                           "real_time": value, "cpu_time": value})
        for aggregate, value in (("mean", stats.mean(medians)), ("median", stats.median(medians)),
                                 ("stddev", stats.stddev(medians) if len(medians) > 1 else 0.0)):
            document["benchmarks"].append({"name": f"{name}_{aggregate}", **common, "run_type": "aggregate",
                                           "aggregate_name": aggregate, "aggregate_unit": "time",
                                           "iterations": len(medians), "real_time": value, "cpu_time": value})
        family_index += 1
    return json.dumps(document, indent=1, allow_nan=False)


COMPARISON_ONLY = {"email": render_email, "bmf": render_bmf, "github-action": render_github_action,
                   "junit": render_junit, "tap": render_tap, "csv": render_comparison_csv}
RUN_FORMATS = {"csv": render_run_csv, "gbench": render_gbench, "bmf": render_run_bmf,
               "github-action": render_run_github_action}


def comparison_formats():
    """compare's formats: every report's (tables.RENDERERS, as it is now) and COMPARISON_ONLY."""
    return {**tables.RENDERERS, **COMPARISON_ONLY}
