#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every test program tests/t_* (shell, python or a built C unit test in build/tests/).
# Each prints TAP lines: "ok - what", "not ok - what", "ok - what # SKIP why".
# A program that exits non-zero without printing "not ok" counts as one failure, so a
# crashing test can never pass. Last line: "N passed, N failed, N skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
export MSEALBENCH_TOP="$top"
export MSEALBENCH="${MSEALBENCH:-$top/build/msealbench}"
export PYTHONDONTWRITEBYTECODE=1
only="${1:-}"
pass=0; fail=0; skip=0
failed_names=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/msealbench-tests.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

progs=()
for f in "$top"/build/tests/t_* "$here"/t_*; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  case "$f" in *.o|*.d|*~) continue ;; esac
  if [ -n "$only" ] && [[ "$(basename "$f")" != *"$only"* ]]; then continue; fi
  progs+=("$f")
done

for f in "${progs[@]}"; do
  name=$(basename "$f")
  log="$logdir/$name.log"
  start=$(date +%s)
  ( cd "$top" && timeout 900 "$f" ) >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  p=$(grep -cE '^ok( [0-9]+)? ' "$log" | head -1); p=${p:-0}
  s=$(grep -E '^ok( [0-9]+)? ' "$log" | grep -ciE '# *skip' | head -1); s=${s:-0}
  n=$(grep -cE '^not ok( [0-9]+)? ' "$log" | head -1); n=${n:-0}
  p=$((p - s))
  if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then n=1; echo "not ok - $name exited with status $rc" >>"$log"; fi
  if [ $((p + s + n)) -eq 0 ]; then n=1; echo "not ok - $name ran no test" >>"$log"; fi
  pass=$((pass + p)); fail=$((fail + n)); skip=$((skip + s))
  if [ "$n" -gt 0 ]; then
    failed_names+=("$name")
    printf '%-28s %3d passed, %d FAILED, %d skipped (%ds)\n' "$name" "$p" "$n" "$s" "$secs"
    grep -E '^(not ok|#)' "$log" | sed 's/^/    /' | head -40
    tail -n 15 "$log" | grep -vE '^(ok|not ok|#)' | sed 's/^/    | /'
  else
    printf '%-28s %3d passed, %d failed, %d skipped (%ds)\n' "$name" "$p" "$n" "$s" "$secs"
    grep -iE '^ok.*# *skip' "$log" | sed 's/^/    /' | head -20
  fi
done
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
