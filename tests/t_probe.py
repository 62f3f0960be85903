#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench probe: TAP and JSON output, the documented contract on this kernel, the skip path
when mseal(2) gives ENOSYS (seccomp launcher), the probe object in the run's context, and seal
mode `all` really sealing the program's own mappings."""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, ok, skip, done  # noqa: E402

NOMSEAL = [MSEALBENCH, "__seccomp-nomseal"]

# What Documentation/userspace-api/mseal.rst promises for a sealed anonymous region; none of these
# depends on hardware (pkeys) or on the kernel sealing the system mappings.
ANON_DENIED = ["anon.mremap_move", "anon.mremap_shrink", "anon.mremap_expand", "anon.mremap_dontunmap",
               "anon.munmap", "anon.mprotect", "anon.mmap_fixed", "anon.madvise_dontneed_ro",
               "anon.fork_keeps_seal"]
ANON_ALLOWED = ["anon.madvise_dontneed_rw", "anon.exec_drops_seal"]
VDSO_DENIED = ["vdso.mremap_move", "vdso.munmap", "vdso.mprotect", "vdso.mmap_fixed", "vdso.fork_keeps_seal"]


def quoted(text):
    """Detail text as TAP comment lines: raw probe output must not count as results."""
    return "\n# ".join(str(text).splitlines())


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def tap_rows(text):
    """(number, result, key, rest) of each TAP result line."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"^(ok|not ok) (\d+) ([a-z_.]+)(.*)$", line)
        if m:
            rows.append((int(m.group(2)), m.group(1), m.group(3), m.group(4)))
    return rows


def check_tap(p):
    lines = p.stdout.splitlines()
    rows = tap_rows(p.stdout)
    plan = next((l for l in lines if re.match(r"^1\.\.\d+$", l)), None)
    ok(lines[:1] == ["TAP version 13"], "probe: TAP version 13 header", lines[:1])
    ok(plan is not None and int(plan[3:]) == len(rows) == len(set(r[2] for r in rows)),
       "probe: plan 1..N matches N uniquely named rows", f"plan {plan}, {len(rows)} rows")
    ok([r[0] for r in rows] == list(range(1, len(rows) + 1)), "probe: rows numbered 1..N in order")
    return rows


def check_contract(tap, doc):
    ok(tap.returncode == 0, "probe: exit 0 on this kernel (every row as documented)",
       quoted(f"exit {tap.returncode}\n{tap.stdout}{tap.stderr}"))
    ok("not ok" not in tap.stdout, "probe: no 'not ok' row",
       quoted("\n".join(l for l in tap.stdout.splitlines() if l.startswith("not ok"))))
    rows = {r["key"]: r for r in doc["rows"]}
    for key in ["mseal.available", "mseal.seals_region", "mseal.len_zero", "mseal.bad_flags",
                "mseal.unaligned_start", "mseal.unmapped_gap"]:
        ok(rows.get(key, {}).get("result") == "ok", f"probe: {key} passes", rows.get(key))
    denied = [k for k in ANON_DENIED if rows.get(k, {}).get("sealed") == "denied"
              and rows[k].get("sealed_errno") == "EPERM" and rows[k].get("unsealed") == "allowed"]
    ok(denied == ANON_DENIED, "probe: sealed anonymous memory denies every documented operation with "
       "EPERM, the unsealed control allows it", sorted(set(ANON_DENIED) - set(denied)))
    allowed = [k for k in ANON_ALLOWED if rows.get(k, {}).get("sealed") == "allowed"]
    ok(allowed == ANON_ALLOWED, "probe: MADV_DONTNEED on writable sealed memory and exec stay allowed",
       sorted(set(ANON_ALLOWED) - set(allowed)))
    vdso = doc["system_mappings"] and any(m["name"] == "[vdso]" for m in doc["system_mappings"])
    if vdso:
        got = [k for k in VDSO_DENIED if rows.get(k, {}).get("sealed_errno") == "EPERM"]
        ok(got == VDSO_DENIED, "probe: a sealed vDSO cannot be moved (CRIU, rr), unmapped, "
           "mprotected or mapped over", sorted(set(VDSO_DENIED) - set(got)))
        ok(rows["vdso.mremap_move"]["unsealed"] == "allowed", "probe: an unsealed vDSO can be moved")
    else:
        skip("probe: vDSO rows", "no [vdso] here")
    kernel_sealed = [m["name"] for m in doc["system_mappings"] or [] if m["sealed_at_exec"]]
    env = json.loads(sh([MSEALBENCH, "env"]).stdout)
    ok(sorted(kernel_sealed) == sorted(env["kernel_sealed_system_mappings"] or []),
       "probe: kernel-sealed system mappings agree with env's",
       f"{kernel_sealed} vs {env['kernel_sealed_system_mappings']}")
    ok("probe" not in env and env.get("kernel_config") == doc["kernel_config"]
       and env.get("mseal_available") == doc["mseal_available"],
       "env: the kernel facts (mseal, kernel config) as the probe has them, without the probe's rows",
       sorted(env))
    cfg = doc["kernel_config"]
    if cfg["source"] and not kernel_sealed:
        ok(cfg["CONFIG_MSEAL_SYSTEM_MAPPINGS"] in ("n", "m") or cfg["CONFIG_MSEAL_SYSTEM_MAPPINGS"] == "y"
           and rows["sysmap.vdso"]["result"] == "not ok",
           "probe: nothing sealed at exec and the config says CONFIG_MSEAL_SYSTEM_MAPPINGS is off",
           cfg)
    else:
        skip("probe: config agrees with kernel sealing", "config unreadable or the kernel seals")


def check_json_matches_tap(tap_rows_, doc):
    ok(doc.get("schema") == "msealbench-probe" and doc.get("schema_version") == 1,
       "probe --json: schema msealbench-probe, version 1")
    want = [(r[2], "skip" if "# SKIP" in r[3] else "ok" if r[1] == "ok" else "not ok") for r in tap_rows_]
    got = [(r["key"], r["result"]) for r in doc["rows"]]
    ok(want == got, "probe --json: the same rows and results as the TAP output")
    ok(doc["passed"] + doc["failed"] + doc["skipped"] == len(doc["rows"]),
       "probe --json: passed + failed + skipped = rows")


def check_skip_path():
    p = sh(NOMSEAL + [MSEALBENCH, "probe"])
    if p.returncode != 4 and "PR_SET_SECCOMP" in p.stderr:
        skip("probe under seccomp (mseal -> ENOSYS)", p.stderr.strip())
        return
    rows = tap_rows(p.stdout)
    ok(p.returncode == 4, "probe without mseal(2) (seccomp ENOSYS): exit 4, kselftest's skip",
       quoted(f"exit {p.returncode}\n{p.stdout[-1500:]}{p.stderr}"))
    ok(rows and rows[0][2] == "mseal.available" and "# SKIP" in rows[0][3] and "ENOSYS" in rows[0][3],
       "probe without mseal(2): the availability row is skipped with ENOSYS", rows[:1])
    ok(not any(r[1] == "not ok" for r in rows), "probe without mseal(2): no 'not ok' row")
    ok(all("# SKIP" in r[3] for r in rows if r[2].startswith(("anon.", "vdso.", "mseal."))),
       "probe without mseal(2): every row that needs mseal is skipped")
    j = sh(NOMSEAL + [MSEALBENCH, "probe", "--json"])
    try:
        doc = json.loads(j.stdout)
        ok(doc["mseal_available"] is False and "ENOSYS" in doc["mseal_error"] and doc["exit_status"] == 4,
           "probe --json without mseal(2): mseal_available false, ENOSYS, exit_status 4")
    except ValueError as e:
        ok(False, "probe --json without mseal(2) parses", str(e))
    env = json.loads(sh(NOMSEAL + [MSEALBENCH, "env"]).stdout)
    ok(env["mseal_available"] is False, "env without mseal(2): mseal_available false")
    with tempfile.TemporaryDirectory(prefix="msealbench-t_probe.") as tmp:
        out = os.path.join(tmp, "nomseal.json")
        sh(NOMSEAL + [MSEALBENCH, "run", "--quiet", "--filter", "harness.empty", "--seal", "none",
                      "--repetitions", "1", "--min-time", "0.01", "--events", "none", "--out", out])
        ctx = json.load(open(out))["context"] if os.path.exists(out) else {}
    probe = ctx.get("probe") or {}
    ok(ctx.get("mseal_available") is False and probe.get("mseal_available") is False
       and probe.get("denied") == [], "run without mseal(2): the context and its probe object say so, "
       "nothing denied", probe)


def sealed_maps(mode):
    """mapping lines of `__sealed-maps MODE` as (name, sealed) pairs, or None."""
    p = sh([MSEALBENCH, "__sealed-maps", mode])
    if p.returncode != 0:
        return None, p.stderr
    out = []
    for line in p.stdout.splitlines():
        if line.startswith("#"):
            continue
        parts = line.split(None, 3)
        out.append((parts[3], parts[2] == "sealed"))
    return out, ""


def check_seal_all():
    exe = os.path.realpath(MSEALBENCH)
    maps = {}
    for mode in ("none", "sysmap", "all"):
        maps[mode], err = sealed_maps(mode)
        ok(maps[mode] is not None, f"__sealed-maps {mode} runs", err)
    if None in maps.values():
        return
    own = [s for name, s in maps["all"] if name == exe]
    ok(own and all(own), "seal all: every mapping of the program itself shows VmFlags sl", maps["all"])
    files = [s for name, s in maps["all"] if name.startswith("/")]
    ok(files and all(files), "seal all: every file-backed mapping is sealed")
    ok(all(s for name, s in maps["all"] if name == "[vdso]"), "seal all: [vdso] sealed")
    ok(not any(s for name, s in maps["all"] if name in ("[heap]", "[stack]", "(anonymous)")),
       "seal all: anonymous memory, heap and stack stay unsealed")
    ok(not any(s for _, s in maps["none"]), "seal none: nothing sealed")
    ok(all(s for name, s in maps["sysmap"] if name == "[vdso]")
       and not any(s for name, s in maps["sysmap"] if name == exe), "seal sysmap: vDSO sealed, program not")


def check_run_context():
    with tempfile.TemporaryDirectory(prefix="msealbench-t_probe.") as tmp:
        out = os.path.join(tmp, "all.json")
        p = sh([MSEALBENCH, "run", "--quick", "--quiet", "--filter", "harness.empty", "--seal",
                "none,sysmap,all", "--repetitions", "2", "--out", out])
        ok(p.returncode == 0, "run --seal none,sysmap,all of harness.empty succeeds", p.stderr)
        if p.returncode != 0:
            return
        doc = json.load(open(out))
    cells = {c["seal"]: c for c in doc["cells"]}
    ok(all(cells[m]["status"] == "ok" and cells[m]["vma_count"] > 0 for m in cells),
       "run: cells of every seal mode ok, each with its vma_count", {m: (c["status"], c["vma_count"], c["reason"])
                                                                     for m, c in cells.items()})
    ok(cells["all"]["sealed_mappings"] > cells["sysmap"]["sealed_mappings"] > 0 == cells["none"]["sealed_mappings"],
       "run: seal all seals more mappings than sysmap, none seals nothing",
       {m: c["sealed_mappings"] for m, c in cells.items()})
    ctx = doc["context"]
    probe = ctx.get("probe") or {}
    ok(set(probe) >= {"mseal_available", "kernel_config", "denied", "allowed", "not_applicable", "mismatches"},
       "run context: probe object with denied / allowed / not_applicable / mismatches", sorted(probe))
    ok(probe.get("mismatches") == [] and set(ANON_DENIED) <= set(probe.get("denied", [])),
       "run context: probe lists the denied operations, no mismatch", probe)
    notes = ctx.get("sealing_notes") or {}
    ok("exec" in notes.get("sysmap", "") and "two kernels" in notes.get("kernel_sealing", ""),
       "run context: sealing_notes say sysmap exec seals in userspace and kernel sealing needs two kernels")


def main():
    tap = sh([MSEALBENCH, "probe"])
    rows = check_tap(tap)
    js = sh([MSEALBENCH, "probe", "--json"])
    try:
        doc = json.loads(js.stdout)
    except ValueError as e:
        ok(False, "probe --json parses with python json", str(e))
        done()
    ok(js.returncode == tap.returncode == doc["exit_status"], "probe --json: same exit status as TAP")
    check_json_matches_tap(rows, doc)
    if tap.returncode == 4:
        skip("probe contract on this kernel", "mseal(2) not available here")
    else:
        check_contract(tap, doc)
        check_skip_path()
        check_seal_all()
        check_run_context()
    bad = sh([MSEALBENCH, "probe", "--bogus"])
    ok(bad.returncode == 2 and "--bogus" in bad.stderr, "probe --bogus: usage error, exit 2")
    done()


main()
