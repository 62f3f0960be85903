#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench side by side with its peers on this machine, in one run (a benchmark script, not a
test): lmbench's lat_syscall and lat_proc, `perf bench syscall basic`, stress-ng's fork, vfork,
exec and vdso stressors, and msealbench's matching cells (seal mode none), in alternating rounds.
Prints a Markdown table, per-operation times; a peer that is not installed is named as missing.

lmbench is found on PATH, in $LMBENCH_BIN or in /usr/lib/lmbench/bin/*/ (Debian packages it in
non-free only after bookworm); its `lat_proc exec` execs the `hello` it was built with.
stress-ng refuses --exec as root, so as root it runs as nobody for that row.
"""
import argparse
import glob
import json
import os
import re
import shutil
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import cli, results, stats  # noqa: E402

PROG = "peers.py"
MSEALBENCH = os.environ.get("MSEALBENCH", os.path.join(TOP, "build", "msealbench"))
PEER_TIMEOUT = 300

# operation, peer label, how to run it, msealbench cell (benchmark, params), what ours does
ROWS = [
    ("null syscall", "lmbench lat_syscall null", ("lmbench", ["lat_syscall", "null"]),
     ("harness.syscall.getppid", {})),
    ("getppid", "perf bench syscall basic", ("perf", ["bench", "syscall", "basic"]),
     ("harness.syscall.getppid", {})),
    ("vDSO clock_gettime", "stress-ng --vdso (per call + loop)",
     ("stress-ng", ["--vdso", "1", "--vdso-func", "clock_gettime", "--vdso-ops", "5000000"]),
     ("vdso.clock_gettime.monotonic", {})),
    ("fork + exit + wait", "lmbench lat_proc fork", ("lmbench", ["lat_proc", "fork"]),
     ("fork.fork", {"vmas": 0, "touched_kb": 0})),
    ("fork + exit + wait", "stress-ng --fork", ("stress-ng", ["--fork", "1", "--fork-ops", "5000"]),
     ("fork.fork", {"vmas": 0, "touched_kb": 0})),
    ("vfork + exit + wait", "stress-ng --vfork", ("stress-ng", ["--vfork", "1", "--vfork-ops", "20000"]),
     ("fork.vfork", {})),
    ("fork + execve dynamic, bare", "lmbench lat_proc exec", ("lmbench", ["lat_proc", "exec"]),
     ("exec.fork_execve.dynamic.bare", {})),
    ("fork + execve dynamic, bare", "stress-ng --exec", ("stress-ng", ["--exec", "1", "--exec-ops", "1000"]),
     ("exec.fork_execve.dynamic.bare", {})),
]
FILTER = "harness.syscall.getppid,vdso.clock_gettime.monotoni[c],fork.fork,fork.vfork,exec.fork_execve.dynamic*"


def lmbench_dir():
    for d in [os.environ.get("LMBENCH_BIN", "")] + sorted(glob.glob("/usr/lib/lmbench/bin/*")):
        if d and os.access(os.path.join(d, "lat_proc"), os.X_OK):
            return d
    found = shutil.which("lat_proc")
    return os.path.dirname(found) if found else None


def run_peer(kind, args):
    """The peer's per-operation time in ns, or (None, why not)."""
    if kind == "lmbench":
        d = lmbench_dir()
        if not d:
            return None, "missing (lmbench: not on PATH, $LMBENCH_BIN or /usr/lib/lmbench/bin)"
        cmd = [os.path.join(d, args[0])] + args[1:]
    elif kind == "perf":
        if not shutil.which("perf"):
            return None, "missing (perf: Debian linux-perf)"
        cmd = ["perf"] + args
    else:
        if not shutil.which("stress-ng"):
            return None, "missing (stress-ng: Debian stress-ng)"
        cmd = ["stress-ng"] + args + ["--metrics-brief"]
        if "--exec" in args and os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
    p = cli.run_child(cmd, capture_output=True, text=True, timeout=PEER_TIMEOUT, cwd=tempfile.gettempdir())
    out = p.stdout + p.stderr
    if kind == "lmbench" and (m := re.search(r"([\d.]+) microseconds", out)):
        return float(m.group(1)) * 1e3, ""
    if kind == "perf" and (m := re.search(r"([\d.]+) usecs/op", out)):
        return float(m.group(1)) * 1e3, ""
    if kind == "stress-ng" and "--vdso" in args:
        per_call = re.search(r"([\d.]+) nanosecs per call", out)
        loop = re.search(r"([\d.]+) nanosecs for test overhead", out)
        if per_call and loop:
            return float(per_call.group(1)) + float(loop.group(1)), ""
    if kind == "stress-ng" and (m := re.search(r"\] \w+\s+(\d+)\s+([\d.]+)\s", out)):
        return float(m.group(2)) / int(m.group(1)) * 1e9, ""
    last = (out.strip().splitlines() or ["no output"])[-1]
    return None, f"failed (exit {p.returncode}): {last[:120]}"


def cell_medians(doc, bench, params):
    """Median time of the cell's timed samples and of its counted samples (counters.samples;
    None when none counted), or (None, None) when the cell did not run."""
    for c in doc.get("cells", []):
        if c.get("benchmark") == bench and c.get("seal") == "none" and c.get("status") == "ok" and \
                all((c.get("params") or {}).get(k) == v for k, v in params.items()):
            counted = [x for x in ((c.get("counters") or {}).get("samples") or []) if x is not None]
            return stats.median(c["samples"]), stats.median(counted) if counted else None
    return None, None


def median_or_none(values):
    values = [v for v in values if v is not None]
    return stats.median(values) if values else None


def fmt(ns):
    return "-" if ns is None else f"{ns / 1e3:.3f} us" if ns >= 1000 else f"{ns:.1f} ns"


def parse_args(argv):
    ap = cli.Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repetitions", type=cli.number_in(int, 3, 100), default=5,
                    help="rounds: one msealbench run and one run of each peer each (default 5; medians)")
    ap.add_argument("--gate", choices=("on", "off"), default="off",
                    help="msealbench's contention gate (default off: the peers have none, so both sides "
                         "see the machine's slow periods alike)")
    return ap.parse_args(argv)


def peers(opts):
    """Rounds: one round of msealbench's cells, then one run of each peer, so that a slow period
    of the machine hits both sides alike; medians over the rounds."""
    if not os.access(MSEALBENCH, os.X_OK):
        raise cli.Failure(f"{MSEALBENCH} is not built (run make)")
    peer_ns = [[] for _ in ROWS]
    peer_why = ["" for _ in ROWS]
    mine, counted = [[] for _ in ROWS], [[] for _ in ROWS]
    with tempfile.TemporaryDirectory(prefix="msealbench-peers-") as tmp:
        for r in range(opts.repetitions):
            out = os.path.join(tmp, f"run{r}.json")
            p = cli.run_child([MSEALBENCH, "run", "--quiet", "--quick", "--seal", "none", "--min-time", "0.2",
                               "--repetitions", "1", "--seed", str(r + 1), "--gate", opts.gate, "--filter", FILTER,
                               "--out", out],
                              capture_output=True, text=True)
            if p.returncode != 0:
                raise cli.Failure(f"msealbench run failed (exit {p.returncode}): {p.stderr.strip()[-200:]}")
            results.load_run(out)  # refuses a malformed file
            with open(out) as f:
                doc = json.load(f)
            for i, (_, _, (kind, args), (bench, params)) in enumerate(ROWS):
                timed, count = cell_medians(doc, bench, params)
                mine[i].append(timed)
                counted[i].append(count)
                if peer_why[i]:
                    continue
                ns, peer_why[i] = run_peer(kind, args)
                peer_ns[i].append(ns)
    print("| operation | peer | peer per op | msealbench cell | msealbench | ours/peer | counted samples |")
    print("|---|---|---|---|---|---|---|")
    for i, (op, label, _, (bench, params)) in enumerate(ROWS):
        peer, ours_ns, count = median_or_none(peer_ns[i]), median_or_none(mine[i]), median_or_none(counted[i])
        ratio = f"{ours_ns / peer:.3f}" if ours_ns and peer and not peer_why[i] else "-"
        name = bench + "".join(f" {k}={v}" for k, v in params.items())
        print(f"| {op} | {label} | {peer_why[i] or fmt(peer)} | {name} | {fmt(ours_ns)} | {ratio} | {fmt(count)} |")
    print(f"\n{opts.repetitions} rounds, each one msealbench run (--quick --seal none --min-time 0.2 "
          f"--repetitions 1 --gate {opts.gate}) and one run of each peer; medians over the rounds. msealbench: the timed "
          "samples (no perf event open); counted samples: the same cells' samples with the default "
          "events open in the counting twin (what counting costs)")
    return 0


if __name__ == "__main__":
    sys.exit(cli.guarded(PROG, peers, parse_args(sys.argv[1:]), {results.BadInput: 2}))
