#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Prints the harness's own performance targets as measured here (a benchmark script, not a
test: it reports numbers and whether each target is met; exit 1 when one is missed).

  empty op <= 1 ns; vDSO clock_gettime within 5% of a bare loop of the same vDSO entry measured in the same run;
  run-to-run CV of the vDSO medians <= 2% at default settings; `run --quick` of the vDSO family
  in <= 20 s.
"""
import argparse
import os
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import cli, results, stats  # noqa: E402

PROG = "targets.py"
MSEALBENCH = os.environ.get("MSEALBENCH", os.path.join(TOP, "build", "msealbench"))
BARE = os.path.join(os.path.dirname(MSEALBENCH), "helpers", "bare_vdso_loop_dynamic")


def checked(cmd):
    """Runs cmd as a child that dies with this script; its output, or a Failure naming it."""
    p = cli.run_child(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["no message"])[-1]
        raise cli.Failure(f"{' '.join(cmd[:2])} failed (exit {p.returncode}): {last}", status=2)
    return p.stdout


def run_suite(args, out):
    checked([MSEALBENCH, "run", "--quiet", "--out", out] + args)
    return results.load_run(out)


def medians(run, seal="none"):
    return {c.benchmark: stats.median(c.samples) for c in run.ok_cells() if c.seal == seal}


def cpu_of(run):
    cpu = run.context["options"]["cpu"]
    return [] if cpu is None else [str(cpu)]


def bare_loop_median(cpu, which="vdso", repeats=30):
    return stats.median([float(x) for x in checked([BARE, which, "40000", str(repeats)] + cpu).split()])


def report(name, value, target, met):
    print(f"{name:48s} {value:>12s}   target {target:14s} {'met' if met else 'MISSED'}")
    return met


def parse_args(argv):
    ap = cli.Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=cli.number_in(int, 2, 100), default=3,
                    help="runs for the run-to-run CV (default 3; 2 to 100)")
    return ap.parse_args(argv)


def targets(opts):
    for path in (MSEALBENCH, BARE):
        if not os.access(path, os.X_OK):
            raise cli.Failure(f"{path} is not built (run make)")
    all_met = True
    with tempfile.TemporaryDirectory(prefix="msealbench-targets-") as tmp:
        # Bare loop before and after the harness's run, so both see the same machine state.
        cpu = [str(os.sched_getaffinity(0) and max(os.sched_getaffinity(0)))]  # the runner's default CPU
        before = bare_loop_median(cpu)
        focus = run_suite(["--filter", "harness.empty,vdso.clock_gettime.monotoni[c]", "--seal", "none"],
                          os.path.join(tmp, "focus.json"))
        if cpu != cpu_of(focus):
            raise cli.Failure(f"the run pinned to CPU {cpu_of(focus)}, the bare loop to {cpu}", status=3)
        bare = stats.median([before, bare_loop_median(cpu)])
        m = medians(focus)
        empty, vdso = m["harness.empty"], m["vdso.clock_gettime.monotonic"]
        all_met &= report("harness.empty ns/op", f"{empty:.3f}", "<= 1 ns", empty <= 1.0)
        dev = vdso / bare - 1
        all_met &= report("vdso clock_gettime vs a bare loop of the same entry",
                          f"{vdso:.2f}/{bare:.2f} ns", "within 5%", abs(dev) <= 0.05)
        libc = bare_loop_median(cpu, "libc")
        print(f"{'':48s} ({100 * dev:+.1f}%; libc's clock_gettime wrapper: {libc:.2f} ns)")

        per_run = []
        for i in range(opts.runs):
            per_run.append(medians(run_suite(["--filter", "vdso", "--seal", "none"],
                                             os.path.join(tmp, f"cv{i}.json"))))
        cvs = {}
        for name in per_run[0]:
            vals = [r[name] for r in per_run if name in r]
            if len(vals) == opts.runs:
                cvs[name] = stats.coefficient_of_variation(vals)
        worst = max(cvs, key=cvs.get)
        all_met &= report(f"run-to-run CV of vDSO medians ({opts.runs} runs), median",
                          f"{100 * stats.median(cvs.values()):.2f}%", "<= 2%",
                          stats.median(cvs.values()) <= 0.02)
        report("  worst benchmark: " + worst, f"{100 * cvs[worst]:.2f}%", "(information)", True)

        start = time.monotonic()
        run_suite(["--quick", "--filter", "vdso"], os.path.join(tmp, "quick.json"))
        took = time.monotonic() - start
        all_met &= report("run --quick --filter vdso (both seal modes)", f"{took:.1f} s", "<= 20 s", took <= 20)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(cli.guarded(PROG, targets, parse_args(sys.argv[1:]), {results.BadInput: 2}))
