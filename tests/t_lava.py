#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench lava (vm/msealbench-lava): the job log read back (framed files, test cases checked
against them: a lost probe row, cell or results file fails the job), the ramdisk reproducible,
the jobs rendered as YAML; then, as root with lava-dispatcher, real standalone LAVA jobs on the
kernels of ../shared/kernels (MSEALBENCH_KERNELS overrides): x86-64 and arm64, sealed kernels
seal the system mappings and plain ones none, a two-kernel comparison, the same kernel through
msealbench vm and msealbench lava compared, the lab path through a stand-in lavacli, and
lava-run with its qemu stopped when the command is."""
import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from taplib import MSEALBENCH, TOP, check_schema, done, ok, processes_marked, skip, wait_for

SCRIPT = os.path.join(TOP, "vm", "msealbench-lava")
VM = os.path.join(TOP, "vm", "msealbench-vm")
COMPARE = os.path.join(TOP, "plots", "compare.py")
PY = "/usr/bin/python3"     # lava-run's python: PyYAML and jinja2 are Debian's
KERNELS = os.environ.get("MSEALBENCH_KERNELS", os.path.join(os.path.dirname(TOP), "shared", "kernels"))
FILTER = "harness.empty,vdso.clock_gettime.monotonic"
SMALL = ["--boots", "1", "--filter", FILTER, "--repetitions", "2", "--min-time", "0.02",
         "--no-plots", "--compare-args", "--bootstrap 200", "--timeout", "400"]
sys.path.insert(0, os.path.join(TOP, "plots"))
sys.path.insert(0, os.path.join(TOP, "vm"))

tmp = tempfile.mkdtemp(prefix="msealbench-t-lava.")
HAVE_PY = os.path.exists(PY) and subprocess.run(
    [PY, "-c", "import yaml, jinja2"], capture_output=True).returncode == 0


def in_debian_python(code, *args):
    """Runs code under /usr/bin/python3 with msbvm importable; its stdout."""
    prelude = (f"import sys; sys.path[:0] = [{os.path.join(TOP, 'vm')!r}, {os.path.join(TOP, 'plots')!r}]\n")
    r = subprocess.run([PY, "-c", prelude + code] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-800:])
    return r.stdout


# ------------------------------------------------------------------ a synthetic job log

def log_line(level, msg):
    return json.dumps({"dt": "2026-01-01T00:00:00", "lvl": level, "msg": msg})


def frame(name, data):
    text = base64.b64encode(data).decode()
    return ([f"MSB:BEGIN {name}"] + [f"MSB:D {text[i:i + 76]}" for i in range(0, len(text), 76)]
            + [f"MSB:END {name} {len(data)} {hashlib.sha256(data).hexdigest()}"])


def synthetic_log():
    """What a good job's log holds: markers, framed files, a test case per probe row and cell."""
    tap = ("TAP version 13\n1..3\nok 1 mseal.available: mseal(2) is available\n"
           "ok 2 sysmap.vdso: [vdso] sealed at exec\nok 3 sysmap.uprobes # SKIP not mapped\n")
    probe = {"system_mappings": [{"name": "[vdso]", "sealed_at_exec": True}]}
    run = json.load(open(os.path.join(TOP, "tests", "fixtures", "quick-vdso-zero-round-median.json")))
    lines = [log_line("info", "start"), log_line("target", "MSB:INIT")]
    lines += [log_line("target", t) for t in frame("probe.tap", tap.encode())]
    lines += [log_line("target", t) for t in frame("probe.stdout", json.dumps(probe).encode())]
    for case, result in (("probe.mseal.available", "pass"), ("probe.sysmap.vdso", "pass"),
                         ("probe.sysmap.uprobes", "skip")):
        lines.append(log_line("results", {"case": case, "definition": "0_msealbench", "result": result}))
    cases = []
    for c in run["cells"]:
        params = "".join(f".{k}-{v}" for k, v in c["params"].items())
        msg = {"case": f"run.{c['benchmark']}{params}.{c['seal']}", "definition": "0_msealbench",
               "result": {"ok": "pass", "skipped": "skip"}.get(c["status"], "fail")}
        if c["summary"].get("median") is not None:
            msg.update(measurement=str(c["summary"]["median"]), units=c["unit"])
        cases.append(log_line("results", msg))
    lines += cases
    lines += [log_line("target", t) for t in frame("run.json", json.dumps(run).encode())]
    lines += [log_line("target", "MSB:DONE"), log_line("results", {"case": "job", "definition": "lava", "result": "pass"})]
    return lines, len(cases)


