# SPDX-License-Identifier: GPL-2.0-only
"""The initramfs: a reproducible newc cpio of the suite and the plan /init follows."""

from .common import VmError


def cpio_newc(entries):
    """entries: list of (name, mode, data bytes, rdev (major, minor)). Fixed inode numbers,
    owner root, mtime 0, sorted by name: the same inputs give the same bytes."""
    out = bytearray()

    def pad4():
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data, rdev) in enumerate(sorted(entries) + [("TRAILER!!!", 0, b"", (0, 0))]):
        nlink = 2 if mode & 0o170000 == 0o040000 else 1
        fields = [ino + 1 if name != "TRAILER!!!" else 0, mode, 0, 0, nlink, 0, len(data),
                  0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        out.extend(b"070701" + "".join(f"{v:08x}" for v in fields).encode())
        out.extend(name.encode() + b"\0")
        pad4()
        out.extend(data)
        pad4()
    return bytes(out)


def build_initramfs(files, plan, links=None):
    """files {guest path: host path}, plan (text of msb/plan, or None for none), links
    {guest path: symlink target}: the newc cpio."""
    dirs = {"dev", "msb", "msb/helpers", "proc", "sys", "tmp"}
    for guest in list(files) + list(links or {}):
        parts = guest.split("/")[:-1]
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    entries = [(d, 0o040755, b"", (0, 0)) for d in dirs]
    entries.append(("dev/console", 0o020600, b"", (5, 1)))
    for guest, host in files.items():
        with open(host, "rb") as f:
            entries.append((guest, 0o100755, f.read(), (0, 0)))
    for guest, target in (links or {}).items():
        entries.append((guest, 0o120777, target.encode(), (0, 0)))
    if plan is not None:
        entries.append(("msb/plan", 0o100644, plan.encode(), (0, 0)))
    return cpio_newc(entries)


def plan_text(label, args):
    """What vm-init does: one step a line, fields separated by TABs (see bench/helpers/vm-init.c)."""
    run = ["/msb/msealbench", "run", "--out", "/tmp/run.json", "--label", label]
    if args.quick:
        run.append("--quick")
    for opt in ("filter", "seal", "min_time", "repetitions", "events"):
        value = getattr(args, opt)
        if value is not None:
            run += ["--" + opt.replace("_", "-"), str(value)]
    if not args.quick and args.repetitions is None:
        # An adaptive run's further rounds stop within half the boot's --timeout, so the boot
        # sends its results instead of being killed with them.
        run += ["--time-budget", f"{max(1, int(args.timeout / 2))}"]
    for field in run:
        if "\t" in field or "\n" in field:
            raise VmError(f"option value {field!r} holds a TAB or newline")
    steps = [
        ["send", "config.gz", "/proc/config.gz"],
        ["send", "version", "/proc/version"],
        ["run", "env", "capture", "/msb/msealbench", "env"],
        ["run", "probe", "capture", "/msb/msealbench", "probe", "--json"],
        ["run", "run", "console"] + run,
        ["send", "run.json", "/tmp/run.json"],
    ]
    return "".join("\t".join(s) + "\n" for s in steps)
