# SPDX-License-Identifier: GPL-2.0-only
"""Runs of one kernel merged into one results file, each run a boot: samples concatenated,
rounds continued, `boots` saying which run each sample came from, so that compare resamples
boots (runs), then rounds within them. msealbench vm merges the boots it made; msealbench merge
the runs a user made on real hardware, one per boot of the kernel."""
import json
import os

from . import results
from .results import BadInput


def cell_key(c):
    """A cell's identity, as results.py reads it (no parameters, null or {}, are one)."""
    params = c.get("params")
    return (c.get("benchmark"), results.params_key(params if isinstance(params, dict) else {}), c.get("seal"))


def add_gate(total, more):
    """The contention gate's record of two boots (a cell's or a run's): counts summed, the
    lower floor; None when either boot ran without the gate."""
    if not isinstance(total, dict) or not isinstance(more, dict):
        return None
    out = dict(total)
    for k in ("set_aside", "rounds_lost", "kept_contended", "waited_s", "samples_taken"):
        if k in out:
            out[k] = out[k] + (more.get(k) or 0)
    floors = [f for f in (total.get("floor_ns"), more.get("floor_ns")) if isinstance(f, (int, float)) and f > 0]
    out["floor_ns"] = min(floors) if floors else total.get("floor_ns")
    return out


# Optional series of one value per sample: concatenated over the boots, null if a boot lacks one.
PER_SAMPLE_SERIES = ("cycles", "reference_ns")


def merge_cells(runs):
    """Concatenate each cell's samples over the boots; rounds continue where the last boot's
    stopped, so pairing by round stays within one boot; boots says which boot each sample
    ran in (compare resamples boots, then rounds within boots)."""
    merged, order = {}, []
    offset = 0
    for boot_no, run in runs:
        last = -1
        for c in run.get("cells", []):
            rounds = [r + offset for r in c.get("rounds") or []]
            last = max([last] + rounds)
            key = cell_key(c)
            created = key not in merged
            if created:
                m = json.loads(json.dumps(c))
                m["samples"], m["rounds"], m["boots"] = [], [], []
                for series in PER_SAMPLE_SERIES:
                    m[series] = [] if isinstance(c.get(series), list) else None
                if isinstance(m.get("counters"), dict):
                    m["counters"]["values"] = {k: [] for k in (c["counters"].get("values") or {})}
                    m["counters"]["running_ratio"] = []
                m["_batches"], m["_round_s"] = [], []
                merged[key] = m
                order.append(key)
            m = merged[key]
            status = c.get("status")
            if status == "failed" and (created or m.get("status") != "failed"):
                m["status"], m["reason"] = "failed", f"boot {boot_no}: {c.get('reason')}"
            elif status == "ok" and m.get("status") == "skipped":
                m["status"], m["reason"] = "ok", None
            m["samples"] += c.get("samples") or []
            m["rounds"] += rounds
            m["boots"] += [boot_no] * len(c.get("samples") or [])
            for series in PER_SAMPLE_SERIES:
                if m[series] is not None:
                    m[series] = m[series] + c[series] if isinstance(c.get(series), list) else None
            counters = c.get("counters")
            if isinstance(counters, dict) and isinstance(m.get("counters"), dict):
                for name, values in (counters.get("values") or {}).items():
                    m["counters"]["values"].setdefault(name, []).extend(values)
                m["counters"]["running_ratio"] += counters.get("running_ratio") or []
            if c.get("samples"):
                m["_batches"].append(c.get("batch"))
            if isinstance(c.get("round_s"), (int, float)) and rounds:
                m["_round_s"].append((c["round_s"], len(set(rounds))))
            if not created:
                m["gate"] = add_gate(m.get("gate"), c.get("gate"))
        offset = last + 1 if last >= 0 else offset
    cells = []
    for key in order:
        m = merged[key]
        batches = sorted(set(b for b in m.pop("_batches") if b is not None))
        timed = m.pop("_round_s")   # the boots' round times, weighted by their rounds
        if "round_s" in m:
            m["round_s"] = (sum(t * n for t, n in timed) / sum(n for _, n in timed)) if timed else None
        if len(batches) > 1:
            m["notes"] = list(m.get("notes") or []) + [
                f"batch differed between boots ({', '.join(map(str, batches))}); samples are per operation"]
        if batches:
            m["batch"] = batches[0]
        for series in PER_SAMPLE_SERIES:
            if m[series] is not None and len(m[series]) != len(m["samples"]):
                m[series] = None
        counters = m.get("counters")
        if isinstance(counters, dict):
            n = len(m["samples"])
            counters["values"] = {k: v for k, v in counters["values"].items() if len(v) == n}
            if len(counters["running_ratio"]) != n:
                counters["running_ratio"] = []
        m["summary"] = results.cell_summary(m["samples"])
        cells.append(m)
    return cells


def kernel_of(run):
    """What must be equal for runs to be boots of one kernel: release, version (the build),
    machine architecture and the system mappings it sealed at exec, from the run's context."""
    kernel = run.context.get("kernel") if isinstance(run.context.get("kernel"), dict) else {}
    sealed = run.context.get("kernel_sealed_system_mappings")
    return (kernel.get("release"), kernel.get("version"), run.context.get("arch"),
            tuple(sorted(map(str, sealed))) if isinstance(sealed, list) else sealed)


def format_kernel(kernel):
    release, version, arch, sealed = kernel
    shown = "unknown" if sealed is None else ", ".join(sealed) or "none"
    return f"{release} {version} {arch}, kernel-sealed {shown}"


def options_of(run):
    options = run.context.get("options")
    return options if isinstance(options, dict) else {}


