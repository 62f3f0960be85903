#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# arm64: the cross build, and what the static binary does under qemu-aarch64-static (user mode).
# qemu-user has no vDSO, no mseal(2) and no perf_event_open(2): those cells must be skipped with
# their reasons, and the rest measured. Runs in well under a minute (--quick, --filter).
set -u
. "$(dirname "$0")/lib.sh"
top="${MSEALBENCH_TOP:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top" || exit 1

if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
  skip "arm64 cross build and qemu-user run" "needs gcc-aarch64-linux-gnu and qemu-user-static (make deps-check)"
  exit 0
fi

work=$(tmpdir)
trap 'rm -rf "$work"' EXIT
build="$work/build-arm64"
qemu=$(command -v qemu-aarch64-static)

# A fresh build directory, so every file is compiled and every warning shows.
if make -s ARCH=arm64 BUILD="$build" -j2 >"$work/make.log" 2>&1; then
  ok "make ARCH=arm64 cross-builds msealbench and its helpers"
else
  notok "make ARCH=arm64 failed: $(tail -n 5 "$work/make.log")"
  exit 1
fi
if grep -q 'warning:' "$work/make.log"; then
  notok "cross build is warning-free: $(grep -m3 'warning:' "$work/make.log")"
else
  ok "cross build is warning-free"
fi
mb="$build/msealbench"

# under_qemu WHAT OUT ARGS...: run the arm64 binary under qemu-user, stdout to OUT; ok on exit 0.
under_qemu() {
  local what="$1" out="$2" rc
  shift 2
  "$qemu" "$mb" "$@" >"$out" 2>"$out.err"
  rc=$?
  if [ "$rc" -eq 0 ]; then ok "qemu-user: $what"; else notok "qemu-user: $what: exit $rc: $(head -c 300 "$out.err")"; fi
}

