# SPDX-License-Identifier: GPL-2.0-only
"""LAVA jobs of msealbench: the job rendered from a template, run by a local lava-run or
submitted to a lab with lavacli, and its log read back: the guest's console lines ("lvl":
"target") through msealbench vm's ConsoleParser (framed files, markers), the test cases ("lvl":
"results") checked against the files they came from, so a probe row, a measured cell or a
results file lost on the way is a failed job, never a silently smaller result."""
import json
import math
import os
import re
import subprocess
import time

from msb.cli import spawn, stop_child

from .boot import Boot, ConsoleParser, read_lines
from .common import VmError, run_child, write_file

LAVA_RUN = "/usr/bin/lava-run"


def case_name(text):
    """A LAVA test case name as lava/lava-steps.sh makes it."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def cell_case(cell):
    params = "".join(f".{k}-{v if isinstance(v, str) else json.dumps(v)}"
                     for k, v in (cell.get("params") or {}).items())
    return case_name(f"run.{cell.get('benchmark')}{params}.{cell.get('seal')}")


def tap_rows(text):
    """(plan count or None, [(id, result)]) of a TAP text as msealbench probe writes it."""
    plan, rows = None, []
    for line in text.splitlines():
        m = re.match(r"1\.\.(\d+)$", line)
        if m:
            plan = int(m.group(1))
        m = re.match(r"(not )?ok \d+ (\S+)", line)
        if m:
            result = "fail" if m.group(1) else ("skip" if re.search(r"#\s*skip", line, re.I) else "pass")
            rows.append((m.group(2).rstrip(":"), result))
    return plan, rows


class Job:
    """One LAVA job: a boot of one kernel, as msealbench vm's Boot plus what LAVA said."""

    def __init__(self, label, index):
        self.boot = Boot(label, index)
        self.parser = None
        self.cases = {}          # test case name -> results mapping
        self.job_result = None   # the "lava"/"job" case: pass, fail, or None (never said)
        self.errors = []         # LAVA's own error messages
        self.job_id = None
        self.lines = []          # the log as received

    def log_line(self, raw, echo):
        """One line of a LAVA log: a YAML mapping ('- ' first in a lab's raw log)."""
        import yaml
        self.lines.append(raw)
        text = raw[2:] if raw.startswith("- ") else raw
        if not text.startswith("{"):
            return
        try:
            entry = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            self.boot.errors.append(f"unreadable log line: {text[:120]!r}")
            return
        if not isinstance(entry, dict):
            return
        level, msg = entry.get("lvl"), entry.get("msg")
        if self.parser is None:
            self.parser = ConsoleParser(self.boot, echo)
        if level == "target" and isinstance(msg, str):
            for line in msg.splitlines() or [""]:
                self.parser.line(line)
        elif level == "results" and isinstance(msg, dict):
            if msg.get("definition") == "lava" and msg.get("case") == "job":
                self.job_result = msg.get("result")
                if msg.get("error_msg"):
                    self.errors.append(str(msg["error_msg"]))
            elif msg.get("definition") != "lava":
                self.cases[str(msg.get("case"))] = msg
        elif level in ("error", "exception") and isinstance(msg, str):
            self.errors.append(msg)

    def finish(self):
        """After the whole log: the transfer's end, LAVA's verdict, the cases checked."""
        if self.parser is None:
            self.parser = ConsoleParser(self.boot, False)
        self.parser.finish()
        b = self.boot
        if self.job_result != "pass":
            why = "; ".join(dict.fromkeys(self.errors)) or "the log ends before the job did"
            b.errors.append(f"LAVA job {self.job_id} {self.job_result or 'incomplete'}: {why[:400]}")
        b.errors.extend(self.lost_cases())
        b.extra_info = {"lava_job": self.job_id, "lava_job_result": self.job_result,
                        "test_cases": len(self.cases)}

    def lost_cases(self):
        """What the files say should have become a test case and did not (or differs)."""
        b, lost = self.boot, []
        for name in ("probe.tap", "probe.stdout", "run.json"):
            if name not in b.files and not any(name in e for e in b.errors):
                lost.append(f"{name} never arrived in the job log"
                            + (f" ({b.missing[name]})" if name in b.missing else ""))
        if "probe.tap" in b.files:
            plan, rows = tap_rows(b.files["probe.tap"].decode("utf-8", "replace"))
            if plan is not None and plan != len(rows):
                lost.append(f"probe.tap has {len(rows)} rows for a plan of {plan}")
            gone = [i for i, r in rows if (self.cases.get(case_name(f"probe.{i}")) or {}).get("result") != r]
            if gone:
                lost.append(f"{len(gone)} probe row(s) without their test case: {', '.join(gone[:5])}")
        if "run.json" in b.files:
            try:
                cells = json.loads(b.files["run.json"]).get("cells") or []
            except (ValueError, AttributeError):
                cells = []
            gone = [cell_case(c) for c in cells if not self.case_matches(c)]
            if gone:
                lost.append(f"{len(gone)} measured cell(s) without their test case: {', '.join(gone[:5])}")
        return lost

    def case_matches(self, cell):
        case = self.cases.get(cell_case(cell))
        want = {"ok": "pass", "skipped": "skip"}.get(cell.get("status"), "fail")
        if not case or case.get("result") != want:
            return False
        median = (cell.get("summary") or {}).get("median")
        if median is None:
            return True
        try:
            return math.isclose(float(case.get("measurement")), float(median), rel_tol=1e-6)
        except (TypeError, ValueError):
            return False


