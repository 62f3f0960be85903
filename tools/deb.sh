#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Builds the Debian package from a copy of the checkout in $TMPDIR, so the build writes nothing
# into the source tree, and offline: debian/rules passes DEPS=no, and dpkg-checkbuilddeps refuses
# to start when a Build-Depends package is missing (install them: apt-get build-dep ./ or
# make deps-check). The .deb files land in OUTDIR (default build-deb/).
#   tools/deb.sh [OUTDIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/msealbench-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/msealbench"
# The files of the checkout, tracked or new, not what .gitignore names (build/, results/*.json).
(cd "$top" && git ls-files -z -c -o --exclude-standard) | (cd "$top" && xargs -0 cp -P --parents -t "$work/msealbench")
cd "$work/msealbench"
dpkg-checkbuilddeps
dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; exit 1; }
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
  [ -e "$f" ] && cp "$f" "$out/"
done
ls "$out"/*.deb