# Every program the build made is an aarch64 ELF with no program interpreter (static), except
# helpers whose name says they are dynamic (they measure exec through the dynamic loader).
bad=$(python3 - "$mb" "$build"/helpers/* <<'EOF'
import os, struct, sys
for path in sys.argv[1:]:
    if path.endswith(".d"):
        continue
    dynamic = "dynamic" in os.path.basename(path)
    interp = False
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            print(f"{path}: not a 64-bit ELF"); continue
        machine = struct.unpack_from("<H", head, 18)[0]
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        if machine != 183:
            print(f"{path}: e_machine {machine}, not EM_AARCH64 (183)")
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            interp |= struct.unpack("<I", f.read(4))[0] == 3
        if interp != dynamic:
            print(f"{path}: {'dynamically' if interp else 'statically'} linked, its name says otherwise")
EOF
)
if [ -z "$bad" ]; then ok "msealbench and helpers are aarch64 ELF files, static unless named dynamic"; else notok "ELF check: $bad"; fi
if command -v file >/dev/null; then
  desc=$(file -b "$mb")
  case "$desc" in
    *aarch64*static*) ok "file(1) says: aarch64, statically linked" ;;
    *) notok "file(1) says '$desc', expected an aarch64 static executable" ;;
  esac
else
  skip "file(1) check of the arm64 binary" "file(1) is not installed"
fi

# list: vDSO entries say why they cannot run, the harness runs, mseal is missing.
under_qemu "msealbench list exits 0" "$work/list" list
check "qemu-user list: vDSO benchmark says there is no vDSO" \
  grep -qE '^vdso\.clock_gettime\.monotonic +- +no: no vDSO in this process' "$work/list"
check "qemu-user list: harness.empty runs" grep -qE '^harness\.empty +- +yes' "$work/list"
check "qemu-user list: seal modes skipped, mseal ENOSYS" \
  grep -q 'mseal(2) is not available: .*ENOSYS' "$work/list"

# env: the JSON block (checked below with the run's results).
under_qemu "msealbench env exits 0" "$work/env.json" env

# probe: TAP, skip status 4 where mseal is missing (written separately; may not exist yet).
if "$qemu" "$mb" help 2>/dev/null | grep -qE '^ +probe '; then
  "$qemu" "$mb" probe >"$work/probe" 2>&1
  rc=$?
  if [ "$rc" -eq 4 ] && grep -q 'ENOSYS' "$work/probe"; then
    ok "qemu-user: probe skips (exit 4) naming ENOSYS"
  else
    notok "qemu-user: probe exit $rc, expected 4 with ENOSYS: $(head -c 300 "$work/probe")"
  fi
else
  skip "qemu-user: msealbench probe" "this build has no probe command yet"
fi

# run --quick: a few of each kind of cell (harness, vDSO entries, their raw syscalls); each cell
# is a re-exec of the binary through qemu.
out="$work/run.json"
under_qemu "run --quick completes with exit 0" "$work/run.out" run --quick \
  --filter 'harness.*,vdso.clock_gettime.monotonic' --out "$out" --quiet

# What env and the run recorded.
python3 - "$work/env.json" "$out" <<'EOF'
import json, sys
sys.path.insert(0, "tests")
from taplib import ok, done
try:
    e, r = (json.load(open(path)) for path in sys.argv[1:3])
except (OSError, ValueError) as err:
    ok(False, "qemu-user: env output and results file are JSON", str(err)); done()
ok(e.get("arch") == "aarch64", "qemu-user env: arch is aarch64", e.get("arch"))
ok(e.get("mseal_available") is False and "ENOSYS" in (e.get("mseal_error") or ""),
   "qemu-user env: mseal unavailable with ENOSYS", f"{e.get('mseal_available')} {e.get('mseal_error')}")
ok("qemu-user" in e.get("virtualization", ""), "qemu-user env: virtualization names the emulator",
   e.get("virtualization"))
ok(isinstance(e.get("kernel_sealed_system_mappings"), list),
   "qemu-user env: the seal check re-exec'd itself (through the emulator)",
   repr(e.get("kernel_sealed_system_mappings")))
cells = r["cells"]
def vdso_entry(c):
    return c["benchmark"].startswith("vdso.") and not c["benchmark"].endswith(".syscall")
vdso = [c for c in cells if vdso_entry(c)]
ok(vdso and all(c["status"] == "skipped" and "no vDSO" in (c["reason"] or "") for c in vdso),
   "qemu-user run: vDSO cells skipped, reason: no vDSO", [(c["status"], c["reason"]) for c in vdso])
sysmap = [c for c in cells if c["seal"] == "sysmap" and not vdso_entry(c)]
ok(sysmap and all(c["status"] == "skipped" and "ENOSYS" in (c["reason"] or "") for c in sysmap),
   "qemu-user run: sysmap cells skipped, reason: mseal ENOSYS",
   [(c["benchmark"], c["status"], c["reason"]) for c in sysmap])
measured = [c for c in cells if c["seal"] == "none" and not vdso_entry(c)]
names = {c["benchmark"] for c in measured}
ok({"harness.empty", "vdso.clock_gettime.monotonic.syscall"} <= names and
   all(c["status"] == "ok" and c["summary"]["n"] >= 3 and c["summary"]["median"] > 0 for c in measured),
   "qemu-user run: harness and raw-syscall cells measured",
   [(c["benchmark"], c["status"], c["reason"]) for c in measured])
events = [e for c in measured for e in c["counters"]["events"]]
ok(events and all(e["status"] == "unavailable" and "ENOSYS" in (e["reason"] or "") for e in events),
   "qemu-user run: perf counters unavailable, reason ENOSYS", events[:3])
cc = r["context"]["timer"]["cycle_counter"]
ok(cc["name"] == "cntvct_el0" and cc["reliable"] and cc["hz"] >= 1e6 and float(cc["hz"]).is_integer(),
   "qemu-user run: cycle counter cntvct_el0 at the rate cntfrq_el0 states", cc)
def bad_cycles(c):
    return not c["cycles"] or any(v is None or v <= 0 for v in c["cycles"])
ok(not any(bad_cycles(c) for c in measured),
   "qemu-user run: every measured sample has a cycle-counter reading",
   [(c["benchmark"], c["seal"], c["batch"], (c["cycles"] or [])[:8]) for c in measured if bad_cycles(c)])
done()
EOF
[ $? -eq 0 ] || _failures=$((_failures + 1))

# The kernel here cannot run an arm64 binary by itself (no binfmt_misc handler): the runner
# must go through the emulator, and name MSEALBENCH_EMULATOR when that fails.
if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  skip "qemu-user: re-exec through MSEALBENCH_EMULATOR" "binfmt_misc runs arm64 binaries here"
else
  if MSEALBENCH_EMULATOR="$qemu" PATH=/nonexistent "$qemu" "$mb" run --quick --filter harness.empty \
       --seal none --out "$work/emu.json" --quiet 2>"$work/emu.err"; then
    ok "qemu-user: cells re-exec through MSEALBENCH_EMULATOR when qemu is not in PATH"
  else
    notok "qemu-user: MSEALBENCH_EMULATOR run failed: $(head -c 300 "$work/emu.err")"
  fi
  MSEALBENCH_EMULATOR=/nonexistent/qemu "$qemu" "$mb" run --quick --filter harness.empty --seal none \
    --out "$work/bad.json" --quiet 2>"$work/bad.err"
  rc=$?
  if [ "$rc" -eq 1 ] && grep -q 'MSEALBENCH_EMULATOR=/nonexistent/qemu' "$work/bad.err"; then
    ok "qemu-user: a missing emulator fails the cell and names MSEALBENCH_EMULATOR"
  else
    notok "qemu-user: missing emulator: exit $rc, stderr: $(head -c 300 "$work/bad.err")"
  fi
fi
done_testing
