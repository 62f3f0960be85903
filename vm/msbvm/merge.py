# SPDX-License-Identifier: GPL-2.0-only
"""The boots of one kernel merged into one results file (schema v1 through msb.results): samples
concatenated, rounds continued, context.vm saying how the kernel was booted and what it sealed."""
import gzip
import hashlib
import json
import os
import re

from msb import results
from msb.merging import combined_context, merge_cells

from .common import say, write_file


def find_sealed(probe):
    """The system mappings the probe found sealed at exec (schema msealbench-probe:
    system_mappings[].sealed_at_exec), or None when it did not say."""
    if not isinstance(probe, dict) or not isinstance(probe.get("system_mappings"), list):
        return None
    rows = [m for m in probe["system_mappings"] if isinstance(m, dict) and "name" in m]
    if not rows or any(not isinstance(m.get("sealed_at_exec"), bool) for m in rows):
        return None
    return [str(m["name"]) for m in rows if m["sealed_at_exec"]]


def config_options(text, names):
    out = {}
    for name in names:
        m = re.search(rf"^(?:{name}=(.*)|# {name} is not set)$", text, re.M)
        out[name] = (m.group(1) if m.group(1) is not None else "n") if m else None
    return out


def json_or_none(data):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None


def boot_info(k, b, n):
    info = {"boot": n, "seconds": round(b.seconds, 2), "status": "ok", "error": b.failure(),
            "steps": dict(b.exits), "missing": dict(b.missing)}
    if info["error"]:
        info["status"] = "timeout" if b.timed_out else "failed"
    probe = json_or_none(b.files["probe.stdout"]) if "probe.stdout" in b.files else None
    env = json_or_none(b.files["env.stdout"]) if "env.stdout" in b.files else None
    sealed, source = find_sealed(probe), "probe"
    if sealed is None and env is not None:
        sealed, source = env.get("kernel_sealed_system_mappings"), "env"
    info["kernel_sealed_system_mappings"] = sealed
    info["kernel_sealed_source"] = source if sealed is not None else None
    info["probe"] = probe
    info["probe_exit"] = b.exits.get("probe")
    if "version" in b.files:
        info["proc_version"] = b.files["version"].decode("utf-8", "replace").strip()
    run = json_or_none(b.files["run.json"]) if "run.json" in b.files else None
    if run is not None and run.get("schema") != "msealbench-results":
        info["error"] = (info["error"] + "; " if info["error"] else "") + "run.json is not a results file"
        run = None
    if run is not None:
        info["seed"] = run.get("context", {}).get("seed")
        info["clocksource"] = run.get("context", {}).get("clocksource")
        info["partial"] = bool(run.get("partial"))
        k.runs.append((n, run))
    elif "run.json" not in b.files and not info["error"]:
        info["error"] = f"no results from the run (step exit: {b.exits.get('run')}, " \
                        f"{b.missing.get('run.json', 'file not sent')})"
        info["status"] = "failed"
    return info, run, env


def record_boot(k, b, n, out, log):
    """One finished boot (or LAVA job) of kernel k: its info kept in k.boots, its results
    written to OUT/boots/LABEL-N.json, one line said; returns why it failed, or None."""
    info, run, _ = boot_info(k, b, n)
    info.update(getattr(b, "extra_info", {}))
    k.boots.append((b, info))
    if "config.gz" in b.files and k.config is None:
        try:
            k.config = gzip.decompress(b.files["config.gz"])
        except (OSError, EOFError):
            info["error"] = (info["error"] or "") + " /proc/config.gz did not decompress"
    if run is not None:
        results.write_run(os.path.join(out, "boots", f"{k.label}-{n}.json"), run)
    sealed = info["kernel_sealed_system_mappings"]
    seen = ("unknown" if sealed is None else ", ".join(sealed) if sealed else "none")
    if info["error"]:
        say(f"{k.label} boot {n} FAILED after {b.seconds:.1f} s: {info['error']}"
            f" (console log: {log})")
        return f"{k.label} boot {n}: {info['error']}"
    say(f"{k.label} boot {n}: {b.seconds:.1f} s, release "
        f"{(run or {}).get('context', {}).get('kernel', {}).get('release')}, "
        f"kernel-sealed system mappings: {seen} ({info['kernel_sealed_source']})")
    return None


def write_merged(kernels, out, args, notes, more_context=None):
    """OUT/<label>.json of each kernel with results (and OUT/<label>.config); the kernels
    written. more_context(k): entries added to the merged file's context."""
    written = []
    for k in kernels:
        if k.config:
            write_file(os.path.join(out, f"{k.label}.config"), k.config)
        if not k.runs:
            say(f"{k.label}: no boot produced results; no {k.label}.json")
            continue
        path = os.path.join(out, f"{k.label}.json")
        doc = merged_results(k, k.qemu, args, notes)
        doc["context"].update(more_context(k) if more_context else {})
        results.write_run(path, doc)
        written.append(k)
        v = doc["context"]["vm"]
        sealed = v["kernel_sealed_system_mappings"]
        say(f"{k.label}: {path}: {len(k.runs)} boot(s) merged, kernel "
            f"{v['release']}, CONFIG_MSEAL_SYSTEM_MAPPINGS="
            f"{(v['config'] or {}).get('options', {}).get('CONFIG_MSEAL_SYSTEM_MAPPINGS', '?')}, "
            f"kernel-sealed: {'unknown' if sealed is None else ', '.join(sealed) or 'none'}")
    return written


def merged_results(k, qemu_version, args, notes):
    ctx = combined_context([run.get("context", {}) for _, run in k.runs], k.label)
    config_text = k.config.decode("utf-8", "replace") if k.config else None
    sealed_seen = [i["kernel_sealed_system_mappings"] for _, i in k.boots
                   if i["kernel_sealed_system_mappings"] is not None]
    ctx["vm"] = {
        "kernel_label": k.label,
        "image": k.path,
        "image_sha256": k.sha256,
        "arch": k.arch,
        "release": ctx.get("kernel", {}).get("release"),
        "accel": k.accel,
        "accel_reason": k.accel_reason,
        "qemu": qemu_version,
        "qemu_command": k.cmd,
        "initramfs_sha256": k.initrd_sha256,
        "config": None if config_text is None else {
            "source": "/proc/config.gz",
            "sha256": hashlib.sha256(config_text.encode()).hexdigest(),
            "file": f"{k.label}.config",
            "options": config_options(config_text, ["CONFIG_MSEAL_SYSTEM_MAPPINGS",
                                                    "CONFIG_CHECKPOINT_RESTORE", "CONFIG_64BIT"]),
        },
        "kernel_sealed_system_mappings": sealed_seen[0] if sealed_seen else None,
        "kernel_sealed_source": next((i["kernel_sealed_source"] for _, i in k.boots
                                      if i["kernel_sealed_source"]), None),
        "probe": next((i["probe"] for _, i in k.boots if i["probe"] is not None), None),
        "boots": [{key: v for key, v in i.items() if key != "probe"} for _, i in k.boots],
        "boots_merged": [n for n, _ in k.runs],
        "notes": notes,
    }
    partial = any(r.get("partial") for _, r in k.runs) or len(k.runs) < args.boots
    return results.document(ctx, merge_cells(k.runs), partial)
