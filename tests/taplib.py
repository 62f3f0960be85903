# SPDX-License-Identifier: GPL-2.0-only
"""TAP helpers for python tests: ok/notok/skip lines that tests/run.sh counts."""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time

TOP = os.environ.get("MSEALBENCH_TOP", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MSEALBENCH = os.environ.get("MSEALBENCH", os.path.join(TOP, "build", "msealbench"))
_failures = 0


def reachable_copy(path, directory):
    """A copy of `path` in `directory` that any user can read and run: tests that switch to an
    unprivileged user must work from a checkout in a 0700 directory too."""
    os.chmod(directory, os.stat(directory).st_mode | 0o755)
    copy = os.path.join(directory, os.path.basename(path))
    shutil.copy(path, copy)
    os.chmod(copy, 0o755)
    return copy


def processes_marked(name, value):
    """PIDs of the processes whose environment holds name=value: a test marks what it starts
    (children inherit the mark) and finds out which of them are still alive."""
    needle = f"{name}={value}\0".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def wait_for(condition, seconds, step=0.05):
    """condition()'s first true value within seconds, else its value at the end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


@contextlib.contextmanager
def small_tmpfs(path, size):
    """A tmpfs of size (e.g. "1m") mounted at path (created) for the with block, unmounted after.
    Yields None, or why it could not be mounted (the caller skips)."""
    os.makedirs(path, exist_ok=True)
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], check=True,
                       capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        yield f"cannot mount a tmpfs: {getattr(e, 'stderr', b'') or e}"
        return
    try:
        yield None
    finally:
        subprocess.run(["umount", path], capture_output=True, timeout=30)


RESULTS_SCHEMA = os.path.join(TOP, "results", "schema-v1.json")
SYSTEM_PYTHON = "/usr/bin/python3"   # Debian's, where python3-jsonschema installs
_VALIDATE = """
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(schema)
for path in sys.argv[2:]:
    error = next(iter(sorted(validator.iter_errors(json.load(open(path))), key=str)), None)
    print(json.dumps([path, None if error is None else
                      f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message[:300]}"]))
"""


def schema_errors(paths):
    """{path: None or the first way it breaks results/schema-v1.json}, validated by Debian's
    python3-jsonschema; None (skip, say why) when that is not installed."""
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import jsonschema"], capture_output=True)
    if probe.returncode != 0:
        return None
    out = subprocess.run([SYSTEM_PYTHON, "-c", _VALIDATE, RESULTS_SCHEMA] + list(paths),
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        return {path: f"validator failed: {out.stderr.strip()[-300:]}" for path in paths}
    return dict(json.loads(line) for line in out.stdout.splitlines())


def compare_json(*args):
    """(exit status, compare's JSON report or None, stderr) of `msealbench compare --format json`
    on args, with 500 bootstrap resamples (enough for the tests' verdicts, and quick)."""
    r = subprocess.run([MSEALBENCH, "compare", "--format", "json", "--bootstrap", "500", *args],
                       capture_output=True, text=True, timeout=120)
    try:
        return r.returncode, json.loads(r.stdout), r.stderr
    except json.JSONDecodeError:
        return r.returncode, None, r.stderr


def check_schema(paths, what):
    """One TAP line: every file of paths validates against results/schema-v1.json."""
    errors = schema_errors(paths)
    if errors is None:
        return skip(what, f"no python3-jsonschema for {SYSTEM_PYTHON} (make deps-check installs it)")
    bad = {p: e for p, e in errors.items() if e}
    return ok(not bad and len(errors) == len(paths), what, "; ".join(f"{p}: {e}" for p, e in bad.items()))


def ok(cond, what, detail=""):
    global _failures
    if cond:
        print(f"ok - {what}")
    else:
        _failures += 1
        print(f"not ok - {what}" + (f": {detail}" if detail else ""))
    sys.stdout.flush()
    return cond


def skip(what, why):
    print(f"ok - {what} # SKIP {why}")


def done():
    sys.exit(1 if _failures else 0)
