"""The one way the plots/ scripts end: known errors as one line and an exit status."""
import os
import sys

INTERNAL_ERROR = 3


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
        print(f"{prog}: {e}", file=sys.stderr)
        return next(code for kind, code in exit_codes.items() if isinstance(e, kind))
    except Exception as e:
        if os.environ.get("MSEALBENCH_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {e} (set MSEALBENCH_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return INTERNAL_ERROR
