#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""plots/validate.py driven by the synthetic runner (plots/synth.py run), so the
statistics of the validation are checked against a slowdown that is known."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, ok, done  # noqa: E402

VALIDATE = os.path.join(TOP, "plots", "validate.py")
SYNTH = os.path.join(TOP, "plots", "synth.py")
WORK = tempfile.mkdtemp(prefix="msealbench-t_validate.")


def run_validate(runner, *args):
    env = dict(os.environ, MSEALBENCH=runner)
    result = subprocess.run([sys.executable, VALIDATE, *args], capture_output=True, text=True,
                            timeout=300, env=env)
    return result.returncode, result.stdout, result.stderr


def row(out, family):
    for line in out.splitlines():
        if line.startswith(family + " "):
            return line
    return ""


def found_share(line, column):
    """The found/total of the column-th rate in a table row, as a fraction."""
    rates = re.findall(r"(\d+)/(\d+) \(", line)
    if len(rates) <= column:
        return None
    found, total = map(int, rates[column])
    return found / total if total else None


def test_synthetic_validation():
    log = os.path.join(WORK, "argv.log")
    # Records what validate asks of the runner, then runs the synthetic one.
    runner = (f"sh -c 'echo \"$*\" >> {shlex.quote(log)}; exec {shlex.quote(sys.executable)} "
              f"{shlex.quote(SYNTH)} \"$@\"' runner")
    status, out, err = run_validate(runner, "--trials", "2", "--quick", "--filter", "vdso,mremap",
                                    "--bootstrap", "300")
    ok(status in (0, 1) and "target" in out, "validate prints its table", f"status {status}: {err}")
    vdso, mremap = row(out, "vdso"), row(out, "mremap")
    ok(vdso and mremap, "one row per family", out)
    ok(found_share(vdso, 0) is not None and found_share(vdso, 0) <= 0.25,
       "synthetic A/A (same distribution): few false regressions", vdso)
    ok(found_share(mremap, 4) is not None and found_share(mremap, 4) >= 0.8,
       "synthetic 5% slowdown is found in most mremap cells", mremap)
    ok(re.search(r"(met|MISSED) +vdso: 5% slowdown found", out), "targets are checked and printed", out)
    ok(re.search(r"(met|MISSED) +vdso: minimum detectable effect [0-9.]+% <= 1%", out),
       "the MDE is checked against the runs' own precision target (vdso 1%)", out)
    ok(re.search(r"(met|MISSED) +cells answered \(equivalent, regression or improvement\) \d+/\d+", out),
       "the share of cells answered is checked against 90%", out)
    noise = out.split("Where the variance comes from", 1)[-1]
    ok("between processes" in noise and re.search(r"^vdso +[0-9.]+% +[0-9.]+% +[0-9.]+% +[0-9.]+%", noise, re.M),
       "validate says where the variance comes from, per family (two trials: between runs too)", noise[:600])
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    ok(len(calls) == 8, "two trials make eight runs", str(len(calls)))
    joined = "\n".join(calls)
    ok("run --seal none,sysmap" in joined and "--inject-delay 2%:sysmap" in joined and "--quick" in joined
       and "--filter vdso,mremap" in joined, "runner gets seal modes, injected delay, quick and filter", joined[:300])
    return out


def test_two_views(out):
    """The same runs tallied raw and per reference (synth writes getppid probes like the runner)."""
    raw, _, scaled = out.partition("per reference: each comparison scaled as compare --per-reference scales it")
    ok(scaled and "raw: the figures as measured" in raw and row(raw, "vdso") and row(scaled, "vdso")
       and found_share(row(scaled, "mremap"), 4) is not None,
       "validate prints a second table per reference below the raw one", out[:900])
    ok(re.search(r"^per reference: \d+ of \d+ targets met", out, re.M), "and a line with its verdict on the targets",
       out[-900:])
    runner = (f"sh -c 'exec {shlex.quote(sys.executable)} {shlex.quote(SYNTH)} \"$@\" --reference none' runner")
    status, out, err = run_validate(runner, "--trials", "2", "--quick", "--filter", "vdso", "--bootstrap", "200")
    ok(status in (0, 1) and row(out, "vdso") and "per reference" not in out and "raw:" not in out,
       "runs without probes: the raw table only", f"status {status}: {err[-300:]} {out[:300]}")


def test_from_kept_files():
    """--from DIR tallies what --keep DIR left, without running: the same tables."""
    kept = os.path.join(WORK, "kept")
    runner = f"{shlex.quote(sys.executable)} {shlex.quote(SYNTH)}"
    status, out, err = run_validate(runner, "--trials", "2", "--quick", "--filter", "vdso", "--bootstrap", "200",
                                    "--keep", kept)
    status2, out2, err2 = run_validate(os.path.join(WORK, "no-such-runner"), "--from", kept, "--bootstrap", "200")
    ok(status in (0, 1) and status2 == status and out2.splitlines()[1:] == out.splitlines()[1:]
       and "tallied from the files kept in " + kept in out2.splitlines()[0],
       "validate --from DIR: the tables of the run that kept DIR, without a runner", f"{status2} {err2[-300:]}")
    os.remove(os.path.join(kept, "trial1-delay5.json"))
    status, out, err = run_validate(runner, "--from", kept)
    ok(status == 2 and len(err.strip().splitlines()) == 1 and "1 complete trial(s)" in err and kept in err,
       "validate --from a directory of one complete trial: exit 2, one line", err)


def test_runner_problems():
    status, out, err = run_validate(os.path.join(WORK, "no-such-runner"), "--trials", "1")
    ok(status == 2 and "not found" in err and "Traceback" not in err, "missing runner: exit 2, clear message",
       f"status {status}: {err}")
    status, out, err = run_validate("false", "--trials", "1")
    ok(status == 2 and "exit 1" in err and "Traceback" not in err, "failing runner: exit 2 naming the command",
       f"status {status}: {err}")


try:
    test_two_views(test_synthetic_validation())
    test_from_kept_files()
    test_runner_problems()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
done()
