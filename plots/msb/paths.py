# SPDX-License-Identifier: GPL-2.0-only
"""Where msealbench's files are: in a source tree, or installed (make install, the Debian package).

In a source tree the defaults are relative to its top, as `make bench` uses them: results/,
plots/out/, build/msealbench. Installed, the current directory takes the top's place: results/ and
plots/out/ are read and written there, never under PREFIX (which a normal user cannot write)."""
import os

PLOTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # plots/, or PREFIX/share/msealbench/plots


def source_top():
    """The source tree plots/ lives in, or None when installed."""
    top = os.path.dirname(PLOTS)
    if os.path.isfile(os.path.join(top, "Makefile")) and os.path.isdir(os.path.join(top, "src")):
        return top
    return None


def work_path(*parts):
    """A default place to read or write: under the source tree's top, or the current directory."""
    return os.path.join(source_top() or os.curdir, *parts)


def runner():
    """The msealbench binary beside these scripts: build/msealbench, or PREFIX/bin/msealbench."""
    top = source_top()
    if top:
        return os.path.join(top, "build", "msealbench")
    prefix = os.path.dirname(os.path.dirname(os.path.dirname(PLOTS)))
    return os.path.join(prefix, "bin", "msealbench")
