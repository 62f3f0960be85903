#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guest side of lava/msealbench.yaml (installed as /msb/lava-steps): each step of the test
# definition is one call of this script, so the loops below stay off the console (LAVA runs the
# steps under `set -x`). Files come back framed by `vm-init send` and markers follow vm-init's
# (MSB:INIT, MSB:EXIT NAME status N, MSB:DONE): the host reads the job log as msealbench vm reads
# a console.
#   lava-steps begin                     MSB:INIT, /proc/config.gz, /proc/version, msealbench env
#   lava-steps probe                     each TAP row a test case probe.<id>; its JSON sent
#   lava-steps run LABEL QUICK FILTER SEAL REPETITIONS MIN_TIME EVENTS
#                                        msealbench run; each cell's median a test case
#                                        run.<benchmark>[.<param>-<value>].<seal>; run.json sent
#   lava-steps end                       MSB:DONE
msb=$(dirname "$0")
send() { "$msb/helpers/vm-init" send "$1" "$2"; }
# the step's exit status as a marker (what msealbench vm's boots record per step)
mark() { echo "MSB:EXIT $1 status $2"; }
case_of() {
  # LAVA test case names: letters, digits, . _ -
  lava-test-case "$(printf %s "$1" | tr -c 'A-Za-z0-9._\n-' '_')" --result "$2" ${3:+--measurement "$3" --units "$4"}
}

# TAP rows ("ok N id: text", "not ok N id: text", "... # SKIP why") as "id result" lines
tap_cases() {
  awk '/^(not )?ok [0-9]+ / {
         notok = ($1 == "not"); id = notok ? $4 : $3; sub(/:$/, "", id)
         result = notok ? "fail" : ($0 ~ /# *[Ss][Kk][Ii][Pp]/ ? "skip" : "pass")
         print id, result }' "$1"
}

# The cells of a results file written by msealbench run (its own layout: one key a line) as
# "name result median unit" lines; the host checks them against the file it receives.
cell_cases() {
  awk 'function flush() {
         if (bench != "") {
           result = status == "ok" ? "pass" : (status == "skipped" ? "skip" : "fail")
           print bench params "." seal, result, (median == "" ? "-" : median), unit
         }
         bench = ""
       }
       function value(line) { sub(/^[^:]*: */, "", line); sub(/,$/, "", line); gsub(/"/, "", line); return line }
       /^      "benchmark": / { flush(); bench = value($0); params = ""; seal = ""; unit = ""
                                status = ""; median = ""; inparams = 0; insummary = 0; next }
       bench == "" { next }
       /^      "params": \{\}/ { next }
       /^      "params": \{/ { inparams = 1; next }
       inparams && /^      \}/ { inparams = 0; next }
       inparams { k = $1; gsub(/[":]/, "", k); params = params "." k "-" value($0); next }
       /^      "seal": / { seal = value($0); next }
       /^      "unit": / { unit = value($0); next }
       /^      "status": / { status = value($0); next }
       /^      "summary": \{/ { insummary = 1; next }
       insummary && /^        "median": / { median = value($0); if (median == "null") median = ""; insummary = 0 }
       END { flush() }' "$1"
}

step=$1
shift
case "$step" in
begin)
  echo "MSB:INIT"
  send config.gz /proc/config.gz
  send version /proc/version
  "$msb/msealbench" env > /tmp/env.stdout
  mark env $?
  send env.stdout /tmp/env.stdout
  ;;
probe)
  "$msb/msealbench" probe > /tmp/probe.tap
  status=$?
  cat /tmp/probe.tap
  mark probe-tap $status
  tap_cases /tmp/probe.tap > /tmp/probe.cases
  while read -r id result; do
    case_of "probe.$id" "$result"
  done < /tmp/probe.cases
  send probe.tap /tmp/probe.tap
  "$msb/msealbench" probe --json > /tmp/probe.stdout
  mark probe $?
  send probe.stdout /tmp/probe.stdout
  ;;
run)
  set -- "$msb/msealbench" run --out /tmp/run.json --label "${1:-lava}" \
    ${2:+$( [ "$2" = true ] && echo --quick)} \
    ${3:+--filter "$3"} ${4:+--seal "$4"} ${5:+--repetitions "$5"} ${6:+--min-time "$6"} \
    ${7:+--events "$7"}
  "$@"
  status=$?
  mark run $status
  if [ -f /tmp/run.json ]; then
    cell_cases /tmp/run.json > /tmp/run.cases
    while read -r name result median unit; do
      if [ "$median" = - ]; then
        case_of "run.$name" "$result"
      else
        case_of "run.$name" "$result" "$median" "$unit"
      fi
    done < /tmp/run.cases
  fi
  send run.json /tmp/run.json
  ;;
end)
  echo "MSB:DONE"
  ;;
*)
  echo "lava-steps: unknown step '$step' (begin, probe, run, end)" >&2
  exit 2
  ;;
esac
exit 0
