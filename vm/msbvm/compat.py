# SPDX-License-Identifier: GPL-2.0-only
"""msealbench vm --compat: host programs run inside each kernel, plain against sealed.

Each program goes into the initramfs at its host path with its dynamic loader and libraries
(PT_INTERP and DT_NEEDED, followed recursively), their detached debug symbols where installed,
every argument that names an existing host file (and its libraries), and the extra files of its
list entry ('file' lines). vm-init runs them one
after another with stdin from /dev/null and sends back stdout, stderr and the exit status or
signal. The first kernel is the baseline: each program's outcome in the others is compared with
it by msb.compat, as `msealbench try` compares the host's plain and sealed runs."""
import gzip
import json
import os
import shlex
import shutil

from msb import compat, tables
from msb.elf import debug_file, elf_info

from .boot import boot, qemu_command
from .common import ARCHES, HOST_ARCH, VmError, say, write_file
from .image import build_suite, check_suite, dynamic_runtime
from .initramfs import build_initramfs
from .merge import config_options
from .paths import source_top

CONFIG_OPTIONS = ["CONFIG_MSEAL_SYSTEM_MAPPINGS", "CONFIG_CHECKPOINT_RESTORE"]

# Directories the guest's init mounts (bench/helpers/vm-init.c), as initramfs paths.
GUEST_MOUNTS = ("tmp/", "proc/", "sys/", "dev/")


def helpers_dir(arch):
    """{helpers} in a program list: the build directory's helpers of the guest's architecture."""
    top = source_top()
    if top:
        return os.path.join(top, "build" if arch == HOST_ARCH else f"build-{arch}", "helpers")
    return compat.helpers_dir()


def programs_for(arch, args):
    if args.compat:
        return [compat.Program(os.path.basename(args.compat[0]), list(args.compat))]
    path = compat.default_list() if args.compat_list == "default" else args.compat_list
    if not path:
        raise VmError("--compat-list default: vm/compat-default.list is missing")
    return compat.read_list(path, helpers_dir(arch))


def resolve(word):
    found = word if "/" in word else shutil.which(word)
    return os.path.abspath(found) if found and os.path.isfile(found) else None


def pack_program(program, arch):
    """({guest path: host path}, argv for the guest) of one program, or (None, why it cannot run)."""
    want = ARCHES[arch]["elf_machine"]
    exe = resolve(program.argv[0])
    if not exe:
        return None, f"{program.argv[0]}: not found on this machine"
    info = elf_info(exe)
    if not info:
        return None, f"{exe}: not an ELF program (scripts need a shell the guest lacks)"
    if info[0] != want:
        return None, f"{exe}: not an {arch} program (ELF machine {info[0]})"
    files, elves = {exe.lstrip("/"): exe}, [exe]
    # a path relative to here means the same file in the guest: made absolute, then packed
    argv = [exe] + [os.path.abspath(a) if "/" in a and not os.path.isabs(a) and os.path.isfile(a) else a
                    for a in program.argv[1:]]
    extra = [a for a in argv[1:] if os.path.isabs(a) and os.path.isfile(a)]
    for path in program.files:
        if os.path.isdir(path):
            extra += [os.path.join(d, n) for d, _, names in os.walk(path) for n in names]
        elif os.path.isfile(path):
            extra.append(path)
        else:
            return None, f"{path}: a file the list names for {program.name} is missing"
    for path in extra:
        files[os.path.abspath(path).lstrip("/")] = os.path.realpath(path)
        path_info = elf_info(path)
        if path_info and path_info[0] == want and path_info[1]:
            elves.append(path)
    runtime = dynamic_runtime(arch, [e for e in elves if elf_info(e)[1]])
    if runtime is None:
        return None, f"{exe}: a library it needs is not in {arch}'s library directories"
    files.update(runtime)
    # Detached debug symbols where a -dbg package installed them: Valgrind needs the loader's
    # (it redirects ld.so's strlen by symbol name, and Debian strips ld.so).
    for host in list(runtime.values()) + elves:
        debug = debug_file(host)
        if debug:
            files[debug.lstrip("/")] = debug
    # The guest mounts its own /tmp (and proc, sys, dev) over whatever the initramfs holds there:
    # files from those host directories (a checkout in $TMPDIR, say) go under /host instead.
    moved = {}
    for guest in [g for g in files if g.startswith(GUEST_MOUNTS)]:
        moved["/" + guest] = "/host/" + guest
        files["host/" + guest] = files.pop(guest)
    argv = [moved.get(os.path.abspath(a) if os.path.isabs(a) else a, a) for a in argv]
    for word in argv:
        if "\t" in word or "\n" in word:
            return None, f"argument {word!r} holds a TAB or newline"
    return files, argv


def plan_for(packed):
    steps = [["send", "config.gz", "/proc/config.gz"], ["send", "version", "/proc/version"]]
    for i, (_, argv) in enumerate(packed):
        steps.append(["run", f"p{i}", "both"] + argv)
    return "".join("\t".join(s) + "\n" for s in steps)


def outcome_of(b, i):
    """The compat.Outcome of program i in boot b, or None with b's view of why not."""
    ending = b.exits.get(f"p{i}")
    if ending is None:
        return None
    word, _, number = ending.partition(" ")
    status = int(number) if word == "status" and number.lstrip("-").isdigit() else None
    sig = int(number) if word == "signal" and number.isdigit() else None
    if status is None and sig is None:
        status = 127   # vm-init could not start it (fork failed, ...)
    return compat.Outcome(status, sig, b.files.get(f"p{i}.stdout", b""), b.files.get(f"p{i}.stderr", b""))


