# SPDX-License-Identifier: GPL-2.0-only
"""The inputs of `msealbench report` besides single runs: a kernel A/B directory written by
`msealbench vm`, a probe (its --json object or its TAP output), the real-program checks (any JSON
the compatibility runners write), and the kernel configuration of this system."""
import dataclasses
import gzip
import json
import os
import platform
import re

from . import results
from .results import BadInput

CONFIG_OPTIONS = ("CONFIG_MSEAL_SYSTEM_MAPPINGS", "CONFIG_ARCH_SUPPORTS_MSEAL_SYSTEM_MAPPINGS",
                  "CONFIG_CHECKPOINT_RESTORE", "CONFIG_64BIT")
MAX_INPUT_BYTES = 16 << 20


# ------------------------------------------------------------ kernel A/B directory

@dataclasses.dataclass
class KernelAB:
    directory: str
    baseline: object            # results.Run of the kernel without the option
    candidates: list            # results.Run of each other kernel


def kernel_option(run):
    """CONFIG_MSEAL_SYSTEM_MAPPINGS of a kernel A/B file: from the guest's config (msealbench vm),
    else the kernel config the run found (msealbench merge: the runs' own), else from whether
    the probe saw the kernel seal the system mappings; None when none tells."""
    vm = run.context.get("vm") if isinstance(run.context.get("vm"), dict) else None
    if vm is not None:
        config = vm.get("config") if isinstance(vm.get("config"), dict) else {}
        options = config.get("options") if isinstance(config.get("options"), dict) else {}
        sealed = vm.get("kernel_sealed_system_mappings")
    else:
        options = run.context.get("kernel_config") if isinstance(run.context.get("kernel_config"), dict) else {}
        sealed = run.context.get("kernel_sealed_system_mappings")
    value = options.get("CONFIG_MSEAL_SYSTEM_MAPPINGS")
    if value in ("y", "n"):
        return value == "y"
    return bool(sealed) if isinstance(sealed, list) else None


def is_kernel_file(run):
    """Whether a results file holds one kernel of an A/B: written by msealbench vm or lava
    (context.vm), or by msealbench merge (context.merged)."""
    return isinstance(run.context.get("vm"), dict) or isinstance(run.context.get("merged"), dict)


def load_ab(directory, baseline_label=None):
    """The kernels of a kernel A/B directory: a `msealbench vm` output directory, or one holding
    files of `msealbench merge` (its top-level *.json files with a context.vm or context.merged);
    the baseline is the kernel without CONFIG_MSEAL_SYSTEM_MAPPINGS (or baseline_label)."""
    if not os.path.isdir(directory):
        raise BadInput(f"{directory}: no such directory (a kernel A/B directory written by msealbench vm, or "
                       "holding the files of msealbench merge)")
    runs = [r for r in results.runs_in(directory) if is_kernel_file(r)]
    if len(runs) < 2:
        raise BadInput(f"{directory}: holds {len(runs)} kernel results file(s) of msealbench vm or merge; "
                       "a kernel A/B comparison needs two")
    if baseline_label is not None:
        chosen = [r for r in runs if r.label == baseline_label]
        if not chosen:
            raise BadInput(f"--baseline {baseline_label!r} names no kernel of {directory} "
                           f"(labels: {', '.join(r.label for r in runs)})")
    else:
        chosen = [r for r in runs if kernel_option(r) is False]
        if len(chosen) != 1:
            raise BadInput(f"{directory}: cannot tell which kernel is the baseline ({len(chosen)} kernels "
                           "without CONFIG_MSEAL_SYSTEM_MAPPINGS); name it with --baseline LABEL")
    base = chosen[0]
    return KernelAB(directory, base, [r for r in runs if r is not base])


# ------------------------------------------------------------ probe

@dataclasses.dataclass
class Probe:
    path: str
    form: str                   # "json" or "tap"
    rows: list                  # dicts: number, key, result, text (+ sealed, unsealed, documented)
    kernel_release: str = None
    kernel_config: dict = None
    system_mappings: list = None


TAP_ROW = re.compile(r"^(ok|not ok) (\d+) ([A-Za-z0-9_.\-\[\]]+)(?:: (.*?))?(?: # SKIP (.*))?$")
MATRIX_TEXT = re.compile(r"sealed (\w+)(?: \((E[A-Z]+)\))?, unsealed (\w+)(?: \((E[A-Z]+)\))?; "
                         r"documented (\w+)")