def read_log(lines):
    """Job.log_line over lines, then finish(): the failure (None when good)."""
    code = ("import json, sys\nfrom msbvm import lavajob\nj = lavajob.Job('t', 1)\nj.job_id = '7'\n"
            "for line in sys.stdin.read().splitlines():\n    j.log_line(line, False)\n"
            "j.finish()\nprint(json.dumps([j.boot.failure(), sorted(j.boot.files)]))")
    r = subprocess.run([PY, "-c", f"import sys; sys.path[:0] = [{os.path.join(TOP, 'vm')!r}, "
                        f"{os.path.join(TOP, 'plots')!r}]\n" + code],
                       input="\n".join(lines) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        return f"crashed: {r.stderr[-500:]}", []
    return json.loads(r.stdout)


def log_tests():
    lines, ncases = synthetic_log()
    failure, files = read_log(lines)
    ok(failure is None and files == ["probe.stdout", "probe.tap", "run.json"],
       f"a good job log gives its files and {ncases} cell test cases, no failure", failure)
    cut = [line for line in lines if "MSB:D " not in line or lines.index(line) % 7]
    failure, files = read_log(cut)
    ok(failure and "run.json" not in files and ("corrupted" in failure or "never arrived" in failure),
       "framed lines lost on the way: the results file is refused and the job fails", failure)
    end = max(i for i, line in enumerate(lines) if "MSB:D " in line)
    failure, files = read_log(lines[:end])
    ok(failure and "truncated" in failure, "a log cut inside the framed results fails the job", failure)
    dropped = [line for line in lines if "probe.sysmap.vdso" not in line]
    failure, _ = read_log(dropped)
    ok(failure and "probe row" in failure and "sysmap.vdso" in failure,
       "a probe row without its test case fails the job", failure)
    dropped = [line for line in lines if '"run.' not in line or "harness" in line]
    failure, _ = read_log(dropped if len(dropped) < len(lines) else lines[:-1])
    ok(failure and "measured cell" in failure, "a measured cell without its test case fails the job", failure)
    changed = [line.replace('"result": "pass"', '"result": "fail"') if "probe.mseal" in line else line
               for line in lines]
    failure, _ = read_log(changed)
    ok(failure and "probe row" in failure, "a test case whose result differs from the probe's row fails", failure)
    no_run = [line for line in lines if "run.json" not in line]
    failure, _ = read_log(no_run)
    ok(failure and "run.json never arrived" in failure, "a job without its results file fails", failure)
    failure, _ = read_log(lines[:-1])
    ok(failure and "incomplete" in failure, "a log without LAVA's job verdict fails (incomplete)", failure)


def ramdisk_tests(busybox):
    code = ("import hashlib, sys\nfrom msbvm import image, lavaimage\n"
            "files = image.check_suite('x86_64', sys.argv[1])\n"
            "a = lavaimage.build_ramdisk(files, sys.argv[2])\n"
            "b = lavaimage.build_ramdisk(dict(reversed(list(files.items()))), sys.argv[2])\n"
            "print(a == b, hashlib.sha256(a).hexdigest(), b'bin/sh' in a, b'msb/lava-steps' in a)")
    out = in_debian_python(code, os.path.join(TOP, "build-static"), busybox).split()
    ok(out[0] == "True" and out[2] == "True" and out[3] == "True",
       f"the ramdisk is byte-identical for the same inputs and holds /bin/sh and the steps ({out[1][:12]})")


def job_render_test():
    code = ("import yaml\nfrom msbvm import lavaimage\n"
            "text = lavaimage.render([lavaimage.lava_dir() + '/jobs'], 'qemu-arm64.jinja2', None, job_name='a \"b\": c',"
            " kernel_url='file:///k', ramdisk_url='file:///r', kernel_args='console=ttyAMA0', prompt='p# ',"
            " definition=open(lavaimage.lava_dir() + '/msealbench.yaml').read(),"
            " parameters={'FILTER': 'x: y', 'LABEL': 'l'}, minutes=3)\n"
            "job = yaml.safe_load(text)\n"
            "d = job['actions'][2]['test']['definitions'][0]\n"
            "print(job['context']['arch'], job['job_name'] == 'a \"b\": c', d['parameters']['FILTER'] == 'x: y',"
            " d['repository']['metadata']['format'], len(d['repository']['run']['steps']))")
    out = in_debian_python(code).split()
    ok(out[:3] == ["arm64", "True", "True"] and "Lava-Test" in out and out[-1] == "4",
       "a rendered arm64 job is YAML with the test definition inline and its parameters quoted", out)


def usage_tests():
    r = subprocess.run([SCRIPT, "--kernel", "a=/nonexistent", "--lab", "x"], capture_output=True, text=True)
    ok(r.returncode == 2 and "--artifacts-url" in r.stderr, "--lab without --artifacts-url: exit 2",
       r.stderr.strip())
    r = subprocess.run([SCRIPT, "--kernel", "a=/nonexistent", "--append", 'x="y"'], capture_output=True, text=True)
    ok(r.returncode == 2 and "quotes" in r.stderr, "--append with quotes: exit 2", r.stderr.strip())
    xdg = os.path.join(tmp, "xdg-usage")
    os.makedirs(xdg)
    with open(os.path.join(xdg, "lavacli.yaml"), "w") as f:
        f.write("mylab:\n  uri: https://lab.example.org/RPC2\n  token: secret-token-value\n")
    r = subprocess.run([SCRIPT, "--kernel", "a=/nonexistent/bzImage", "--lab",
                        "https://other.example.org", "--artifacts-url", "https://x", "--out", os.path.join(tmp, "u")],
                       capture_output=True, text=True, env=dict(os.environ, XDG_CONFIG_HOME=xdg))
    ok(r.returncode == 2 and "no lavacli identity" in r.stderr and "secret-token" not in r.stderr + r.stdout
       and not os.path.exists(os.path.join(tmp, "u", "ramdisk-x86_64.cpio")),
       "--lab without a lavacli identity: exit 2 before anything is read or built, the token never shown", r.stderr.strip())
    r = subprocess.run([MSEALBENCH, "lava", "--help"], capture_output=True, text=True)
    ok(r.returncode == 0 and "--kernel LABEL=PATH" in r.stdout, "msealbench lava execs the script (--help)",
       (r.stderr or r.stdout)[-300:])


# ------------------------------------------------------------------ real LAVA jobs

def run_lava(args, out, env=None):
    cmd = [SCRIPT, "--out", out] + SMALL + args
    start = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    return r, time.monotonic() - start


def check_pair(arch, out, r, secs):
    print(f"# {arch}: two LAVA jobs (plain, sealed) and their comparison in {secs:.0f} s")
    if not ok(r.returncode in (0, 1) and "verdicts:" in r.stdout,
              f"{arch}: both kernels ran as LAVA jobs and were compared (exit {r.returncode})",
              r.stdout[-2000:]):
        return None
    docs = {}
    for label in ("plain", "sealed"):
        data = json.load(open(os.path.join(out, f"{label}.json"), encoding="utf-8"))
        docs[label] = data
        v, lava = data["context"]["vm"], data["context"]["lava"]
        sealed = v["kernel_sealed_system_mappings"]
        if label == "sealed":
            ok(sealed and {"[vdso]", "[vvar]"} <= set(sealed),
               f"{arch} sealed: the probe in the LAVA job reports the system mappings sealed ({sealed})")
        else:
            ok(sealed == [], f"{arch} plain: the probe in the LAVA job reports none sealed", sealed)
        ok(lava["lab"] == "local lava-run" and lava["device_type"] == "qemu" and len(lava["jobs"]) == 1
           and not data["partial"] and any(c["samples"] for c in data["cells"]),
           f"{arch} {label}: merged results record the LAVA job {lava['jobs']} and hold samples")
    log = open(os.path.join(out, "boots", "sealed-1.lava.log"), encoding="utf-8").read()
    ok('"case": "probe.sysmap.vdso"' in log and '"measurement"' in log,
       f"{arch}: the job log holds the probe rows and cell medians as LAVA test cases")
    check_schema([os.path.join(out, f"{label}.json") for label in ("plain", "sealed")],
                 f"{arch}: the merged results validate against results/schema-v1.json")
    return docs


def vm_versus_lava(kernel, lava_doc):
    out = os.path.join(tmp, "vm-sealed")
    r = subprocess.run([VM, "--kernel", f"sealed={kernel}", "--accel", "tcg", "--no-compare", "--out", out,
                        "--boots", "1", "--filter", FILTER, "--repetitions", "2", "--min-time", "0.02",
                        "--timeout", "400"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not ok(r.returncode == 0, "msealbench vm ran the same sealed kernel", r.stdout[-1000:]):
        return
    vm_doc = json.load(open(os.path.join(out, "sealed.json"), encoding="utf-8"))
    c = subprocess.run([sys.executable, COMPARE, "--allow-unmatched", "--bootstrap", "200",
                        os.path.join(out, "sealed.json"), os.path.join(tmp, "x86_64", "sealed.json")],
                       capture_output=True, text=True)
    ok(c.returncode in (0, 1) and "verdicts:" in c.stdout,
       f"compare.py accepts msealbench vm's and msealbench lava's results of one kernel (exit {c.returncode})",
       c.stderr[-600:])

    # msealbench vm's guest has no gzip, so its probe skips the config.* rows that read
    # /proc/config.gz (the host reads the file it sends instead); LAVA's ramdisk has busybox's.
    def findings(doc):
        probe = doc["context"]["vm"]["probe"] or {}
        return ([(row["key"], row["result"]) for row in probe.get("rows", [])
                 if not row["key"].startswith("config.")],
                doc["context"]["vm"]["kernel_sealed_system_mappings"])
    a, b = findings(vm_doc), findings(lava_doc)
    ok(a == b and len(a[0]) > 20, f"the same probe findings through msealbench vm and msealbench lava "
       f"({len(a[0])} rows, sealed {a[1]})", f"vm {a} lava {b}")
    seen = (lava_doc["context"]["vm"]["probe"].get("kernel_config") or {}).get("CONFIG_MSEAL_SYSTEM_MAPPINGS")
    read = vm_doc["context"]["vm"]["config"]["options"]["CONFIG_MSEAL_SYSTEM_MAPPINGS"]
    ok(seen == read == "y", "the LAVA guest's probe reads the CONFIG_MSEAL_SYSTEM_MAPPINGS that msealbench "
       "vm's sent /proc/config.gz holds", f"lava probe {seen}, vm config {read}")


def lab_test(plain):
    """--lab through a stand-in lavacli that runs the submitted job with lava-run here."""
    out = os.path.join(tmp, "lab")
    os.makedirs(out)
    shutil.copy(plain, os.path.join(out, "k-plain"))
    fake = os.path.join(tmp, "fakebin")
    os.makedirs(fake)
    config = os.path.join(tmp, "xdg")
    os.makedirs(config)
    with open(os.path.join(config, "lavacli.yaml"), "w") as f:
        f.write("testlab:\n  uri: https://user@lab.example.org/RPC2\n  token: not-used-here\n")
    device = os.path.join(tmp, "device.yaml")
    with open(device, "w") as f:
        f.write(in_debian_python("from msbvm import lavaimage\nprint(lavaimage.device_yaml('x86_64', 1024, "
                                 "lavaimage.default_cache()))"))
    with open(os.path.join(fake, "lavacli"), "w") as f:
        f.write(f"""#!/bin/sh
# a lab's lavacli for the test: submit runs the job with lava-run here, logs prints its log
[ "$1" = -i ] && [ "$2" = testlab ] || {{ echo "unknown identity $2" >&2; exit 1; }}
shift 2
store={tmp}/lab-jobs
mkdir -p $store
case "$1 $2" in
"jobs submit") id=$$; /usr/bin/lava-run --job-id $id --output-dir $store/$id.d --device {device} "$3" 2>&1 \
                 | sed 's/^/- /' > $store/$id.log; echo $id ;;
"jobs wait") ;;
"jobs logs") cat $store/$4.log ;;
*) echo "unexpected: $*" >&2; exit 1 ;;
esac
""")
    os.chmod(os.path.join(fake, "lavacli"), 0o755)
    env = dict(os.environ, PATH=fake + ":" + os.environ["PATH"], XDG_CONFIG_HOME=config)
    r, secs = run_lava(["--kernel", f"plain={os.path.join(out, 'k-plain')}", "--lab", "https://lab.example.org",
                        "--artifacts-url", f"file://{out}", "--no-compare"], out, env)
    print(f"# lab path: one job through lavacli in {secs:.0f} s")
    try:
        lava = json.load(open(os.path.join(out, "plain.json"), encoding="utf-8"))["context"]["lava"]
    except (OSError, ValueError, KeyError) as e:
        lava = {"error": str(e)}
    ok(r.returncode == 0 and lava.get("lab") == "https://lab.example.org" and lava.get("jobs")
       and lava["jobs"][0],
       "--lab: the job is submitted through lavacli (identity found by URL), its raw log read back and merged",
       r.stdout[-1500:] + str(lava))


def group_stop_test():
    """What stops lava-run stops what it started, even a child that outlives a SIGTERM'd parent."""
    mark = f"t-lava-group-{os.getpid()}"
    code = ("import os, subprocess, sys\nfrom msb.cli import spawn, stop_child\n"
            "p = spawn(['sh', '-c', 'trap \"\" TERM; sleep 300 & sleep 300'], group=True)\n"
            "import time; time.sleep(0.5)\nstop_child(p, grace=1)\nprint(p.returncode)")
    try:
        r = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {os.path.join(TOP, 'plots')!r})\n"
                            + code], env=dict(os.environ, MSB_T_LAVA=mark), capture_output=True, text=True,
                           timeout=30)
        why = r.stderr[-300:] if r.returncode else ""
    except subprocess.TimeoutExpired:
        why = "stop_child still waiting after 30 s"
    left = wait_for(lambda: not processes_marked("MSB_T_LAVA", mark), 5)
    stray = processes_marked("MSB_T_LAVA", mark)
    for pid in stray:
        os.kill(pid, signal.SIGKILL)
    ok(not why and left, "stop_child of a process group: the leader and the child it left are gone",
       f"{why} left: {stray}")


