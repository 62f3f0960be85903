#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench try and msealbench maps on the host: a dynamic program is sealed from inside (the
preload library reports what it sealed) and behaves the same; a static one is said to be
unsealable instead of passing as a clean run; the vDSO remapper, whose mremap of the vDSO is
denied once sealed, is reported as behaving differently; maps shows a sealed child's system
mappings with sl; bad input is one line, exit 2."""
import atexit
import ctypes
import json
import os
import shutil
import subprocess
import tempfile

from taplib import MSEALBENCH, TOP, done, ok, skip

HELPERS = os.path.join(TOP, "build", "helpers")
LIBRARY = os.path.join(TOP, "build", "libmsealbench-seal.so")
tmp = tempfile.mkdtemp(prefix="msealbench-t-try.")
atexit.register(shutil.rmtree, tmp, True)


def run(args, timeout=300):
    return subprocess.run([MSEALBENCH] + args, capture_output=True, text=True, timeout=timeout)


def mseal_works():
    """Whether this kernel has mseal(2) (Linux 6.10+, number 462 on x86-64 and arm64): a
    zero-length call seals nothing and returns 0 where it exists."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(462, ctypes.c_void_p(0), ctypes.c_size_t(0), ctypes.c_ulong(0)) == 0


def try_json(args, name):
    out = os.path.join(tmp, f"{name}.json")
    r = run(["try", "--json", out] + args)
    try:
        data = json.load(open(out, encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    return r, data


def dynamic_tests():
    r, data = try_json(["--seal", "all", "--runs", "6", "--", "/usr/bin/python3", "-c", "print(1)"], "python")
    entry = (data or {}).get("programs", [{}])[0]
    sealing = entry.get("modes", {}).get("all", {}).get("sealing", {})
    ok(r.returncode in (0, 1) and entry.get("status") in ("same", "slower") and sealing.get("state") == "sealed"
       and sealing.get("mappings", 0) > 3 and "[vdso]" in sealing.get("system_mappings", []),
       "try --seal all on python3: sealed from inside (every file-backed mapping and the system "
       f"mappings: {sealing.get('mappings')}), behaves the same", (r.stdout + r.stderr)[-800:])
    plain = entry.get("modes", {}).get("none", {}).get("sealing", {})
    ok(plain.get("state") == "loaded" and not entry.get("differences"),
       "the plain runs load the library without sealing; no difference in exit status or output")
    ok(entry.get("time", {}).get("verdict") in ("equivalent", "inconclusive", "regression", "improvement")
       and len(entry.get("modes", {}).get("all", {}).get("wall_s", [])) == 6,
       "wall time of 6 interleaved runs per mode judged by the comparison's verdicts",
       json.dumps(entry.get("time"))[:300])
    ok("sealed" in r.stdout and "result: sealed" in r.stdout, "the text report says it was sealed",
       r.stdout[-500:])


def static_test():
    r, data = try_json(["--runs", "2", "--", os.path.join(HELPERS, "exit_now")], "static")
    entry = (data or {}).get("programs", [{}])[0]
    ok(r.returncode == 4 and "cannot seal a static program" in r.stdout and entry.get("status") == "cannot seal",
       "try on a statically linked program: 'cannot seal a static program', exit 4, not a clean run",
       f"exit {r.returncode}: {(r.stdout + r.stderr)[-400:]}")


def remap_test():
    r, data = try_json(["--seal", "sysmap", "--runs", "4", "--", os.path.join(HELPERS, "vdso_remap_dynamic")],
                       "remap")
    entry = (data or {}).get("programs", [{}])[0]
    diffs = entry.get("differences", [])
    ending = next((d for d in diffs if d["what"] == "ending"), {})
    stdout = next((d for d in diffs if d["what"] == "stdout"), {})
    ok(r.returncode == 1 and entry.get("status") == "differs" and ending.get("plain") == "exit 0"
       and ending.get("sealed") == "exit 1" and "EPERM" in (stdout.get("sealed") or "")
       and "moved" in (stdout.get("plain") or ""),
       "try --seal sysmap on the vDSO remapper: moved plain, EPERM sealed, reported as a difference (exit 1)",
       f"exit {r.returncode}: {json.dumps(diffs)[:600]} {r.stderr[-300:]}")


def maps_tests():
    r = run(["maps", "--seal", "sysmap", "--", os.path.join(HELPERS, "exit_now_dynamic")], timeout=60)
    rows = {line.split()[-1]: line.split() for line in r.stdout.splitlines() if line[:1].isalnum()
            and "-" in line.split()[0]}
    vdso = rows.get("[vdso]", [])
    ok(r.returncode == 0 and len(vdso) >= 7 and vdso[2] == "yes" and vdso[5] == "yes",
       "maps --seal sysmap -- CMD: the child's [vdso] shows sl (sealed now) and the kernel option column",
       r.stdout[-1200:] + r.stderr[-300:])
    libc = next((v for k, v in rows.items() if "libc.so" in k), [])
    ok(len(libc) >= 6 and libc[2] == "-" and libc[4] == "yes" and libc[3] == "-",
       "libc is not sealed by sysmap, would be by all", str(libc))
    ok("critical:" in r.stdout and "[vdso] (sealed now)" in r.stdout, "the critical mappings are listed",
       r.stdout[-600:])
    r = run(["maps", "--", os.path.join(HELPERS, "exit_now_dynamic")], timeout=60)
    vdso = next((line.split() for line in r.stdout.splitlines() if line.endswith("[vdso]")), [])
    ok(r.returncode == 0 and len(vdso) >= 3 and vdso[2] == "-", "without --seal nothing is sealed", str(vdso))
    r = run(["maps", str(os.getpid())])
    ok(r.returncode == 0 and "mappings of process" in r.stdout, "maps PID reads a running process",
       r.stderr[-300:])


def usage_tests():
    for args, what in ((["try"], "no command"), (["try", "--seal", "bogus", "--", "true"], "unknown seal mode"),
                       (["try", "--", "/nonexistent/program"], "missing program"),
                       (["maps"], "maps without a PID"), (["maps", "12x"], "maps with a bad PID")):
        r = run(args, timeout=60)
        ok(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1,
           f"bad input is one line, exit 2: {what}", f"exit {r.returncode}: {r.stderr[-300:]}")


def main():
    if not os.path.isfile(LIBRARY):
        skip("try and maps", f"{LIBRARY} is not built (make)")
        done()
    usage_tests()
    static_test()
    if not mseal_works():
        skip("try and maps sealing a dynamic program", "this kernel has no mseal(2) (Linux 6.10+)")
        done()
    dynamic_tests()
    remap_test()
    maps_tests()
    done()


if __name__ == "__main__":
    main()
