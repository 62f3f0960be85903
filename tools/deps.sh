#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian packages msealbench needs, when they are missing.
#   deps.sh bench   what `make bench` needs: compiler, libpfm4, python3, gnuplot
#   deps.sh check   that plus what the tests use: clang, perf, cross compiler, qemu, jsonschema,
#                   chromium (t_report.py renders the report's HTML: about 120 MB, 16 s to install here)
#                   google-benchmark's compare.py (libbenchmark-tools, python3-scipy)
#                   lava-dispatcher, python3-jinja2 and busybox-static (msealbench lava)
# As root it runs apt-get; otherwise it prints the exact command and fails.
# DEPS=no (make deps DEPS=no, as debian/rules and other packagers' builds pass it) never installs
# and never reaches the network: it names what is missing and succeeds; the tests that need a
# missing package skip, saying so.
set -eu
want="${1:-bench}"
deps="${DEPS:-auto}"
case "$deps" in
  no|auto) ;;
  *) echo "deps.sh: DEPS='$deps': use auto (install when root, the default) or no (never install)" >&2; exit 2 ;;
esac

# libc.a lives in the host's multiarch directory (gcc -print-multiarch: the Debian triplet).
triplet=$(gcc -print-multiarch 2>/dev/null || true)
[ -n "$triplet" ] || triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)
[ -n "$triplet" ] || triplet="$(uname -m)-linux-gnu"

# "command-or-file package" pairs: the package is needed when the command (or file) is absent.
bench_needs="
cc:gcc
make:make
/usr/include/stdio.h:libc6-dev
/usr/lib/$triplet/libc.a:libc6-dev
/usr/include/perfmon/pfmlib_perf_event.h:libpfm4-dev
python3:python3
gnuplot:gnuplot-nox
git:git
"
check_needs="
clang:clang
perf:linux-perf
aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu
/usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross
qemu-aarch64-static:qemu-user-static
qemu-system-x86_64:qemu-system-x86
qemu-system-aarch64:qemu-system-arm
cpio:cpio
gzip:gzip
strace:strace
/usr/lib/python3/dist-packages/jsonschema/__init__.py:python3-jsonschema
chromium:chromium
/usr/share/benchmark/compare.py:libbenchmark-tools
/usr/lib/python3/dist-packages/scipy/__init__.py:python3-scipy
/usr/lib/python3/dist-packages/numpy/__init__.py:python3-numpy
groff:groff-base
dpkg-buildpackage:dpkg-dev
dh:debhelper
lintian:lintian
/usr/bin/lava-run:lava-dispatcher
/usr/lib/python3/dist-packages/jinja2/__init__.py:python3-jinja2
/bin/busybox:busybox-static
/usr/lib/python3/dist-packages/yaml/__init__.py:python3-yaml
"
# lava-dispatcher (msealbench lava, tests/t_lava.py) brings 151 packages (new or upgraded): on a bookworm
# machine without them, apt-get install took 57 s of wall time (52.8 MB fetched).
case "$want" in
  bench) needs="$bench_needs" ;;
  check) needs="$bench_needs $check_needs" ;;
  *) echo "deps.sh: unknown set '$want' (bench or check)" >&2; exit 2 ;;
esac
# Extra "thing:package" pairs (the tests use this to see what a machine lacking one gets).
needs="$needs ${MSB_DEPS_EXTRA:-}"

missing=""
for pair in $needs; do
  thing=${pair%%:*}; pkg=${pair#*:}
  case "$thing" in
    /*) [ -e "$thing" ] && continue ;;
    *) command -v "$thing" >/dev/null 2>&1 && continue ;;
  esac
  case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$deps" = no ]; then
  echo "not installing (DEPS=no):$missing; what needs them is skipped (install: $cmd)" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "msealbench needs these Debian packages:$missing" >&2
  echo "install them with: sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "msealbench needs:$missing (no apt-get here: install them with your package manager)" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