def stop_test(plain):
    mark = f"t-lava-{os.getpid()}"
    env = dict(os.environ, MSB_T_LAVA=mark)
    proc = subprocess.Popen([SCRIPT, "--out", os.path.join(tmp, "stopped"), "--kernel", f"p={plain}",
                             "--boots", "1", "--no-compare"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    qemu = wait_for(lambda: [p for p in processes_marked("MSB_T_LAVA", mark)
                             if b"qemu" in open(f"/proc/{p}/cmdline", "rb").read()], 120, 0.5)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    left = wait_for(lambda: not [p for p in processes_marked("MSB_T_LAVA", mark) if p != proc.pid], 15)
    ok(qemu and proc.returncode == 143 and left,
       "SIGTERM during a job: exit 143, lava-run and its qemu stopped",
       f"qemu seen {qemu}, exit {proc.returncode}, left {processes_marked('MSB_T_LAVA', mark)}: {out[-500:]}")
    mark += "-timeout"
    env = dict(os.environ, MSB_T_LAVA=mark)
    start = time.monotonic()
    r = subprocess.run([SCRIPT, "--out", os.path.join(tmp, "slow"), "--kernel", f"p={plain}", "--boots", "1",
                        "--timeout", "10", "--no-compare"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    secs = time.monotonic() - start
    left = wait_for(lambda: not processes_marked("MSB_T_LAVA", mark), 15)
    ok(r.returncode == 3 and "time limit" in r.stdout and secs < 60 and left,
       f"a job past --timeout fails (exit 3, {secs:.0f} s) and leaves no lava-run or qemu behind",
       f"{processes_marked('MSB_T_LAVA', mark)} {r.stdout[-600:]}")


def main():
    usage_tests()
    if not HAVE_PY:
        skip("job logs, ramdisk, jobs, LAVA runs", f"{PY} lacks PyYAML or jinja2 (make deps-check installs "
             "lava-dispatcher and python3-jinja2)")
        done()
        return
    log_tests()
    group_stop_test()
    job_render_test()
    why = None
    if os.geteuid() != 0:
        why = "not root: lava-run must run as root"
    elif not os.path.exists("/usr/bin/lava-run"):
        why = "no lava-dispatcher (/usr/bin/lava-run): make deps-check installs it"
    images = {n: os.path.join(KERNELS, n) for n in ("x86_64-plain.bzImage", "x86_64-sealed.bzImage",
                                                     "arm64-plain.Image", "arm64-sealed.Image")}
    if why is None and not all(os.path.isfile(p) for p in images.values()):
        why = f"no test kernels in {KERNELS} (MSEALBENCH_KERNELS names another directory)"
    if why:
        skip("LAVA jobs on x86-64 and arm64, vm against lava, the lab path, stopping", why)
    else:
        lava_jobs(images)
    # after the jobs, which build build-static/ when it is not there yet
    busybox = os.path.realpath("/bin/busybox")
    if os.path.isfile(busybox) and os.path.isfile(os.path.join(TOP, "build-static", "msealbench")):
        ramdisk_tests(busybox)
    else:
        skip("ramdisk reproducibility", "no /bin/busybox (busybox-static) or no build-static/ (make static)")
    done()


def lava_jobs(images):
    x86 = os.path.join(tmp, "x86_64")
    r, secs = run_lava(["--kernel", f"plain={images['x86_64-plain.bzImage']}",
                        "--kernel", f"sealed={images['x86_64-sealed.bzImage']}"], x86)
    docs = check_pair("x86_64", x86, r, secs)
    arm = os.path.join(tmp, "arm64")
    r, secs = run_lava(["--kernel", f"plain={images['arm64-plain.Image']}",
                        "--kernel", f"sealed={images['arm64-sealed.Image']}"], arm)
    check_pair("arm64", arm, r, secs)
    if docs:
        vm_versus_lava(images["x86_64-sealed.bzImage"], docs["sealed"])
    lab_test(images["x86_64-plain.bzImage"])
    stop_test(images["x86_64-plain.bzImage"])


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
