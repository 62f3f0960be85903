#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench vm (vm/msealbench-vm): the initramfs, the framed console transfer, and runs inside
the test kernels of ../shared/kernels (MSEALBENCH_KERNELS overrides): the sealed kernels must seal
the system mappings, the plain ones none, a quick run must complete in each and the comparison
must run. Error paths: missing image, a kernel that never reaches init, a guest past its time limit."""
import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

from taplib import TOP, check_schema, ok, skip, done

SCRIPT = os.path.join(TOP, "vm", "msealbench-vm")
KERNELS = os.environ.get("MSEALBENCH_KERNELS", os.path.join(os.path.dirname(TOP), "shared", "kernels"))
sys.path.insert(0, os.path.join(TOP, "plots"))
sys.path.insert(0, os.path.join(TOP, "vm"))
from msbvm import boot, initramfs  # noqa: E402


tmp = tempfile.mkdtemp(prefix="msealbench-t-vm.")


def frame(name, data, damage=None):
    lines = [f"MSB:BEGIN {name}"]
    text = base64.b64encode(data).decode()
    lines += [f"MSB:D {text[i:i + 76]}" for i in range(0, len(text), 76)]
    if damage:
        lines = damage(lines)
    lines.append(f"MSB:END {name} {len(data)} {hashlib.sha256(data).hexdigest()}")
    return lines


def parse(lines):
    b = boot.Boot("t", 1)
    p = boot.ConsoleParser(b, False)
    for line in lines:
        p.line(line)
    p.finish()
    return b


def transfer_tests():
    data = os.urandom(1000) + b"\n{json}\n"
    b = parse(["\x1b[2JMSB:INIT"] + frame("run.json", data) + ["MSB:DONE"])
    ok(b.files.get("run.json") == data and b.reached_init and b.done and b.failure() is None,
       "a framed file crosses the console intact (marker after escape sequences)")

    def flip(lines):
        lines[3] = lines[3][:10] + ("A" if lines[3][10] != "A" else "B") + lines[3][11:]
        return lines
    b = parse(["MSB:INIT"] + frame("run.json", data, flip) + ["MSB:DONE"])
    ok("run.json" not in b.files and "corrupted" in (b.failure() or ""),
       "a changed character is a corrupted transfer, not a file", b.failure())
    b = parse(["MSB:INIT"] + frame("run.json", data, lambda lines: lines[:-2]) + ["MSB:DONE"])
    ok("run.json" not in b.files and "corrupted" in (b.failure() or ""), "a lost line is refused")
    b = parse(["MSB:INIT"] + frame("run.json", data)[:5])
    ok("run.json" not in b.files and "truncated" in (b.failure() or ""),
       "a transfer cut short is refused as truncated", b.failure())
    b = parse(["Kernel panic - not syncing: No working init found."])
    ok("panic" in (b.failure() or ""), "a kernel panic is reported as such", b.failure())


def initramfs_tests():
    files = {"init": SCRIPT, "msb/msealbench": SCRIPT}
    one = initramfs.build_initramfs(files, "send\tx\t/proc/version\n")
    two = initramfs.build_initramfs(dict(reversed(list(files.items()))), "send\tx\t/proc/version\n")
    ok(one == two and one.startswith(b"070701") and b"TRAILER!!!" in one,
       "the initramfs is a newc cpio, byte-identical for the same inputs")
    ok(b"dev/console" in one and len(one) % 4 == 0, "it holds /dev/console and is 4-byte aligned")
    plan = dict(filter=None, seal=None, min_time=None, repetitions=None, events=None, timeout=900.0)
    adaptive = initramfs.plan_text("k", argparse.Namespace(quick=False, **plan))
    quick = initramfs.plan_text("k", argparse.Namespace(quick=True, **plan))
    ok("--time-budget\t450" in adaptive and "--time-budget" not in quick,
       "an adaptive guest run stops its further rounds within half the boot's --timeout; --quick has none",
       str(adaptive.splitlines()[-3:]))


def arch_tests():
    bad = os.path.join(tmp, "not-a-kernel")
    with open(bad, "wb") as f:
        f.write(b"\0" * 4096)
    r = subprocess.run([SCRIPT, "--kernel", f"x={bad}"], capture_output=True, text=True)
    ok(r.returncode == 2 and "neither an x86-64 bzImage" in r.stderr,
       "an image that is no kernel is refused with exit 2", r.stderr.strip())
    r = subprocess.run([SCRIPT, "--kernel", "x=/nonexistent/bzImage"], capture_output=True, text=True)
    ok(r.returncode == 2 and "No such file" in r.stderr, "a missing image is refused with exit 2",
       r.stderr.strip())


def subcommand_test():
    exe = os.environ.get("MSEALBENCH", os.path.join(TOP, "build", "msealbench"))
    r = subprocess.run([exe, "vm", "--help"], capture_output=True, text=True)
    ok(r.returncode == 0 and "--kernel LABEL=PATH" in r.stdout,
       "msealbench vm execs the script (--help)", (r.stderr or r.stdout)[-300:])


def run_vm(args, out):
    cmd = [SCRIPT, "--boots", "1", "--accel", "tcg", "--quick", "--no-plots",
           "--compare-args", "--bootstrap 200", "--out", out] + args
    start = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r, time.monotonic() - start


def kernel_pair(arch, plain, sealed, filt, extra, sealed_names):
    out = os.path.join(tmp, arch)
    r, secs = run_vm(["--kernel", f"plain={plain}", "--kernel", f"sealed={sealed}",
                      "--filter", filt, "--timeout", "240"] + extra, out)
    print(f"# {arch}: two boots, probe, quick run and comparison in {secs:.0f} s")
    if not ok(r.returncode in (0, 1) and "verdicts:" in r.stdout,
              f"{arch}: both kernels booted, ran and were compared (exit {r.returncode})",
              r.stdout[-1500:]):
        return
    from msb import results as msbresults
    runs = {}
    for label in ("plain", "sealed"):
        path = os.path.join(out, f"{label}.json")
        try:
            runs[label] = msbresults.load_run(path)
            data = json.load(open(path, encoding="utf-8"))
        except Exception as e:  # noqa: BLE001 - any failure to read is the test's failure
            ok(False, f"{arch} {label}: results file reads", str(e))
            return
        ctx = data["context"]
        v = ctx["vm"]
        ok(ctx["label"] == label and v["accel"] == "tcg" and v["release"] and not data["partial"],
           f"{arch} {label}: merged results labelled with the kernel ({v['release']}, TCG, complete)")
        want = "y" if label == "sealed" else "n"
        got = (v["config"] or {}).get("options", {}).get("CONFIG_MSEAL_SYSTEM_MAPPINGS")
        ok(got == want, f"{arch} {label}: /proc/config.gz says CONFIG_MSEAL_SYSTEM_MAPPINGS={want}", got)
        sealed = v["kernel_sealed_system_mappings"]
        if label == "sealed":
            ok(sealed is not None and set(sealed_names) <= set(sealed),
               f"{arch} sealed: the kernel sealed {', '.join(sealed_names)} "
               f"(seen by {v['kernel_sealed_source']})", sealed)
        else:
            ok(sealed == [], f"{arch} plain: no kernel-sealed system mappings "
               f"(seen by {v['kernel_sealed_source']})", sealed)
        ok(any(c["status"] == "ok" and c["samples"] for c in data["cells"]),
           f"{arch} {label}: cells measured inside the guest")
    boots = os.path.join(out, "boots")
    check_schema([os.path.join(out, f"{label}.json") for label in ("plain", "sealed")]
                 + [os.path.join(boots, n) for n in sorted(os.listdir(boots)) if n.endswith(".json")],
                 f"{arch}: the merged and per-boot results files validate against results/schema-v1.json")


def error_tests(plain):
    r, _ = run_vm(["--kernel", f"plain={plain}", "--filter", "harness.empty", "--timeout", "60",
                   "--append", "rdinit=/no/such/init"], os.path.join(tmp, "panic"))
    ok(r.returncode == 3 and ("panic" in r.stdout or "never reached init" in r.stdout),
       "a kernel that cannot start init is a failed boot (exit 3)", r.stdout[-600:])
    r, secs = run_vm(["--kernel", f"plain={plain}", "--timeout", "2"], os.path.join(tmp, "slow"))
    ok(r.returncode == 3 and "time limit" in r.stdout and secs < 30,
       f"a guest past its time limit is killed and reported (exit 3, {secs:.0f} s)", r.stdout[-600:])


def main():
    transfer_tests()
    initramfs_tests()
    arch_tests()
    subcommand_test()
    images = {name: os.path.join(KERNELS, name) for name in
              ("x86_64-plain.bzImage", "x86_64-sealed.bzImage", "arm64-plain.Image", "arm64-sealed.Image")}
    how = ("point MSEALBENCH_KERNELS at a directory holding x86_64-{plain,sealed}.bzImage and "
           "arm64-{plain,sealed}.Image, or run vm/msealbench-vm --kernel plain=IMAGE "
           "--kernel sealed=IMAGE with your own kernels")
    x86 = [images["x86_64-plain.bzImage"], images["x86_64-sealed.bzImage"]]
    arm = [images["arm64-plain.Image"], images["arm64-sealed.Image"]]
    if all(os.path.isfile(p) for p in x86):
        kernel_pair("x86_64", *x86, "exec,fork,vdso.clock_gettime.monotonic,harness.empty", [],
                    ["[vdso]", "[vvar]"])
        error_tests(x86[0])
    else:
        skip("x86_64 kernels: sealing, quick run, comparison", f"no kernels in {KERNELS}: {how}")
    if all(os.path.isfile(p) for p in arm):
        kernel_pair("arm64", *arm, "exec,fork,vdso.clock_gettime.monotonic,harness.empty",
                    ["--min-time", "0.02", "--repetitions", "2"], ["[vdso]", "[vvar]"])
    else:
        skip("arm64 kernels: sealing, quick run, comparison", f"no kernels in {KERNELS}: {how}")
    done()


if __name__ == "__main__":
    main()
