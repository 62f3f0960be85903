# SPDX-License-Identifier: GPL-2.0-only
"""What every Python entry point of msealbench (plots/*.py, the vm runner) shares: the one way
they end (known errors as one line and an exit status, stop signals as 128 + the signal),
children that die with them, files written whole or not at all, bounded numeric options, a
parser whose errors are one line, and text from files made safe for a terminal."""
import argparse
import ctypes
import errno
import functools
import os
import signal
import subprocess
import sys
import tempfile
import time

INTERNAL_ERROR = 3
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE = 2.0         # seconds a child has to exit after SIGTERM before SIGKILL
PR_SET_PDEATHSIG = 1
_children = set()        # Popen objects that may still run
_temporaries = set()     # files to remove when the command ends, however it ends


class Failure(Exception):
    """A failure with a message for the user and the exit status it ends with."""

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


class OutputError(Failure):
    """An output file could not be written; str() names it and why."""


class Stopped(BaseException):
    """SIGTERM, SIGINT or SIGHUP arrived: unwind, stop the children, exit 128 + signal."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class Parser(argparse.ArgumentParser):
    """argparse with bad input as one line (no usage block), exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {terminal_text(message)} (try '{self.prog} --help')\n")


# ---- children

def _die_with(parent):
    """preexec_fn of every child: the kernel SIGKILLs it when its parent dies, even by SIGKILL."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:   # the parent died before prctl took effect
        os._exit(127)


def spawn(cmd, group=False, **kw):
    """subprocess.Popen of a child that dies with this process and is stopped when it ends.
    group: the child leads a process group of its own, and stopping it stops the whole group
    (a child that starts programs of its own, as lava-run starts qemu).
    A program that cannot be started is a Failure naming it."""
    try:
        proc = subprocess.Popen(cmd, preexec_fn=functools.partial(_die_with, os.getpid()),
                                start_new_session=group, **kw)
    except OSError as e:
        why = "not found" if isinstance(e, FileNotFoundError) else e.strerror
        raise Failure(f"cannot start {cmd[0]}: {why}") from None
    proc.msb_group = group
    _children.add(proc)
    return proc


def _signal(proc, signum):
    """signum to the child, or to its whole process group when it leads one."""
    try:
        if getattr(proc, "msb_group", False):
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_child(proc, grace=STOP_GRACE):
    """Stops a child (its group, if it leads one): SIGTERM, SIGKILL after grace seconds;
    waited for. A group leader that has exited may have left members: they get SIGKILL."""
    _signal(proc, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    _signal(proc, signal.SIGKILL)
    proc.wait()
    finished(proc)


def finished(proc):
    """The child has been waited for: nothing to stop any more."""
    _children.discard(proc)


def run_child(cmd, timeout=None, input=None, capture_output=False, **kw):
    """subprocess.run for spawn(): a CompletedProcess; on a timeout the child is killed and
    subprocess.TimeoutExpired raised."""
    if capture_output:
        kw.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if input is not None:
        kw["stdin"] = subprocess.PIPE
    proc = spawn(cmd, **kw)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    finally:
        if proc.returncode is not None:
            finished(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _stop(signum, frame):
    raise Stopped(signum)


def _clean_up():
    """Every exit path: SIGTERM the children still running, SIGKILL them after STOP_GRACE,
    remove the temporary files."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    for proc in _children:
        _signal(proc, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for proc in _children:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL)
            proc.wait()
        if getattr(proc, "msb_group", False):
            _signal(proc, signal.SIGKILL)   # what the group leader left behind
    _children.clear()
    for path in list(_temporaries):
        remove_temporary(path)


# ---- files

def temporary(path):
    """Registers path as a file to remove if the command ends before it is renamed or removed."""
    _temporaries.add(path)
    return path


def remove_temporary(path):
    _temporaries.discard(path)
    try:
        os.unlink(path)
    except OSError:
        pass


def write_error(path, error):
    """OutputError for an OSError met while writing path."""
    if error.errno == errno.ENOSPC:
        return OutputError(f"no space left on device writing {path}: earlier files are kept")
    return OutputError(f"cannot write {path}: {error.strerror or error}")