# Options that change what a run measures or how: runs that differ in one are merged with a warning.
COMPARED_OPTIONS = ("gate", "reference", "events", "min_time_s", "cpu")


def combined_context(contexts, label):
    """The first context, labelled, with the contention gates of all summed: what a merged
    file's context starts from (msealbench merge adds `merged`, msealbench vm adds `vm`)."""
    ctx = json.loads(json.dumps(contexts[0]))
    ctx["label"] = label
    for more in contexts[1:]:
        ctx["gate"] = add_gate(ctx.get("gate"), more.get("gate") if isinstance(more, dict) else None)
    return ctx


def merged_context(runs, label):
    """combined_context with `merged` naming each run: the boot number it got, its file, date,
    host, seed, rounds and whether it was partial."""
    ctx = combined_context([run.context for run in runs], label)
    ctx["merged"] = {"runs": [{
        "boot": n, "file": os.path.basename(run.path), "date": run.context.get("date"),
        "host": run.context.get("host"), "seed": run.context.get("seed"), "partial": run.partial,
        "rounds": len({r for c in run.cells for r in c.rounds})} for n, run in enumerate(runs, 1)]}
    return ctx


def load_runs(paths):
    """[(document, Run)] of paths; BadInput for fewer than two, a file given twice (by path, or
    as a copy: the same host, date and seed) and an already merged file."""
    if len(paths) < 2:
        raise BadInput("merge needs two runs or more (one per boot of the kernel)")
    loaded, seen = [], {}
    for path in paths:
        document, run = results.load_document(path)
        for identity in (os.path.realpath(path), ("run", str(run.context.get("host")), run.date,
                                                   str(run.context.get("seed")))):
            if identity in seen:
                raise BadInput(f"{path}: the same run as {seen[identity]} (same "
                               f"{'file' if isinstance(identity, str) else 'host, date and seed'}): each run is one boot")
            seen[identity] = path
        if any(c.boots for c in run.cells) or "merged" in run.context or "vm" in run.context:
            raise BadInput(f"{path}: already merged (msealbench merge or vm wrote it); merge the runs it was made of")
        loaded.append((document, run))
    return loaded


def check_one_kernel(runs):
    first = runs[0]
    for run in runs[1:]:
        if kernel_of(run) != kernel_of(first):
            raise BadInput(f"{run.path}: another kernel than {first.path} ({format_kernel(kernel_of(run))} against "
                           f"{format_kernel(kernel_of(first))}); merge the runs of one kernel, then compare the "
                           "merged files")
        delays = [options_of(r).get("inject_delay") for r in (first, run)]
        if delays[0] != delays[1]:
            raise BadInput(f"{run.path}: injected delay {delays[1]!r}, {first.path} {delays[0]!r}: not the same "
                           "measurement")


def merge_warnings(runs):
    warnings = []
    hosts = sorted({str(r.context.get("host")) for r in runs})
    if len(hosts) > 1:
        warnings.append(f"runs of {len(hosts)} hosts ({', '.join(hosts)}): the spread between them is counted as "
                        "the spread between boots")
    dates = [r.date for r in runs]
    later = next((i for i in range(1, len(runs)) if dates[i] and dates[i - 1] and dates[i] < dates[i - 1]), None)
    if later is not None:
        warnings.append(f"{runs[later].path} ({dates[later]}) was made before {runs[later - 1].path} "
                        f"({dates[later - 1]}): boot n is the n-th run given, and compare pairs it with the other "
                        "kernel's boot n; give the runs in the order they were made")
    differing = [k for k in COMPARED_OPTIONS if len({json.dumps(options_of(r).get(k)) for r in runs}) > 1]
    versions = {json.dumps((r.context.get("tool") or {}).get("version") if isinstance(r.context.get("tool"), dict)
                           else None) for r in runs}
    if len(versions) > 1:
        differing.append("msealbench version")
    if differing:
        warnings.append(f"the runs differ in {', '.join(differing)}: the merged file's context is the first run's")
    partial = [r.path for r in runs if r.partial]
    if partial:
        warnings.append(f"{len(partial)} partial run(s) (interrupted), e.g. {partial[0]}: the merged file is partial")
    failed = [(n, c) for n, r in enumerate(runs, 1) for c in r.cells if c.status == "failed"]
    if failed:
        n, cell = failed[0]
        warnings.append(f"{len(failed)} cell(s) failed in a run, e.g. {cell.describe()} in boot {n}: failed in the "
                        "merged file too, so compare leaves them out")
    keys = [{(c.benchmark, results.params_key(c.params), c.seal) for c in r.ok_cells()} for r in runs]
    uneven = set.union(*keys) - set.intersection(*keys)
    if uneven:
        warnings.append(f"{len(uneven)} measured cell(s) are not measured in every run: they have fewer boots")
    return warnings


def merge_runs(paths, label=None, default_label=None):
    """(document, warnings) of the runs at paths merged, run n as boot n; BadInput when they are
    fewer than two, one run twice, an already merged file, or runs of different kernels or of
    different injected delays (not boots of one measurement). The label: label, else the first
    run's own, else default_label."""
    loaded = load_runs(paths)
    runs = [run for _, run in loaded]
    check_one_kernel(runs)
    own = runs[0].context.get("label")
    label = label or (own if isinstance(own, str) and own.strip() else None) or default_label or runs[0].label
    cells = merge_cells([(n, document) for n, (document, _) in enumerate(loaded, 1)])
    return results.document(merged_context(runs, label), cells, any(r.partial for r in runs)), merge_warnings(runs)
