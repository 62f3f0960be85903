# SPDX-License-Identifier: GPL-2.0-only
"""Where msealbench vm finds the rest of msealbench, in the source tree or installed.
(Imports nothing of msealbench: the command needs it to find plots/msb first.)"""
import os

HERE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))   # vm/, or PREFIX/share/msealbench/vm


def source_top():
    """The source tree vm/ lives in, or None when installed."""
    top = os.path.dirname(HERE)
    if os.path.isfile(os.path.join(top, "Makefile")) and os.path.isdir(os.path.join(top, "plots")):
        return top
    return None


def plots_dir():
    """plots/ of the source tree, or of the installation (PREFIX/share/msealbench/plots)."""
    top = source_top()
    if top:
        return os.path.join(top, "plots")
    return os.path.join(os.path.dirname(HERE), "plots")   # HERE is PREFIX/share/msealbench/vm


def installed_suite(arch):
    """The static suite `make install` puts in PREFIX/libexec/msealbench/suite-ARCH (msealbench
    and helpers/), or None."""
    prefix = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
    suite = os.path.join(prefix, "libexec", "msealbench", f"suite-{arch}")
    return suite if os.path.isfile(os.path.join(suite, "msealbench")) else None
