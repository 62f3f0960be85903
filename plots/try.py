#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench try: what happens to a program when its mappings are sealed, without a new kernel.

  msealbench try [--seal sysmap|all] [--runs N] [--margin P%] [--json FILE] -- COMMAND ARGS...
  msealbench try [--seal sysmap|all] [--runs N] ... --list FILE|default

Sealing is dropped at exec, so a wrapper cannot seal for the program it starts. The command runs
with libmsealbench-seal.so preloaded (LD_PRELOAD): its constructor seals the program's mappings
after its libraries are mapped, before main. --seal sysmap (the default) seals the system mappings
([vdso], [vvar], [vvar_vclock]: what CONFIG_MSEAL_SYSTEM_MAPPINGS seals at exec; [vsyscall] cannot
be sealed), --seal all also every file-backed mapping (program and libraries, as glibc's
GNU_PROPERTY_MEMORY_SEAL support would). Programs the command starts are sealed too.

The command runs --runs times plain (the library loaded, sealing nothing) and --runs times sealed,
interleaved in an order shuffled per round. Reported per mode: exit status or signal, the first
differing output lines (stdout, stderr) of plain against sealed, whether the library sealed (and
what), and the wall time: the ratio sealed/plain with its bootstrap CI and the verdict of
plots/msb/comparison.py (equivalent within +-margin, regression, ...). A statically linked command
ignores LD_PRELOAD: it is reported as "cannot seal a static program", not as a clean run.
--list runs every 'run' entry of a program list (vm/compat-default.list for 'default'; its
'file' lines are for msealbench vm --compat).

Exit status: 0 every program sealed, behaving and timing alike (or inconclusive time);
1 a program behaved differently sealed, or its time regressed; 4 a program could not be sealed
(static, or the library did not run in it); 2 bad usage; 3 internal error; 128+N stopped by signal N.
"""
import argparse
import os
import random
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from msb import cli, compat, comparison, elf, stats, tables
from msb.results import Cell

PROG = "msealbench try"
LIBRARY = "libmsealbench-seal.so"
CANNOT_SEAL = 4
MIN_RUNS, MAX_RUNS, CHECK_EVERY = 10, 200, 5
WALL, CPU = 1, 4      # a run's wall and CPU seconds in run_once's tuple
SETTLED = (comparison.EQUIVALENT, comparison.REGRESSION, comparison.IMPROVEMENT)


def parse_args(argv):
    p = cli.Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seal", choices=("sysmap", "all"), default="sysmap",
                   help="what the sealed runs seal (default sysmap)")
    p.add_argument("--runs", type=cli.number_in(int, 1, 10000),
                   help="runs per mode, interleaved (at least 4 for a time verdict); default: from "
                        f"{MIN_RUNS} on, until the wall-time verdict settles, {MAX_RUNS} runs or --budget "
                        f"(after {comparison.MIN_DECIDING_ROUNDS} runs at least)")
    p.add_argument("--budget", type=cli.number_in(float, 1, 86400), default=30,
                   help="seconds per program without --runs (default 30)")
    p.add_argument("--margin", type=cli.percent, default=0.05,
                   help="equivalence margin of the wall-time ratio (default 5%%)")
    p.add_argument("--timeout", type=cli.number_in(float, 0.1, 86400), default=120,
                   help="seconds a run may take before it is killed (default 120)")
    p.add_argument("--seed", type=cli.SEED, default=1, help="seed of the run order and bootstrap")
    p.add_argument("--json", metavar="FILE", help="also write the findings as JSON")
    p.add_argument("--list", metavar="FILE", help="run the programs of a list file ('default': "
                   "the list msealbench ships)")
    p.add_argument("--library", metavar="PATH", help=f"the preload library (default: {LIBRARY} "
                   "of the build or installation)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = p.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if bool(args.command) == bool(args.list):
        p.error("give either -- COMMAND ARGS... or --list FILE")
    return args


def find_library(given):
    path = given or compat.suite_file(LIBRARY, LIBRARY)
    if not path or not os.path.isfile(path):
        raise cli.Failure(f"{given or LIBRARY}: the preload library is missing (build it: make)")
    return os.path.abspath(path)


def resolve(program):
    """The file the command's first word runs, or a Failure naming it."""
    found = program if "/" in program else shutil.which(program)
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise cli.Failure(f"{program}: no such program (or not executable)")
    return os.path.abspath(found)


