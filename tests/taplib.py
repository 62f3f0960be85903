"""TAP helpers for python tests: ok/notok/skip lines that tests/run.sh counts."""
import os
import shutil
import sys

TOP = os.environ.get("MSEALBENCH_TOP", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MSEALBENCH = os.environ.get("MSEALBENCH", os.path.join(TOP, "build", "msealbench"))
_failures = 0


def reachable_copy(path, directory):
    """A copy of `path` in `directory` that any user can read and run: tests that switch to an
    unprivileged user must work from a checkout in a 0700 directory too."""
    os.chmod(directory, os.stat(directory).st_mode | 0o755)
    copy = os.path.join(directory, os.path.basename(path))
    shutil.copy(path, copy)
    os.chmod(copy, 0o755)
    return copy


def processes_marked(name, value):
    """PIDs of the processes whose environment holds name=value: a test marks what it starts
    (children inherit the mark) and finds out which of them are still alive."""
    needle = f"{name}={value}\0".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def ok(cond, what, detail=""):
    global _failures
    if cond:
        print(f"ok - {what}")
    else:
        _failures += 1
        print(f"not ok - {what}" + (f": {detail}" if detail else ""))
    sys.stdout.flush()
    return cond


def skip(what, why):
    print(f"ok - {what} # SKIP {why}")


def done():
    sys.exit(1 if _failures else 0)
