"""The one way the plots/ scripts end: known errors as one line and an exit status;
bounded numeric options; text from files made safe for a terminal."""
import argparse
import errno
import os
import sys

INTERNAL_ERROR = 3


class OutputError(Exception):
    """An output file could not be written; str() names it and why."""


def write_error(path, error):
    """OutputError for an OSError met while writing path."""
    if error.errno == errno.ENOSPC:
        return OutputError(f"no space left on device writing {path}: earlier files are kept")
    return OutputError(f"cannot write {path}: {error.strerror or error}")


def temporary_name(path):
    """A name beside path for writing it before the rename (same file system)."""
    directory, base = os.path.split(path)
    return os.path.join(directory, f".{base}.{os.getpid()}.tmp")


def replace_with(temporary, path):
    """Renames a complete temporary file over path: only over a regular file or nothing,
    and never an empty one (a write that failed without saying so)."""
    try:
        if os.path.isdir(path):
            raise OutputError(f"{path}: is a directory")
        if os.path.lexists(path) and (os.path.islink(path) or not os.path.isfile(path)):
            raise OutputError(f"{path}: exists and is not a regular file; not replaced")
        if os.path.getsize(temporary) == 0:
            raise OSError(errno.ENOSPC if full(path) else errno.EIO, "nothing was written")
        os.replace(temporary, path)
    except OSError as e:
        raise write_error(path, e) from None
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


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


def write_file(path, text):
    """Writes text to path through a temporary file beside it, renamed over path only
    when complete: a failure (a full disk) leaves the earlier path as it was."""
    temporary = temporary_name(path)
    try:
        with open(temporary, "x", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise write_error(path, e) from None
    replace_with(temporary, path)


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


SEED = number_in(int, 0, 2 ** 32 - 1)
BOOTSTRAP = number_in(int, 100, 20000)   # resamples: 20000 takes ten times the default


def terminal_text(text):
    """text with every character a terminal would act on (C0 and C1 controls, DEL,
    carriage return, newline, bidi and other format characters) shown as an escape."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))


def guarded(prog, action, args, exit_codes):
    """Runs action(args); an exception of a class in exit_codes prints "prog: message"
    and returns its status. Anything else is a bug: one line, status 3, and a
    traceback only with MSEALBENCH_DEBUG set."""
    try:
        return action(args)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except tuple(exit_codes) as e:
        print(f"{prog}: {terminal_text(e)}", file=sys.stderr)
        return next(code for kind, code in exit_codes.items() if isinstance(e, kind))
    except Exception as e:
        if os.environ.get("MSEALBENCH_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {terminal_text(e)} "
              "(set MSEALBENCH_DEBUG=1 for a traceback)", file=sys.stderr)
        return INTERNAL_ERROR