def read_reports(path):
    """The library's report lines: [(kind, pid, mode, number, exe, rest)]."""
    rows = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                if len(fields) == 6 and fields[1].isdigit() and fields[3].lstrip("-").isdigit():
                    rows.append((fields[0], int(fields[1]), fields[2], int(fields[3]), fields[4], fields[5]))
    except OSError:
        pass
    return rows


def run_once(argv, mode, library, report, timeout):
    """One run: (Outcome, wall seconds, the library's report rows, the pid, CPU seconds of the
    command and its children)."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = library + (" " + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    env["MSEALBENCH_SEAL"] = mode
    env["MSEALBENCH_SEAL_REPORT"] = report
    env.pop("MSEALBENCH_SEAL_STOP", None)
    with open(report, "w"):
        pass
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = cli.spawn(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\n[msealbench try: killed after {timeout:g} s]\n".encode()
    seconds = time.monotonic() - start
    cli.finished(proc)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return (compat.Outcome.from_returncode(proc.returncode, out, err), seconds, read_reports(report), proc.pid,
            cpu)


def sealing_state(runs, mode):
    """Did the library seal the command's own process in every run of mode? A dict for the report."""
    own = []
    processes = failed = 0
    for _, _, rows, pid, _ in runs:
        mine = [r for r in rows if r[1] == pid]
        own.append(mine[-1] if mine else None)
        processes += len(rows)
        failed += sum(1 for r in rows if r[0] == "failed")
    state = {"processes_reporting": processes, "failures": failed}
    if all(r is None for r in own):
        state.update(state="not sealed", why="the library never ran in the command's process "
                     "(statically linked, setuid, or it clears LD_PRELOAD)")
    elif any(r is None for r in own):
        state.update(state="not sealed", why="the library ran in some runs only")
    elif any(r[0] == "failed" for r in own):
        bad = next(r for r in own if r[0] == "failed")
        state.update(state="not sealed", why=f"sealing failed in {bad[4]}: {bad[5]}")
    else:
        last = own[-1]
        state.update(state="sealed" if mode != "none" else "loaded", program=last[4],
                     mappings=last[3], system_mappings=last[5].split())
    return state


def time_verdict(plain, sealed, mode, settings):
    """The comparison of two modes' times, by plots/msb/comparison.py (runs paired by round)."""
    def cell(seal, seconds):
        return Cell("try", "try", {}, seal, "s", "ok", None, list(seconds), list(range(len(seconds))), {}, [])
    result = comparison.compare_metric(cell("none", plain), cell(mode, sealed), comparison.TIME,
                                       settings, ("none", mode), True)
    if isinstance(result, str):
        return {"verdict": "not compared", "why": result}
    return {"verdict": result.verdict, "ratio": result.ratio, "ci_low": result.ci_low,
            "ci_high": result.ci_high, "why": result.why, "more_runs": result.more_rounds,
            "plain_median_s": result.base_median, "sealed_median_s": result.cand_median,
            "plain_cv": result.base_cv, "sealed_cv": result.cand_cv}


def settled(runs, mode, settings):
    """Whether more runs are not needed: the wall-time verdict is settled, or the CPU time is
    equivalent. A regression in CPU time alone is left to the whole budget to confirm (each look
    at the data is a chance of a false one)."""
    def verdict(k):
        return time_verdict([r[k] for r in runs["none"]], [r[k] for r in runs[mode]], mode, settings)["verdict"]
    return verdict(WALL) in SETTLED or verdict(CPU) == comparison.EQUIVALENT