def lava_env():
    """lava-run is Debian's /usr/bin/python3 program: /usr/bin first in PATH, so no other
    python3 (a pyenv's) stands in for it or its children."""
    env = dict(os.environ)
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin:" + env.get("PATH", "")
    return env


def run_local(job, job_path, device_path, work, timeout, echo):
    """lava-run the job standalone (root only); the log read as it comes."""
    start = time.monotonic()
    cmd = [LAVA_RUN, "--job-id", str(job.job_id), "--output-dir", work, "--device", device_path,
           job_path]
    proc = spawn(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                 env=lava_env(), group=True)
    try:
        if read_lines(proc.stdout, start + timeout, lambda text: job.log_line(text, echo)) == "timeout":
            job.boot.timed_out = True
    finally:
        stop_child(proc, grace=5)    # lava-run, and the qemu it may have left
        proc.stdout.close()
    job.boot.qemu_status = proc.returncode
    job.boot.seconds = time.monotonic() - start


# ------------------------------------------------------------------ a lab, through lavacli

def lavacli_identity(lab):
    """The lavacli identity (its own config, ~/.config/lavacli.yaml) for --lab: an identity's
    name, or the URL of one. The token stays in lavacli's config: never read out here."""
    import yaml
    path = os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"),
                        "lavacli.yaml")
    try:
        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise VmError(f"--lab {lab}: no usable lavacli configuration ({path}: "
                      f"{getattr(e, 'strerror', None) or e}); add the lab with: lavacli identities "
                      "add --uri https://LAB/RPC2 --username USER --token TOKEN NAME") from None
    if lab in config:
        return lab

    def bare(url):
        return re.sub(r"^https?://(?:[^@/]*@)?", "", str(url)).rstrip("/").removesuffix("/RPC2")
    for name, identity in config.items():
        if isinstance(identity, dict) and bare(identity.get("uri", "")) == bare(lab):
            return name
    raise VmError(f"--lab {lab}: no lavacli identity for it in {path} (add one with lavacli "
                  "identities add --uri URL --username USER --token TOKEN NAME)")


def lavacli(identity, args, timeout=None):
    status, out, err = run_child(["lavacli", "-i", identity] + args, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, timeout=timeout)
    if status != 0:
        raise VmError(f"lavacli {' '.join(args[:2])} failed (exit {status}): {(err or out).strip()[-400:]}",
                      status=3)
    return out


def run_lab(job, identity, job_path, timeout, echo):
    """Submit, wait (up to timeout), then read the job's raw log."""
    start = time.monotonic()
    out = lavacli(identity, ["jobs", "submit", job_path])
    ids = re.findall(r"\d+(?:\.\d+)?", out)
    if not ids:
        raise VmError(f"lavacli jobs submit said no job id: {out.strip()[:200]}", status=3)
    job.job_id = ids[0]
    try:
        lavacli(identity, ["jobs", "wait", job.job_id], timeout=timeout)
    except subprocess.TimeoutExpired:
        job.boot.timed_out = True
        run_child(["lavacli", "-i", identity, "jobs", "cancel", job.job_id],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for line in lavacli(identity, ["jobs", "logs", "--raw", job.job_id]).splitlines():
        job.log_line(line, echo)
    job.boot.seconds = time.monotonic() - start


def write_log(job, path):
    write_file(path, "\n".join(job.lines) + "\n")
