#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Every benchmark family `msealbench list` shows (a new family is tested without an edit here):
a short run in both seal modes where every cell must pass its verify() (ok, or skipped with a
reason), the denied path must see EPERM, the sweeps must come out exactly as declared, and
benchmarks that need mseal(2) skip without it."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, ok, skip, done  # noqa: E402

WORK = tempfile.mkdtemp(prefix="msealbench-t_families.")
HELPERS = os.path.join(os.path.dirname(MSEALBENCH), "helpers")


def run(args, timeout=120, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def listed_families():
    """The families of every benchmark `msealbench list` shows, in its order."""
    p = run([MSEALBENCH, "list"])
    names = [line.split()[0] for line in p.stdout.splitlines()
             if line and not line.startswith(" ") and "." in line.split()[0]]
    return list(dict.fromkeys(n.split(".")[0] for n in names))


FAMILY_NAMES = listed_families() if os.access(MSEALBENCH, os.X_OK) else []
FAMILIES = ",".join(f"{f}.*" for f in FAMILY_NAMES)
FAMILY_TEXT = ", ".join(FAMILY_NAMES)


def declared_sweeps(quick):
    """{benchmark: sweep text} from `msealbench list`."""
    p = run([MSEALBENCH, "list", "--filter", FAMILIES] + (["--quick"] if quick else []))
    sweeps = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "." in parts[0] and not line.startswith(" ") and parts[0] != "BENCHMARK":
            sweeps[parts[0]] = parts[1]
    return sweeps


def combinations(sweep):
    """Every parameter combination a sweep text such as "pages=1,16;vmas=1,8" asks for."""
    combos = [{}]
    if sweep == "-":
        return combos
    for part in sweep.split(";"):
        name, values = part.split("=")
        combos = [dict(c, **{name: int(v)}) for c in combos for v in values.split(",")]
    return combos


def key(params):
    return tuple(sorted(params.items()))


def test_default_sweeps():
    sweeps = declared_sweeps(quick=False)
    want = {
        "fork.fork": {"vmas": [0, 64, 1024, 8192]},
        "mremap.move": {"pages": [1, 16, 512]},
        "mremap.munmap": {"pages": [1, 16, 512], "vmas": [1, 8, 64, 512]},
        "mremap.mprotect": {"pages": [1, 16, 512], "vmas": [1, 8, 64, 512]},
        "mremap.madvise_dontneed": {"pages": [1, 16, 512], "vmas": [1, 8, 64, 512]},
        "mseal.range": {"vmas": [1, 16, 256, 4096]},
    }
    for bench, params in want.items():
        got = {}
        for part in sweeps.get(bench, "-").split(";"):
            if "=" in part:
                name, values = part.split("=")
                got[name] = [int(v) for v in values.split(",")]
        ok(all(got.get(n) == v for n, v in params.items()), f"{bench}: default sweep has {params}",
           f"declared {sweeps.get(bench)}")


def test_quick_run():
    sweeps = declared_sweeps(quick=True)
    ok(len(FAMILY_NAMES) >= 6 and {b.split(".")[0] for b in sweeps} == set(FAMILY_NAMES),
       f"list --quick shows every family ({FAMILY_TEXT}: {len(sweeps)} benchmarks)")
    out = os.path.join(WORK, "quick.json")
    p = run([MSEALBENCH, "run", "--quick", "--repetitions", "2", "--min-time", "0.04", "--seal", "none,sysmap",
             "--filter", FAMILIES, "--out", out, "--quiet"], timeout=240)
    ok(p.returncode == 0, f"quick run of every family ({FAMILY_TEXT}) in both seal modes exits 0",
       p.stderr.strip()[-600:])
    if not os.path.exists(out):
        ok(False, "the run wrote its results")
        return
    with open(out) as f:
        cells = json.load(f)["cells"]
    by_bench = {}
    for c in cells:
        by_bench.setdefault(c["benchmark"], []).append(c)
    for bench, sweep in sorted(sweeps.items()):
        got = by_bench.get(bench, [])
        wanted = sorted(key(p) for p in combinations(sweep) for _ in ("none", "sysmap"))
        ok(sorted(key(c["params"]) for c in got) == wanted, f"{bench}: cells for exactly the sweep {sweep} "
           "in both modes", f"got {[c['params'] for c in got]}")
        bad = [c for c in got if not (c["status"] == "ok" or (c["status"] == "skipped" and c["reason"]))]
        ok(not bad, f"{bench}: every cell ok (verify passed) or skipped with a reason",
           "; ".join(f"{c['params']} {c['seal']}: {c['status']}: {c['reason']}" for c in bad))
        runs = [c for c in got if c["status"] == "ok"]
        ok(all(c["samples"] and min(c["samples"]) > 0 and c["batch"] >= 1 for c in runs),
           f"{bench}: samples present and positive")
        if bench.endswith(".sealed"):
            # op() fails unless each call on the sealed target gives EPERM: ok means denied.
            ok({c["seal"] for c in runs} == {"none", "sysmap"}, f"{bench}: denied with EPERM in both modes")


def test_without_mseal():
    """Under a seccomp filter mseal(2) gives ENOSYS, as before Linux 6.10."""
    probe = run([MSEALBENCH, "__seccomp-nomseal", "/bin/true"])
    if probe.returncode != 0:
        skip("benchmarks needing mseal(2) skip without it", "no __seccomp-nomseal launcher in this build")
        return
    out = os.path.join(WORK, "nomseal.json")
    run([MSEALBENCH, "__seccomp-nomseal", MSEALBENCH, "run", "--quick", "--repetitions", "1", "--seal", "none",
         "--filter", "mseal.*,mremap.*.sealed,fork.vfork", "--out", out, "--quiet"])
    try:
        with open(out) as f:
            cells = json.load(f)["cells"]
    except (OSError, ValueError) as e:
        ok(False, "run under the mseal-less filter wrote results", str(e))
        return
    needy = [c for c in cells if c["benchmark"] != "fork.vfork"]
    ok(needy and all(c["status"] == "skipped" and "mseal" in (c["reason"] or "") for c in needy),
       "without mseal(2) the mseal and denied-path benchmarks are skipped, saying why",
       "; ".join(f"{c['benchmark']}: {c['status']} {c['reason']}" for c in needy))
    ok(any(c["benchmark"] == "fork.vfork" and c["status"] == "ok" for c in cells),
       "without mseal(2) the others still run in mode none")
    helper = os.path.join(HELPERS, "exec_report")
    r, w = os.pipe()
    p = subprocess.run([MSEALBENCH, "__seccomp-nomseal", helper, "sysmap", str(w), system_layout()], pass_fds=(w,),
                       timeout=30)
    os.close(w)
    os.close(r)
    ok(p.returncode == 4, "exec_report in sysmap mode fails (exit 4) when it cannot seal",
       f"exit {p.returncode}")


def system_layout():
    """The system mappings as exec_report's LAYOUT takes them (bench/exec.c builds it in C):
    OFFSET:LENGTH from the vDSO, read from this process's maps (the same for every process)."""
    spans = {}
    with open("/proc/self/maps") as f:
        for line in f:
            name = line.split()[-1]
            if name in ("[vdso]", "[vvar]", "[vvar_vclock]", "[sigpage]", "[vectors]"):
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                spans[name] = (start, end - start)
    if "[vdso]" not in spans:
        return ""
    return ",".join(f"{start - spans['[vdso]'][0]}:{length}" for start, length in spans.values())


def test_helper_reports():
    helper = os.path.join(HELPERS, "exec_report")
    for mode in ("none", "sysmap"):
        r, w = os.pipe()
        p = subprocess.run([helper, mode, str(w), system_layout(), "verify"], pass_fds=(w,), timeout=30)
        os.close(w)
        data = os.read(r, 64)
        os.close(r)
        ok(p.returncode == 0 and len(data) == 8 and int.from_bytes(data, sys.byteorder) > 0,
           f"exec_report {mode} verify: exit 0 and one 8-byte time", f"exit {p.returncode}, {len(data)} bytes")
    r, w = os.pipe()
    p = subprocess.run([helper, "sysmap", str(w), "", "verify"], pass_fds=(w,), timeout=30)
    os.close(w)
    os.close(r)
    ok(p.returncode == 3 or (p.returncode == 0 and not system_layout()),
       "exec_report sysmap verify with an empty layout: exit 3, its system mappings unsealed", f"exit {p.returncode}")


def test_under_qemu_user():
    """arm64 under qemu-user: no mseal, no native VMAs, no helper exec: skips with reasons, exit 0."""
    from taplib import TOP
    arm = os.path.join(TOP, "build-arm64", "msealbench")
    qemu = shutil.which("qemu-aarch64-static")
    if not qemu or not os.access(arm, os.X_OK):
        skip("every family under qemu-user (arm64)", "needs qemu-aarch64-static and `make ARCH=arm64`")
        return
    sources = [os.path.join(TOP, d, f) for d in ("src", "bench", "bench/helpers")
               for f in os.listdir(os.path.join(TOP, d)) if f.endswith((".c", ".h"))]
    if os.path.getmtime(arm) < max(os.path.getmtime(f) for f in sources):
        skip("every family under qemu-user (arm64)", "build-arm64 is older than the sources: `make ARCH=arm64`")
        return
    out = os.path.join(WORK, "arm64.json")
    p = run([qemu, arm, "run", "--quick", "--repetitions", "1", "--min-time", "0.02", "--seal", "none,sysmap",
             "--events", "none", "--filter", FAMILIES, "--out", out, "--quiet"])
    ok(p.returncode == 0, "arm64 under qemu-user: every family exits 0", p.stderr.strip()[-300:])
    try:
        with open(out) as f:
            cells = json.load(f)["cells"]
    except (OSError, ValueError):
        cells = []
    bad = [c for c in cells if not (c["status"] == "ok" or (c["status"] == "skipped" and c["reason"]))]
    ok(cells and not bad and any(c["status"] == "ok" for c in cells),
       "arm64 under qemu-user: cells ok or skipped with a reason, some measured",
       "; ".join(f"{c['benchmark']} {c['params']}: {c['status']} {c['reason']}" for c in bad[:5]))


if not os.access(MSEALBENCH, os.X_OK):
    ok(False, f"{MSEALBENCH} is built")
else:
    test_default_sweeps()
    test_helper_reports()
    test_quick_run()
    test_without_mseal()
    test_under_qemu_user()
shutil.rmtree(WORK, ignore_errors=True)
done()
