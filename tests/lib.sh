# SPDX-License-Identifier: GPL-2.0-only
# Shell helpers for tests: source it, call ok/notok/skip/check, end with done_testing.
# The TAP dialect of tests/taplib.py (and tests/tap.h), which tests/run.sh counts:
#   ok - WHAT | not ok - WHAT[: DETAIL] | ok - WHAT # SKIP WHY; exit 1 when a check failed.
MB="${MSEALBENCH:-${MSEALBENCH_TOP:-.}/build/msealbench}"
_failures=0
ok()    { echo "ok - $1"; }
# notok WHAT [DETAIL]
notok() { echo "not ok - $1${2:+: $2}"; _failures=$((_failures + 1)); }
skip()  { echo "ok - $1 # SKIP ${2:-}"; }
# check "description" command args...: passes when the command exits 0
check() { local d="$1"; shift; if "$@"; then ok "$d"; else notok "$d (command: $*)"; fi; }
# expect_status "description" STATUS command args...
expect_status() {
  local d="$1" want="$2"; shift 2
  "$@" >/dev/null 2>&1; local got=$?
  if [ "$got" -eq "$want" ]; then ok "$d"; else notok "$d: exit $got, expected $want"; fi
}
tmpdir() { mktemp -d "${TMPDIR:-/tmp}/msealbench-t.XXXXXX"; }
# reachable_copy FILE DIR: copies FILE into DIR (made readable by all) and prints the copy's path,
# for tests that switch to an unprivileged user while the checkout may sit in a 0700 directory.
reachable_copy() {
  chmod 755 "$2" && cp "$1" "$2/" && chmod a+rx "$2/$(basename "$1")" && echo "$2/$(basename "$1")"
}
done_testing() { [ "$_failures" -eq 0 ] || exit 1; }
