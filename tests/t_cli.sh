#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Command-line contract: --help everywhere, bad input gives one line naming the problem and exit 2.
. "$(dirname "$0")/lib.sh"
t=$(tmpdir); trap 'rm -rf "$t"' EXIT

# usage_error "description" expected-substring args...: exit 2 and one stderr line containing it
usage_error() {
  local d="$1" want="$2"; shift 2
  "$MB" "$@" >"$t/out" 2>"$t/err"; local rc=$?
  local lines; lines=$(wc -l <"$t/err")
  if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$t/err" && [ ! -s "$t/out" ]; then
    ok "$d"
  else
    notok "$d: exit $rc, $lines stderr line(s): $(head -c 300 "$t/err")"
  fi
}

for cmd in "" run list env; do
  expect_status "msealbench $cmd --help exits 0" 0 "$MB" $cmd --help
done
"$MB" run --help | grep -q -- '--inject-delay' && ok "run --help documents its options" || notok "run --help lacks options"

# One option parser for every command: -h, --help and `help CMD` print the same text.
"$MB" help >"$t/help" && "$MB" -h >"$t/h" && cmp -s "$t/help" "$t/h" && ok "msealbench -h is msealbench help" \
  || notok "msealbench -h differs from msealbench help"
for cmd in $(sed -n 's/^  \([a-z][a-z]*\) .*/\1/p' "$t/help"); do
  "$MB" "$cmd" --help >"$t/long" 2>&1; "$MB" "$cmd" -h >"$t/short" 2>&1; "$MB" help "$cmd" >"$t/via" 2>&1
  if [ -s "$t/long" ] && cmp -s "$t/long" "$t/short" && cmp -s "$t/long" "$t/via"; then
    ok "$cmd: --help, -h and 'help $cmd' print the same text"
  else
    notok "$cmd: --help, -h and 'help $cmd' differ: $(head -c 200 "$t/short")"
  fi
done
"$MB" list --filter=harness.empty >"$t/list-eq" 2>&1 && grep -q '^harness.empty ' "$t/list-eq" \
  && ! grep -q '^vdso\.' "$t/list-eq" && ok "list --filter=PATTERN (getopt's = form) selects" \
  || notok "list --filter=harness.empty: $(head -c 200 "$t/list-eq")"

usage_error "unknown command" "unknown command 'frobnicate'" frobnicate
usage_error "unknown option" "'--bogus'" run --bogus
usage_error "bad number for --repetitions" "--repetitions: 'abc'" run --repetitions abc
usage_error "zero repetitions refused" "--repetitions: '0'" run --repetitions 0
usage_error "negative --min-time refused" "--min-time: '-1'" run --min-time -1
usage_error "unknown seal mode" "unknown seal mode 'sealed'" run --seal none,sealed
usage_error "a filter that matches nothing" "--filter 'no-such-benchmark' matches no benchmark" run --filter no-such-benchmark
usage_error "bad --cpu" "--cpu: 'x'" run --cpu x
usage_error "bad --inject-delay" "--inject-delay: 'lots'" run --inject-delay lots
usage_error "missing option value" "'--out'" run --out
usage_error "stray argument" "unexpected argument 'extra'" run extra
usage_error "list: filter that matches nothing" "matches no benchmark" list --filter no-such-benchmark
usage_error "env: stray argument" "unexpected argument" env extra
usage_error "--out in a missing directory" "cannot create a file beside" run --filter harness.empty --out /nonexistent-dir/x.json

"$MB" list >"$t/list" 2>&1
grep -q '^vdso.clock_gettime.monotonic ' "$t/list" && grep -q '^harness.empty ' "$t/list" \
  && ok "list shows the vDSO family and the harness" || notok "list output: $(head -5 "$t/list")"
"$MB" env >"$t/env.json" && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["tool"]["name"]=="msealbench" and "mseal_available" in d and "kernel" in d' "$t/env.json" \
  && ok "env prints a JSON environment block" || notok "env output is not the expected JSON"
done_testing
