# SPDX-License-Identifier: GPL-2.0-only
"""The results file (schema v1, results/README.md and results/schema-v1.json): the one reader
(load_run: into plain objects) and the one Python writer (document, cell_summary, write_run),
which the VM merge and synth write through.

Anything a reader cannot trust raises BadInput with a one-line message that names the
file and the problem; callers turn it into exit status 2.
"""
import dataclasses
import gzip
import io
import json
import os
import stat
import zlib

from . import cli, stats

SCHEMA_NAME = "msealbench-results"
SCHEMA_VERSION = 1               # what write_run writes
KNOWN_SCHEMA_VERSIONS = (1,)
SUMMARY_FIELDS = ("n", "median", "mean", "stddev", "cv", "min", "max", "p5", "p95")
CELL_STATUSES = ("ok", "skipped", "failed")
MAX_FILE_BYTES = 64 << 20        # results/README.md: larger files are refused
RESULTS_SUFFIXES = (".json", ".json.gz")  # a results file, plain or gzip-compressed
GZIP_MAGIC = b"\x1f\x8b"
TIME_RANGE = (1e-6, 1e15)        # ns per operation: a sample outside is not a measurement
COUNTER_RANGE = (0, 1e15)        # counter events per operation
PARAM_LIMIT = 1e18               # magnitude of a numeric parameter value
ROUND_LIMIT = 1 << 31


class BadInput(Exception):
    """Input that cannot be compared or plotted; str() is the message for the user."""


@dataclasses.dataclass
class Cell:
    benchmark: str
    family: str
    params: dict
    seal: str
    unit: str
    status: str
    reason: str
    samples: list
    rounds: list
    counters: dict          # counted event name -> per-sample values
    notes: list
    boots: list = dataclasses.field(default_factory=list)  # per sample, the boot it ran in (msealbench vm)
    reference: list = None  # per sample, ns of one getppid(2) around it (reference_ns), or None

    @property
    def key(self):
        """What matches a cell across files: benchmark, parameter values, seal mode."""
        return (self.benchmark, params_key(self.params), self.seal)

    @property
    def params_text(self):
        return params_text(self.params)

    def describe(self):
        return f"{self.benchmark} [{self.params_text}] seal={self.seal}"


@dataclasses.dataclass
class Run:
    path: str
    label: str
    date: str
    partial: bool
    context: dict
    cells: list

    def ok_cells(self):
        return [c for c in self.cells if c.status == "ok" and c.samples]

    def seal_modes(self):
        return sorted({c.seal for c in self.cells}, key=seal_order(self))


# The order of files that predate context.seal_modes (the table of the C side, src/seal.c).
V1_SEAL_ORDER = ("none", "sysmap", "all")


def seal_order(*runs):
    """A sort key for seal-mode names: the order of the table the runs' context.seal_modes
    carries (the C side's seal table: none first, the baseline), then unknown names by name."""
    order = []
    for run in runs:
        table = run.context.get("seal_modes") if isinstance(run.context, dict) else None
        names = [m.get("name") for m in table if isinstance(m, dict)] if isinstance(table, list) else []
        order += [n for n in names if isinstance(n, str) and n not in order]
    order += [n for n in V1_SEAL_ORDER if n not in order]
    rank = {name: i for i, name in enumerate(order)}
    return lambda seal: (rank.get(seal, len(rank)), seal)