def kernel_facts(b):
    facts = {"release": None, "config": None}
    if "version" in b.files:
        words = b.files["version"].decode("utf-8", "replace").split()
        facts["release"] = words[2] if len(words) > 2 else None
    if "config.gz" in b.files:
        try:
            facts["config"] = config_options(gzip.decompress(b.files["config.gz"]).decode("utf-8", "replace"),
                                             CONFIG_OPTIONS)
        except (OSError, EOFError):
            pass
    return facts


def run_compat(kernels, args, out, suites):
    """Boot each kernel once with the programs; write OUT/compat.json; return the exit status.
    suites: {arch: build directory} given with --suite (the others are built)."""
    results, failed, inits = [], False, {}
    for k in kernels:
        if k.arch not in inits:
            inits[k.arch] = check_suite(k.arch, suites.get(k.arch) or build_suite(k.arch))["init"]
    for k in kernels:
        programs = programs_for(k.arch, args)
        files = {"init": inits[k.arch]}
        packed, skipped = [], {}
        for p in programs:
            pfiles, argv = pack_program(p, k.arch)
            if pfiles is None:
                skipped[p.name] = argv
                continue
            files.update(pfiles)
            packed.append((p, argv))
        k.initrd = os.path.join(out, f"initramfs-compat-{k.label}.cpio")
        data = build_initramfs(files, plan_for(packed))
        write_file(k.initrd, data)
        k.accel = "tcg" if args.accel != "kvm" else "kvm"
        cmd = qemu_command(k.arch, k.accel, k.path, k.initrd, args.memory, args.append)
        say(f"{k.label}: {len(packed)} program(s) in a {len(data) // 1024} KiB initramfs"
            + (f"; left out: {', '.join(sorted(skipped))}" if skipped else ""))
        log = os.path.join(out, f"compat-{k.label}.console.log")
        b = boot(cmd, k.label, 1, args.timeout, args.verbose, log)
        error = b.failure()
        if error:
            failed = True
            say(f"{k.label}: boot FAILED after {b.seconds:.1f} s: {error} (console log: {log})")
        else:
            say(f"{k.label}: {b.seconds:.1f} s")
        outcomes = {p.name: outcome_of(b, i) for i, (p, _) in enumerate(packed)}
        results.append({"kernel": k, "boot": b, "error": error, "facts": kernel_facts(b), "outcomes": outcomes,
                        "skipped": skipped, "programs": programs})
    return report(results, args, out, failed)


def report(results, args, out, failed):
    base = results[0]
    doc = {"schema": "msealbench-compat", "version": 1, "baseline": base["kernel"].label, "kernels": [],
           "programs": []}
    for r in results:
        k = r["kernel"]
        doc["kernels"].append({"label": k.label, "image": k.path, "arch": k.arch, "accel": k.accel,
                               "seconds": round(r["boot"].seconds, 2), "error": r["error"], **r["facts"]})
    blocks = [tables.Heading(1, ("msealbench vm --compat: baseline ", tables.Literal(base["kernel"].label),))]
    differs = False
    for other in results[1:]:
        rows = []
        for p in base["programs"]:
            a, b = base["outcomes"].get(p.name), other["outcomes"].get(p.name)
            entry = {"name": p.name, "command": p.argv, "baseline": base["kernel"].label,
                     "kernel": other["kernel"].label}
            if a is None or b is None:
                why = base["skipped"].get(p.name) or other["skipped"].get(p.name) or "it did not run (boot failed?)"
                entry.update(status="not run", why=why)
                rows.append([p.name, "-", "-", f"not run: {why}"])
            else:
                diffs = compat.differences(a, b)
                entry.update(status="differs" if diffs else "same", differences=diffs,
                             plain=a.as_dict(), sealed=b.as_dict(),
                             plain_stdout=a.stdout.decode("utf-8", "replace")[:2000],
                             sealed_stdout=b.stdout.decode("utf-8", "replace")[:2000],
                             plain_stderr=a.stderr.decode("utf-8", "replace")[:2000],
                             sealed_stderr=b.stderr.decode("utf-8", "replace")[:2000])
                differs |= bool(diffs)
                rows.append([p.name, a.ending(), b.ending(),
                             "; ".join(compat.difference_text(d) for d in diffs) or "same"])
            doc["programs"].append(entry)
        blocks += [tables.Heading(2, (tables.Literal(base["kernel"].label), " against ",
                                      tables.Literal(other["kernel"].label))),
                   tables.Table(["program", base["kernel"].label, other["kernel"].label, "difference"], rows)]
    if len(results) == 1:   # nothing to compare with: what each program did
        rows = []
        for p in base["programs"]:
            o = base["outcomes"].get(p.name)
            rows.append([p.name, o.ending() if o else "not run", (o.stdout.decode("utf-8", "replace").splitlines()
                                                                  or [""])[0][:120] if o else base["skipped"].get(p.name, "")])
            doc["programs"].append({"name": p.name, "command": p.argv, "kernel": base["kernel"].label,
                                    "status": "ran" if o else "not run", "outcome": o.as_dict() if o else None})
        blocks.append(tables.Table(["program", base["kernel"].label, "first line of stdout"], rows))
    for r in results:
        cfg = r["facts"]["config"] or {}
        blocks.append(tables.line(f"{r['kernel'].label}: kernel {r['facts']['release']}, "
                                  + ", ".join(f"{o}={v}" for o, v in cfg.items())))
    print(tables.render(tables.Report(blocks, doc), "text"), flush=True)
    path = os.path.join(out, "compat.json")
    write_file(path, json.dumps(doc, indent=1) + "\n")
    say(f"wrote {path}; commands: " + "; ".join(shlex.join(p.argv) for p in base["programs"]))
    if failed:
        return 3
    return 1 if differs else 0