def try_program(name, argv, args, library, report, rng):
    """Everything about one command, as a dict (the JSON's programs[] entry)."""
    path = resolve(argv[0])
    entry = {"name": name, "command": argv, "program": path, "seal": args.seal, "runs": args.runs}
    static = elf.is_static_program(path)
    if static:
        entry.update(status="cannot seal", why="cannot seal a static program: it is statically linked "
                     "(no PT_INTERP), so LD_PRELOAD never reaches it; only a kernel that seals at exec "
                     "can (msealbench vm --compat)")
        return entry
    runs = {"none": [], args.seal: []}
    settings = comparison.Settings(margin=args.margin, seed=args.seed)
    start = time.monotonic()
    while True:
        order = ["none", args.seal]
        rng.shuffle(order)
        for mode in order:
            runs[mode].append(run_once(argv, mode, library, report, args.timeout))
        done = len(runs["none"])
        if args.runs is not None:
            if done >= args.runs:
                break
        elif done >= MAX_RUNS or (done >= comparison.MIN_DECIDING_ROUNDS
                                  and time.monotonic() - start > args.budget):
            break
        elif done >= MIN_RUNS and done % CHECK_EVERY == 0 and settled(runs, args.seal, settings):
            break
    plain, sealed = runs["none"], runs[args.seal]
    entry["runs"] = len(plain)
    entry["modes"] = {}
    for mode, mode_runs in runs.items():
        endings = sorted({r[0].ending() for r in mode_runs})
        entry["modes"][mode] = {
            "sealing": sealing_state(mode_runs, mode),
            "endings": endings,
            "outcome": mode_runs[0][0].as_dict(),
            "consistent": len({r[0].signature() for r in mode_runs}) == 1,
            "wall_s": [r[1] for r in mode_runs],
            "wall_median_s": stats.median([r[1] for r in mode_runs]),
            "cpu_s": [r[4] for r in mode_runs],
            "cpu_median_s": stats.median([r[4] for r in mode_runs]),
        }
    entry["differences"] = compat.differences(plain[0][0], sealed[0][0])
    entry["time"] = time_verdict([r[WALL] for r in plain], [r[WALL] for r in sealed], args.seal, settings)
    entry["cpu_time"] = time_verdict([r[CPU] for r in plain], [r[CPU] for r in sealed], args.seal, settings)
    sealing = entry["modes"][args.seal]["sealing"]
    if sealing["state"] != "sealed":
        entry.update(status="cannot seal", why=f"not sealed: {sealing['why']}")
    elif entry["differences"]:
        entry["status"] = "differs"
    elif comparison.REGRESSION in (entry["time"]["verdict"], entry["cpu_time"]["verdict"]):
        entry["status"] = "slower"
    else:
        entry["status"] = "same"
    return entry


def pct(x):
    return f"{(x - 1) * 100:+.1f}%"


def time_text(label, t, margin):
    if "ratio" not in t:
        return f"{label}: {t['verdict']} ({t['why']})"
    return (f"{label} sealed/plain: {t['ratio']:.3f} ({pct(t['ratio'])}), 95% CI [{t['ci_low']:.3f}, "
            f"{t['ci_high']:.3f}]: {t['verdict']} (margin +-{margin * 100:g}%)"
            + (f"; {t['why']}" if t.get("why") else "")
            + (f"; about {t['more_runs']} more runs would settle it" if t.get("more_runs") else ""))