def temporary_name(path):
    """A new empty file beside path (same file system) to write before the rename, removed if
    the command ends first."""
    directory, base = os.path.split(path)
    fd, name = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory or ".")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)
    return temporary(name)


def replace_with(temporary_path, path):
    """Renames a complete temporary file over path: only over a regular file or nothing,
    and never an empty one (a write that failed without saying so)."""
    try:
        if os.path.isdir(path):
            raise OutputError(f"{path}: is a directory")
        if os.path.lexists(path) and (os.path.islink(path) or not os.path.isfile(path)):
            raise OutputError(f"{path}: exists and is not a regular file; not replaced")
        if os.path.getsize(temporary_path) == 0:
            raise OSError(errno.ENOSPC if full(path) else errno.EIO, "nothing was written")
        os.replace(temporary_path, path)
    except OSError as e:
        raise write_error(path, e) from None
    finally:
        remove_temporary(temporary_path)


def full(path):
    """Whether the file system of path has no block left for an ordinary user."""
    try:
        return os.statvfs(os.path.dirname(path) or ".").f_bavail == 0
    except OSError:
        return False


def make_directory(path):
    """os.makedirs as one OutputError line."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise OutputError(f"{path}: exists and is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise write_error(path, e) from None


def write_file(path, data):
    """Writes data (text or bytes) to path through a temporary file beside it, renamed over
    path only when complete: a failure (a full disk, a signal) leaves the earlier path as it was."""
    try:
        name = temporary_name(path)
        with open(name, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as e:
        raise write_error(path, e) from None
    replace_with(name, path)


def write_output(path, text):
    """A command's output: to standard output when path is "-", else written whole to path
    (write_file), ending with a newline either way."""
    text = text if text.endswith("\n") else text + "\n"
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_file(path, text)


def number_in(kind, low, high):
    """An argparse type: int or float text whose value lies in [low, high] (NaN never does)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not between {low} and {high}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def percent(text):
    """An argparse type: "2", "2%" or "2.5%" -> 0.02 / 0.025, from 0% to below 100%."""
    try:
        value = float(text.strip().rstrip("%")) / 100.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (e.g. 2 or 2%)") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0% and 100%")
    return value


SEED = number_in(int, 0, 2 ** 32 - 1)
BOOTSTRAP = number_in(int, 100, 20000)   # resamples: 20000 takes ten times the default


def terminal_text(text):
    """text with every character a terminal would act on (C0 and C1 controls, DEL,
    carriage return, newline, bidi and other format characters) shown as an escape."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))


def warn(prog, warnings):
    """Each warning as one line "prog: warning: ..." on stderr."""
    for warning in warnings:
        print(f"{prog}: warning: {terminal_text(warning)}", file=sys.stderr)


def guarded(prog, action, args, exit_codes=None, stopped_note=""):
    """Runs action(args) and ends it the one way: a Failure, or an exception of a class in
    exit_codes, prints "prog: message" and returns its status; a stop signal 128 + its number.
    Anything else is a bug: one line, status 3, and a traceback only with MSEALBENCH_DEBUG set.
    On every path the children are stopped and the temporary files removed."""
    exit_codes = exit_codes or {}
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop)
    try:
        return action(args)
    except Stopped as e:
        print(f"{prog}: stopped by {signal.Signals(e.signum).name}"
              f"{'; ' + stopped_note if stopped_note else ''}", file=sys.stderr)
        return 128 + e.signum
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (Failure,) + tuple(exit_codes) as e:
        print(f"{prog}: {terminal_text(e)}", file=sys.stderr)
        return e.status if isinstance(e, Failure) else \
            next(code for kind, code in exit_codes.items() if isinstance(e, kind))
    except Exception as e:
        if os.environ.get("MSEALBENCH_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {terminal_text(e)} "
              "(set MSEALBENCH_DEBUG=1 for a traceback)", file=sys.stderr)
        return INTERNAL_ERROR
    finally:
        _clean_up()
