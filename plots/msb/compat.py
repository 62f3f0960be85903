# SPDX-License-Identifier: GPL-2.0-only
"""Real programs run plain and sealed: what one run of a program gave (exit status, signal,
output), how two such runs differ, and the program lists that `msealbench try --list` and
`msealbench vm --compat-list` read. One owner for both: the host with userspace sealing and the
sealed kernel in a VM report their differences alike.

A program list is text, one entry a line, words split as a shell would (shlex), # comments:
    run  NAME  COMMAND ARGS...    a program to run; {helpers} stands for msealbench's helpers
                                  directory (build/helpers, or PREFIX/libexec/msealbench)
    file NAME  PATH...            host files or directories NAME needs besides its program,
                                  loader and libraries (packed into the guest by vm --compat)
"""
import dataclasses
import os
import re
import shlex
import signal

from .cli import Failure

DIFF_CONTEXT = 200     # characters of a differing line shown


@dataclasses.dataclass
class Outcome:
    """One run of a program: exit status or terminating signal, and its output."""
    status: int = None      # exit status, None when a signal ended it
    signal: int = None
    stdout: bytes = b""
    stderr: bytes = b""

    @classmethod
    def from_returncode(cls, returncode, stdout, stderr):
        """From subprocess's returncode (negative: killed by that signal)."""
        if returncode is not None and returncode < 0:
            return cls(None, -returncode, stdout or b"", stderr or b"")
        return cls(returncode, None, stdout or b"", stderr or b"")

    def ending(self):
        """"exit 0" or "signal 11 (SIGSEGV)"."""
        if self.signal is not None:
            return f"signal {self.signal} ({signal_name(self.signal)})"
        return f"exit {self.status}"

    def signature(self):
        """What two runs that behaved alike share (addresses and process ids masked)."""
        return (self.status, self.signal) + tuple(
            tuple(comparable(line) for line in _lines(data)) for data in (self.stdout, self.stderr))

    def as_dict(self):
        return {"exit_status": self.status, "signal": self.signal,
                "signal_name": signal_name(self.signal) if self.signal else None}


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _lines(data):
    return data.decode("utf-8", "replace").splitlines()


# What differs from run to run whatever the sealing: addresses (ASLR) and Valgrind's "==PID==".
RUN_TO_RUN = re.compile(r"0x[0-9a-fA-F]{6,}|\b[0-9a-f]{8,16}-[0-9a-f]{8,16}\b|^==[0-9]+==")


def comparable(line):
    """line with addresses and process ids masked, for comparing runs."""
    return None if line is None else RUN_TO_RUN.sub("#", line)


def first_difference(plain, sealed):
    """(line number from 1, plain line, sealed line) of the first line where two outputs differ
    (None for a line one of them lacks), or None when they are the same. Addresses and Valgrind's
    process ids are masked first (comparable()): they change with every run."""
    a, b = _lines(plain), _lines(sealed)
    for i in range(max(len(a), len(b))):
        left = a[i] if i < len(a) else None
        right = b[i] if i < len(b) else None
        if comparable(left) != comparable(right):
            return (i + 1, None if left is None else left[:DIFF_CONTEXT],
                    None if right is None else right[:DIFF_CONTEXT])
    return None


def differences(plain, sealed):
    """What differs between a plain and a sealed Outcome, as dicts: {"what": "ending", "plain":
    "exit 0", "sealed": "exit 1"} and, per stream, {"what": "stdout", "line": N, "plain": TEXT,
    "sealed": TEXT}. Empty when they behaved alike."""
    found = []
    if plain.ending() != sealed.ending():
        found.append({"what": "ending", "plain": plain.ending(), "sealed": sealed.ending()})
    for stream in ("stdout", "stderr"):
        diff = first_difference(getattr(plain, stream), getattr(sealed, stream))
        if diff:
            found.append({"what": stream, "line": diff[0], "plain": diff[1], "sealed": diff[2]})
    return found


def difference_text(d):
    """One line for a difference of differences()."""
    if d["what"] == "ending":
        return f"{d['plain']} plain, {d['sealed']} sealed"
    show = lambda text: "(no such line)" if text is None else repr(text)   # noqa: E731
    return f"{d['what']} line {d['line']}: plain {show(d['plain'])}, sealed {show(d['sealed'])}"


# ------------------------------------------------------------------ program lists

@dataclasses.dataclass
class Program:
    name: str
    argv: list
    files: list = dataclasses.field(default_factory=list)


def expand(word, helpers):
    return word.replace("{helpers}", helpers)


def read_list(path, helpers):
    """The programs of a list file, in its order; Failure (exit 2) naming the line at fault."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise Failure(f"{path}: cannot read the program list: {getattr(e, 'strerror', None) or e}") from None
    programs, by_name = [], {}
    for number, line in enumerate(text.splitlines(), 1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            raise Failure(f"{path}:{number}: {e}") from None
        if not words:
            continue
        if words[0] not in ("run", "file") or len(words) < 3:
            raise Failure(f"{path}:{number}: expected 'run NAME COMMAND ARGS...' or 'file NAME PATH...'")
        kind, name, rest = words[0], words[1], [expand(w, helpers) for w in words[2:]]
        if kind == "run":
            if name in by_name:
                raise Failure(f"{path}:{number}: program {name!r} listed twice")
            by_name[name] = Program(name, rest)
            programs.append(by_name[name])
        elif name not in by_name:
            raise Failure(f"{path}:{number}: 'file {name}' before 'run {name} ...'")
        else:
            by_name[name].files += rest
    if not programs:
        raise Failure(f"{path}: no program in the list (lines 'run NAME COMMAND ARGS...')")
    return programs


def default_list():
    """vm/compat-default.list of the source tree, or of the installation."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for candidate in (os.path.join(here, "vm", "compat-default.list"),
                      os.path.join(os.path.dirname(os.path.dirname(here)), "libexec", "msealbench",
                                   "compat-default.list")):
        if os.path.isfile(candidate):
            return candidate
    return None


def suite_file(in_tree, installed):
    """A file of the built suite: build/IN_TREE in the source tree, PREFIX/libexec/msealbench/
    INSTALLED when installed (plots/ is TOP/plots or PREFIX/share/msealbench/plots). None when
    neither exists."""
    plots = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    prefix = os.path.dirname(os.path.dirname(os.path.dirname(plots)))
    for candidate in (os.path.join(os.path.dirname(plots), "build", in_tree),
                      os.path.join(prefix, "libexec", "msealbench", installed)):
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    return None


def helpers_dir():
    """Where msealbench's helper programs are: {helpers} in a program list."""
    return suite_file("helpers", "") or "{helpers}"
