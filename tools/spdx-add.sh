#!/bin/sh
# Adds "SPDX-License-Identifier: GPL-2.0-only" to every source file of the checkout that lacks one
# (tests/t_license.py checks the same set): C sources and headers, python, shell, Makefiles,
# gnuplot scripts, the man page and every other file that starts with "#!". The line goes first,
# or second after a "#!" line, in the file's comment syntax. Running it again changes nothing.
#   tools/spdx-add.sh [FILE...]    (default: every file git tracks)
set -eu
cd "$(dirname "$0")/.."
ID="SPDX-License-Identifier: GPL-2.0-only"

comment_for() {
  case "$1" in
    *.c|*.h) echo "/* $ID */" ;;
    *.1) echo ".\\\" $ID" ;;
    *.py|*.sh|*.gp|Makefile|*/Makefile|*.mk) echo "# $ID" ;;
    *) head -c 2 "$1" | grep -q '^#!' && echo "# $ID" || true ;;
  esac
}

if [ $# -eq 0 ]; then
  set -- $(git ls-files)
fi
added=0
for f in "$@"; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  line=$(comment_for "$f")
  [ -n "$line" ] || continue
  head -n 5 "$f" | grep -q 'SPDX-License-Identifier:' && continue
  tmp="$f.spdx.tmp"
  if head -c 2 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } >"$tmp"
  else
    { echo "$line"; cat "$f"; } >"$tmp"
  fi
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
  added=$((added + 1))
done
echo "spdx-add: added the SPDX line to $added file(s)"
