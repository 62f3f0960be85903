#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The build is warning-free under gcc and clang, installs under PREFIX/DESTDIR, and make deps
# names the exact install command when it cannot install.
. "$(dirname "$0")/lib.sh"
top="$MSEALBENCH_TOP"
t=$(tmpdir); trap 'rm -rf "$t"' EXIT

for cc in gcc clang; do
  if ! command -v "$cc" >/dev/null; then skip "$cc build" "$cc not installed"; continue; fi
  if make -s -C "$top" CC="$cc" BUILD="$t/build-$cc" CFLAGS="-O2 -Werror" all >"$t/$cc.log" 2>&1; then
    ok "$cc build with -Wall -Wextra -Werror"
  else
    notok "$cc build: $(grep -m3 -E 'error|warning' "$t/$cc.log")"
  fi
done

make -s -C "$top" install PREFIX=/opt/msb DESTDIR="$t/stage" >"$t/install.log" 2>&1
root="$t/stage/opt/msb"
if [ -x "$root/bin/msealbench" ] && [ -f "$root/share/man/man1/msealbench.1" ] \
   && ls "$root/share/msealbench/plots/"*.py >/dev/null 2>&1 && [ -d "$root/libexec/msealbench" ]; then
  ok "make install honours PREFIX and DESTDIR (binary, helpers, scripts, man page)"
else
  notok "make install: $(cat "$t/install.log" | tail -3); $(find "$t/stage" | head -20 | tr '\n' ' ')"
fi
[ ! -e /opt/msb ] && ok "install wrote nothing to PREFIX outside DESTDIR" || notok "install created /opt/msb outside DESTDIR"
"$root/bin/msealbench" list >/dev/null 2>&1 && ok "the installed binary runs" || notok "the installed binary does not run"
# The installed scripts find their libraries (plots/msb, msbvm) without the source tree.
python3 "$top/plots/synth.py" run --quiet --out "$t/installed.json" >/dev/null 2>&1
out=$(cd / && python3 "$root/share/msealbench/plots/compare.py" --bootstrap 100 "$t/installed.json" 2>&1; \
      "$root/bin/msealbench" vm --kernel "x=$t/no-such-image" 2>&1)
if echo "$out" | grep -q "^verdicts: " && echo "$out" | grep -q "msealbench vm: kernel image .*no-such-image"; then
  ok "the installed compare.py and msealbench vm run on their installed libraries"
else
  notok "installed scripts: $(echo "$out" | tail -3)"
fi
"$root/bin/msealbench" run --quick --filter harness.empty --seal none --out "$t/inst.json" --quiet \
  && ok "the installed binary runs a cell" || notok "the installed binary cannot run a cell"

# A fresh machine: libpfm4's header appears only when make deps has run. `make build` (what bench
# and check use) must build with it; and a build dir made without it must be rebuilt with it.
pfm=/usr/include/perfmon/pfmlib_perf_event.h
if [ -f "$pfm" ]; then
  mkdir -p "$t/pfm"
  printf 'ln -sf %s %s/pfm/pfmlib_perf_event.h\n' "$pfm" "$t" >"$t/fake-deps.sh"
  make -s -C "$top" BUILD="$t/build-deps" PFM_HEADER="$t/pfm/pfmlib_perf_event.h" \
    DEPS_SH="sh $t/fake-deps.sh" build >"$t/deps-build.log" 2>&1
  naming=$("$t/build-deps/msealbench" events 2>&1 | grep -m1 '^event naming')
  case "$naming" in
    *"event naming: libpfm4"*) ok "make build uses libpfm4 that make deps installed in the same make" ;;
    *) notok "make build after deps installed libpfm4: $naming $(tail -3 "$t/deps-build.log")" ;;
  esac
  rm -f "$t/pfm/pfmlib_perf_event.h"
  make -s -C "$top" BUILD="$t/build-deps" PFM_HEADER="$t/pfm/pfmlib_perf_event.h" all >"$t/deps-build.log" 2>&1
  naming=$("$t/build-deps/msealbench" events 2>&1 | grep -m1 '^event naming')
  case "$naming" in
    *"built without libpfm4"*) ok "a build dir rebuilds when libpfm4 goes away (flags recorded)" ;;
    *) notok "rebuild without libpfm4 kept stale objects: $naming" ;;
  esac
else
  skip "make build picks up libpfm4 installed by make deps" "no libpfm4 header at $pfm"
fi

# make deps as a user who cannot install: exact command, non-zero exit.
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
  out=$(MSB_DEPS_EXTRA="msb-no-such-command:msb-example-package" \
        setpriv --reuid 65534 --regid 65534 --clear-groups sh "$(reachable_copy "$top/tools/deps.sh" "$t")" bench 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && echo "$out" | grep -q "apt-get install -y --no-install-recommends msb-example-package"; then
    ok "deps.sh as non-root prints the exact install command and fails"
  else
    notok "deps.sh as non-root: exit $rc: $out"
  fi
else
  skip "deps.sh as non-root" "needs root and setpriv to switch to an unprivileged user"
fi
# DEPS=no never installs, even as root: an apt-get first in PATH that records being called stays
# uncalled, the missing package is named, and the exit is 0 (the tests that need it skip).
mkdir -p "$t/fakebin"
printf '#!/bin/sh\necho "$@" >>%s/apt-called\n' "$t" >"$t/fakebin/apt-get"; chmod +x "$t/fakebin/apt-get"
out=$(DEPS=no MSB_DEPS_EXTRA="msb-no-such-command:msb-example-package" PATH="$t/fakebin:$PATH" \
      sh "$top/tools/deps.sh" check 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [ ! -e "$t/apt-called" ] && echo "$out" | grep -q "DEPS=no.*msb-example-package"; then
  ok "deps.sh with DEPS=no names what is missing, runs no apt-get and succeeds"
else
  notok "deps.sh DEPS=no: exit $rc, apt-get called: $(cat "$t/apt-called" 2>/dev/null), output: $out"
fi
printf 'echo "DEPS=$DEPS" >%s/deps-env\n' "$t" >"$t/fake-deps-env.sh"
make -s -C "$top" deps-check DEPS=no DEPS_SH="sh $t/fake-deps-env.sh" >/dev/null 2>&1
check "make deps-check DEPS=no hands DEPS=no to deps.sh" grep -qx "DEPS=no" "$t/deps-env"
# Multiarch: libc.a is looked for in the host's triplet directory, not a fixed x86-64 path.
triplet=$(gcc -print-multiarch 2>/dev/null)
if [ -n "$triplet" ] && [ -e "/usr/lib/$triplet/libc.a" ]; then
  out=$(DEPS=no PATH="$t/fakebin:$PATH" sh "$top/tools/deps.sh" bench 2>&1)
  case "$out" in *libc6-dev*) notok "deps.sh reports libc6-dev missing although /usr/lib/$triplet/libc.a exists" ;;
    *) ok "deps.sh finds libc.a in /usr/lib/$triplet" ;; esac
else
  skip "deps.sh finds libc.a by the multiarch triplet" "no gcc -print-multiarch or no libc.a"
fi
grep -q '/usr/lib/x86_64' "$top/tools/deps.sh" && notok "deps.sh hard-codes an x86_64 path" || ok "deps.sh hard-codes no x86_64 path"
sh "$top/tools/deps.sh" bench >/dev/null 2>&1 && ok "deps.sh bench: nothing missing after make deps" || notok "deps.sh bench still finds something missing"
done_testing