def is_number(value):
    """An int or float from JSON (not a bool, which Python counts as an int)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def params_key(params):
    return tuple(sorted((str(k), json.dumps(v, sort_keys=True)) for k, v in params.items()))


def params_text(params):
    if not params:
        return "-"
    return ",".join(f"{k}={v}" for k, v in params.items())


def load_run(path):
    return load_document(path)[1]


def load_document(path):
    """(the file's JSON, its Run): for a writer that keeps what it does not parse (the merge)."""
    data = _read_json(path)
    _check_schema(path, data)
    context = data.get("context")
    if not isinstance(context, dict):
        raise BadInput(f"{path}: \"context\" is missing or not an object")
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise BadInput(f"{path}: \"cells\" is missing or not a list")
    parsed = [_parse_cell(path, index, raw) for index, raw in enumerate(cells)]
    _refuse_duplicates(path, parsed)
    return data, Run(path=path, label=_run_label(path, context), date=str(context.get("date") or ""),
                     partial=bool(data.get("partial")), context=context, cells=parsed)


def _read_json(path):
    """The JSON of a file of at most MAX_FILE_BYTES, plain or gzip-compressed (the limit holds
    for the decompressed text, so a gzip bomb ends early); anything else is BadInput. A pipe
    or device is read up to the limit, so /dev/zero ends too."""
    try:
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
                raise BadInput(f"{path}: {info.st_size} bytes, larger than results files may be "
                               f"({MAX_FILE_BYTES >> 20} MiB)")
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory, expected a results file") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"{path}: more than {MAX_FILE_BYTES >> 20} MiB, larger than results files may be")
    if data.startswith(GZIP_MAGIC):
        data = _gunzipped(path, data)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not a results file (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: not valid JSON (line {e.lineno} column {e.colno}: {e.msg})") from None
    except ValueError as e:   # an integer of more digits than Python converts
        raise BadInput(f"{path}: not a results file ({e})") from None
    except RecursionError:
        raise BadInput(f"{path}: not a results file (nested too deeply)") from None


def _gunzipped(path, data):
    """The decompressed bytes of a gzip file, read no further than MAX_FILE_BYTES + 1."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            text = f.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise BadInput(f"{path}: damaged gzip data ({e or 'truncated'})") from None
    if len(text) > MAX_FILE_BYTES:
        raise BadInput(f"{path}: decompresses to more than {MAX_FILE_BYTES >> 20} MiB, larger than "
                       "results files may be")
    return text


def _check_schema(path, data):
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_NAME:
        raise BadInput(f"{path}: not a msealbench results file (no \"schema\": \"{SCHEMA_NAME}\")")
    version = data.get("schema_version")
    if version not in KNOWN_SCHEMA_VERSIONS or isinstance(version, bool):
        known = ", ".join(str(v) for v in KNOWN_SCHEMA_VERSIONS)
        raise BadInput(f"{path}: schema_version {version!r} is not known here (this reader knows {known})")


def _run_label(path, context):
    label = context.get("label")
    if isinstance(label, str) and label.strip():
        return label.strip()
    return results_stem(os.path.basename(path))


def is_results_name(name):
    return name.endswith(RESULTS_SUFFIXES)


def results_stem(name):
    """A file name without .json or .json.gz."""
    for suffix in sorted(RESULTS_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _parse_cell(path, index, raw):
    where = f"{path}: cell {index}"
    if not isinstance(raw, dict):
        raise BadInput(f"{where} is not an object")
    benchmark = _require(where, raw, "benchmark", str)
    where = f"{path}: cell {index} ({benchmark})"
    seal = _require(where, raw, "seal", str)
    params = _optional(where, raw, "params", dict, {})
    for name, value in params.items():
        if not (isinstance(value, (str, bool)) or _in_range(value, -PARAM_LIMIT, PARAM_LIMIT)):
            raise BadInput(f"{where}: \"params\".{name} is {_shown(value)}: expected a string or a "
                           f"number of magnitude at most {PARAM_LIMIT:g}")
    status = _require(where, raw, "status", str)
    if status not in CELL_STATUSES:
        raise BadInput(f"{where}: unknown status {status!r} (expected ok, skipped or failed)")
    samples = _numbers(where, "samples", _optional(where, raw, "samples", list, []), TIME_RANGE)
    rounds = _per_sample_numbers(where, "rounds", raw.get("rounds"), len(samples)) if samples else []
    boots = raw.get("boots")  # files merged by msealbench vm: the boot of each sample
    boots = _per_sample_numbers(where, "boots", boots, len(samples)) if samples and boots is not None else []
    reference = _reference_probes(where, raw.get("reference_ns"), len(samples)) if samples else None
    notes = _optional(where, raw, "notes", list, [])
    if not all(isinstance(n, str) for n in notes):
        raise BadInput(f"{where}: \"notes\" must be a list of strings")
    return Cell(benchmark=benchmark, family=_optional(where, raw, "family", str, benchmark.split(".")[0]),
                params=params, seal=seal, unit=_optional(where, raw, "unit", str, "ns/op"),
                status=status, reason=_optional(where, raw, "reason", str, ""),
                samples=samples, rounds=rounds,
                counters=_counted_values(where, raw.get("counters"), len(samples)), notes=notes,
                boots=boots, reference=reference)


def _require(where, raw, key, kind):
    value = raw.get(key)
    if not isinstance(value, kind) or (kind is str and not value):
        raise BadInput(f"{where}: \"{key}\" is missing or not a {kind.__name__}")
    return value


def _optional(where, raw, key, kind, default):
    """raw[key] when it is a kind, default when it is missing or null (or an empty string)."""
    value = raw.get(key)
    if value is None or value == "":
        return default
    if not isinstance(value, kind) or isinstance(value, bool):
        names = {dict: "an object", list: "a list", str: "a string"}
        raise BadInput(f"{where}: \"{key}\" is {_shown(value)}: expected {names[kind]} or null")
    return value


def _in_range(value, low, high):
    """A JSON number in [low, high]; exact for integers of any size, false for NaN."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def _shown(value):
    text = json.dumps(value) if isinstance(value, (str, list, dict)) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _numbers(where, key, values, bounds, nulls=False):
    for position, value in enumerate(values):
        if not (_in_range(value, *bounds) or (nulls and value is None)):
            raise BadInput(f"{where}: \"{key}\" must be finite numbers in [{bounds[0]:g}, {bounds[1]:g}]; "
                           f"item {position} is {_shown(value)}")
    return [v if v is None else float(v) for v in values]


def _per_sample_numbers(where, key, values, count):
    """rounds or boots: one integer in [0, ROUND_LIMIT] per sample."""
    noun = key[:-1]
    if not isinstance(values, list) or len(values) != count:
        raise BadInput(f"{where}: \"{key}\" must list one {noun} per sample ({count} samples)")
    if not all(isinstance(v, int) and _in_range(v, 0, ROUND_LIMIT) for v in values):
        raise BadInput(f"{where}: \"{key}\" must be integers in [0, {ROUND_LIMIT}]")
    return values


def _reference_probes(where, values, count):
    """reference_ns: one probe time per sample (ns, in TIME_RANGE, or null where the runner's clock
    could not time it), or None when not recorded or any entry is null (then no probes to use)."""
    if values is None:
        return None
    if not isinstance(values, list) or len(values) != count:
        raise BadInput(f"{where}: \"reference_ns\" must list one probe time per sample ({count} samples) or be null")
    probes = _numbers(where, "reference_ns", values, TIME_RANGE, nulls=True)
    return None if None in probes else probes


def _counted_values(where, counters, count):
    """Counter series with one value per sample. A series with a null (not counted in
    some sample) or of another length is left out; values of a wrong type or out of
    range are bad input."""
    counters = _optional(where, {"counters": counters}, "counters", dict, {})
    series = _optional(where, counters, "values", dict, {})
    usable = {}
    for name, values in series.items():
        field = f"counters.values.{name}"
        values = _optional(where, {field: values}, field, list, [])
        values = _numbers(where, field, values, COUNTER_RANGE, nulls=True)
        if count and len(values) == count and None not in values:
            usable[name] = values
    return usable


def _refuse_duplicates(path, cells):
    seen = {}
    for cell in cells:
        if cell.key in seen:
            raise BadInput(f"{path}: two cells for {cell.describe()}")
        seen[cell.key] = cell


def runs_in(path):
    """The results files of a directory (every *.json and *.json.gz), loaded; BadInput if none.
    A link to a file already listed (make bench's results/latest.json) counts once."""
    if not os.path.isdir(path):
        raise BadInput(f"{path}: no such directory")
    files, seen = [], set()
    for name in sorted(n for n in os.listdir(path) if is_results_name(n)):
        full = os.path.join(path, name)
        if os.path.realpath(full) not in seen:
            seen.add(os.path.realpath(full))
            files.append(full)
    if not files:
        raise BadInput(f"{path}: holds no results files (*.json, *.json.gz)")
    return [load_run(f) for f in files]


def natural_key(text):
    """Sort key that orders 6.9 before 6.10 and run-2 before run-10."""
    parts, digits = [], ""
    for ch in text + "\0":
        if ch.isdigit():
            digits += ch
            continue
        if digits:
            parts.append((0, int(digits), ""))
            digits = ""
        if ch != "\0":
            parts.append((1, 0, ch))
    return parts


def order_runs(runs, order):
    """Runs sorted by "date" (context.date, then file name), "label" or "files" (as given)."""
    if order == "date":
        return sorted(runs, key=lambda r: (r.date, r.path))
    if order == "label":
        return sorted(runs, key=lambda r: natural_key(r.label))
    return list(runs)


def latest_run_path(directory):
    """The newest results file of a directory by context.date; BadInput if there is none."""
    if os.path.isdir(directory) and not any(is_results_name(n) for n in os.listdir(directory)):
        raise BadInput(f"{directory}: holds no results files yet: run `make bench`, or name a file")
    runs = runs_in(directory)
    return max(runs, key=lambda r: (r.date, r.path)).path


def select_runs(inputs, history=False, order="date"):
    """("run", [run]), ("files", [base, candidate]) or ("history", runs in order) from the
    inputs: one file, two files, or a directory, more than two files or history=True."""
    if len(inputs) == 1 and os.path.isdir(inputs[0]):
        runs = runs_in(inputs[0])
        if len(runs) < 2:
            raise BadInput(f"{inputs[0]}: a history needs at least two results files")
        return "history", order_runs(runs, order)
    if any(os.path.isdir(p) for p in inputs):
        raise BadInput("pass either one directory or results files, not both")
    runs = [load_run(p) for p in inputs]
    if history or len(runs) > 2:
        if len(runs) < 2:
            raise BadInput(f"{inputs[0]}: a history needs at least two results files")
        return "history", order_runs(runs, order)
    return ("run" if len(runs) == 1 else "files"), runs


# ------------------------------------------------------------------ writing

def cell_summary(samples):
    """A cell's "summary" block as src/results.c writes it; None without samples."""
    if not samples:
        return None
    summary = stats.summarize(samples)
    return {name: summary[name] for name in SUMMARY_FIELDS}


def document(context, cells, partial=False):
    """A results document of the schema this module writes."""
    return {"schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION, "partial": bool(partial),
            "context": context, "cells": cells}


def write_run(path, data):
    """Writes a results document to path whole or not at all (cli.write_file), in its
    directory, created if needed; standard JSON only (no NaN), gzip-compressed when path ends in
    .gz; OutputError, and nothing written, when the text would be larger than readers take."""
    text = (json.dumps(data, indent=1, allow_nan=False) + "\n").encode("utf-8")
    if len(text) > MAX_FILE_BYTES:
        raise cli.OutputError(f"{path}: the results would be {len(text) / (1 << 20):.0f} MiB, more than results "
                              f"files may be ({MAX_FILE_BYTES >> 20} MiB); not written")
    cli.make_directory(os.path.dirname(os.path.abspath(path)))
    cli.write_file(path, gzip.compress(text, mtime=0) if path.endswith(".gz") else text)
