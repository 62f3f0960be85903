#!/usr/bin/env bash
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
