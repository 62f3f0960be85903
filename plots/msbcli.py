"""The one way the plots/ scripts end: known errors as one line and an exit status;
bounded numeric options; text from files made safe for a terminal."""
import argparse
import os
import sys

INTERNAL_ERROR = 3


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