def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise BadInput(f"{path}: larger than {MAX_INPUT_BYTES >> 20} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None


def load_probe(path):
    """`msealbench probe --json` output, or its TAP output."""
    text = read_text(path)
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise BadInput(f"{path}: not valid JSON ({e})") from None
        return probe_from_json(path, data)
    return probe_from_tap(path, text)


def probe_from_json(path, data):
    if not isinstance(data, dict) or data.get("schema") != "msealbench-probe" or not isinstance(data.get("rows"), list):
        raise BadInput(f"{path}: not the output of msealbench probe --json (no \"schema\": \"msealbench-probe\")")
    rows = [r for r in data["rows"] if isinstance(r, dict) and isinstance(r.get("key"), str)]
    config = data.get("kernel_config") if isinstance(data.get("kernel_config"), dict) else None
    mappings = data.get("system_mappings") if isinstance(data.get("system_mappings"), list) else None
    return Probe(path, "json", rows, str(data.get("kernel_release") or "") or None, config, mappings)


def probe_from_tap(path, text):
    """Rows of the TAP stream; a matrix row's outcome comes from its text ("sealed denied (EPERM),
    unsealed allowed; documented denied (EPERM)")."""
    rows = []
    for line in text.splitlines():
        m = TAP_ROW.match(line.rstrip())
        if not m:
            continue
        result = "skip" if m.group(5) is not None else m.group(1)
        row = {"number": int(m.group(2)), "key": m.group(3), "result": result,
               "text": m.group(5) if m.group(5) is not None else (m.group(4) or "")}
        outcome = MATRIX_TEXT.search(row["text"])
        if outcome:
            row.update(sealed=outcome.group(1), sealed_errno=outcome.group(2), unsealed=outcome.group(3),
                       unsealed_errno=outcome.group(4), documented=outcome.group(5))
        rows.append(row)
    if not rows:
        raise BadInput(f"{path}: neither the JSON nor the TAP output of msealbench probe (no TAP rows)")
    return Probe(path, "tap", rows)


def probe_of_run(run):
    """The full probe object an A/B file carries (context.vm.probe), or None."""
    vm = run.context.get("vm")
    probe = vm.get("probe") if isinstance(vm, dict) else None
    if isinstance(probe, dict) and probe.get("schema") == "msealbench-probe":
        return probe_from_json(f"{run.path} (kernel {run.label})", probe)
    return None


# ------------------------------------------------------------ real-program checks

@dataclasses.dataclass
class Checks:
    path: str
    title: str
    header: list
    rows: list


def load_checks(path, columns=8):
    """Any JSON of the real-program checks (msealbench vm --compat, msealbench try): its first
    list of objects (the document itself, or a value of it) as a table of their plain fields."""
    text = read_text(path)
    try:
        data = json.loads(text)
    except ValueError as e:
        raise BadInput(f"{path}: not valid JSON ({e})") from None
    title = str(data.get("schema") or data.get("command") or "") if isinstance(data, dict) else ""
    candidates = [data] if isinstance(data, list) else [v for v in data.values() if isinstance(v, list)] \
        if isinstance(data, dict) else []
    items = next((c for c in candidates if c and all(isinstance(i, dict) for i in c)), None)
    if items is None:
        raise BadInput(f"{path}: holds no list of results (a JSON list of objects, or an object with one)")
    header = []
    for item in items:
        header += [k for k, v in item.items() if k not in header and not isinstance(v, (dict, list))]
    header = header[:columns]
    rows = [["" if item.get(k) is None else str(item.get(k)) for k in header] for item in items]
    return Checks(path, title, header, rows)


# ------------------------------------------------------------ this system

def system_config():
    """(source, {option: "y"/"m"/"n"}) of the running kernel's configuration, from
    /proc/config.gz or /boot/config-<release>; (None, {}) when neither is readable."""
    release = platform.release()
    for source, opener in (("/proc/config.gz", gzip.open), (f"/boot/config-{release}", open)):
        try:
            with opener(source, "rt", encoding="utf-8", errors="replace") as f:
                text = f.read(4 << 20)
        except (OSError, EOFError):
            continue
        options = {}
        for name in CONFIG_OPTIONS:
            m = re.search(rf"^{name}=(\S+)", text, re.M)
            options[name] = m.group(1) if m else "n"
        return source, options
    return None, {}