def program_section(e, margin):
    items = [tables.Heading(2, (tables.Literal(e["name"]), ": ", tables.Literal(shlex.join(e["command"])),
                                f" ({e['runs']} runs per mode)" if e.get("modes") else ""))]
    if "modes" not in e:
        items.append(tables.line("result: ", tables.Literal(summary_text(e))))
        return items
    rows = []
    for mode, m in e["modes"].items():
        s = m["sealing"]
        what = (f"{s['state']}: {s['mappings']} mappings ({' '.join(s['system_mappings']) or 'no system mapping'})"
                if s["state"] == "sealed" else s["state"] if s["state"] == "loaded" else f"{s['state']}: {s['why']}")
        if s["failures"]:
            what += f"; sealing failed in {s['failures']} process(es) over the runs"
        rows.append([mode, ", ".join(m["endings"]) + ("" if m["consistent"] else " (output varies)"),
                     f"{m['wall_median_s'] * 1000:.2f} ms", f"{m['cpu_median_s'] * 1000:.2f} ms", what])
    items.append(tables.Table(["mode", "ending", "wall median", "CPU median", "sealing"], rows))
    for d in e["differences"]:
        items.append(tables.line("difference: ", tables.Literal(compat.difference_text(d))))
    for label, t in (("wall time", e["time"]), ("CPU time", e["cpu_time"])):
        items.append(tables.line(time_text(label, t, margin)))
    items.append(tables.line("result: ", tables.Literal(summary_text(e))))
    return items


def summary_text(e):
    """The one-line answer: sealed or not, same behaviour or not, and the time verdicts that
    decided it (wall time first; CPU time of the command and its children when wall time, which a
    busy machine disturbs most, cannot decide)."""
    if e["status"] == "cannot seal":
        return e["why"]
    if e["status"] == "differs":
        return "sealed, and it behaves differently sealed"
    wall, cpu = e["time"]["verdict"], e["cpu_time"]["verdict"]
    if e["status"] == "slower":
        return f"sealed, behaves the same, slower sealed (wall time {wall}, CPU time {cpu})"
    if wall == comparison.EQUIVALENT:
        return "sealed and equivalent (wall time" + (", CPU time" if cpu == wall else "") + ")"
    if cpu == comparison.EQUIVALENT:
        return f"sealed and equivalent (CPU time; wall time {wall})"
    return f"sealed, behaves the same (wall time {wall}, CPU time {cpu})"


def status_of(entries):
    if any(e["status"] in ("differs", "slower") for e in entries):
        return 1
    if any(e["status"] == "cannot seal" for e in entries):
        return CANNOT_SEAL
    return 0


def main(argv):
    args = parse_args(argv)
    library = find_library(args.library)
    if args.list:
        path = compat.default_list() if args.list == "default" else args.list
        if not path:
            raise cli.Failure("--list default: vm/compat-default.list is missing")
        programs = [(p.name, p.argv) for p in compat.read_list(path, compat.helpers_dir())]
    else:
        programs = [(os.path.basename(args.command[0]), args.command)]
    for _, program_argv in programs:
        resolve(program_argv[0])
    if args.json:
        cli.write_file(args.json, "{}")   # a path that cannot be written fails before the runs
    rng = random.Random(args.seed)
    fd, report = tempfile.mkstemp(prefix="msealbench-try.", suffix=".report")
    os.close(fd)
    cli.temporary(report)
    entries = []
    for name, program_argv in programs:
        entries.append(try_program(name, program_argv, args, library, report, rng))
    cli.remove_temporary(report)
    data = {"schema": "msealbench-try", "version": 1, "seal": args.seal, "runs": args.runs,
            "margin": args.margin, "library": library, "kernel": os.uname().release,
            "programs": entries}
    body = [tables.Heading(1, (f"msealbench try --seal {args.seal}: {len(entries)} program(s)",))]
    for e in entries:
        body += program_section(e, args.margin)
    report_doc = tables.Report(body, data)
    sys.stdout.write(tables.render(report_doc, "text") + "\n")
    if args.json:
        cli.write_file(args.json, tables.render(report_doc, "json") + "\n")
    return status_of(entries)


if __name__ == "__main__":
    sys.exit(cli.guarded(PROG, main, sys.argv[1:]))
