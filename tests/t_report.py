#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""msealbench report (plots/report.py): report.md and report.html from a run, a kernel A/B
directory, a probe, a history and real-program checks; verdicts as compare's analyse() gave them;
hostile labels inert in both formats; the page loads in headless Chromium with no console error."""
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, TOP, ok, skip, done  # noqa: E402
import browser  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import affected, comparison, decision, results, synth  # noqa: E402

REPORT = os.path.join(TOP, "plots", "report.py")
WORK = tempfile.mkdtemp(prefix="msealbench-t_report.")
HOSTILE = ("<script>alert(1)</script><img src=x onerror=alert(2)>`|` **bold** [link](javascript:alert(3)) "
           "![i](http://example.invalid/x.png) <!-- \n# heading")


def path(name):
    return os.path.join(WORK, name)


def run_report(*args, env=None):
    r = subprocess.run([sys.executable, REPORT, "--bootstrap", "300", *args], capture_output=True, text=True,
                       timeout=300, env=env)
    return r.returncode, r.stdout, r.stderr


def read(name):
    with open(name, encoding="utf-8") as f:
        return f.read()


def spec(benchmark, median, seal="none", effect=0.0, params=None):
    return {"benchmark": benchmark, "family": benchmark.split(".")[0], "params": params or {}, "seal": seal,
            "median": median, "cv": 0.02, "effect": effect}


PROBE = {"schema": "msealbench-probe", "schema_version": 1, "kernel_release": "6.18.0-sealed",
         "kernel_config": {"source": "/proc/config.gz", "CONFIG_CHECKPOINT_RESTORE": "n",
                           "CONFIG_MSEAL_SYSTEM_MAPPINGS": "y"},
         "system_mappings": [{"name": "[vdso]", "sealed_at_exec": True}],
         "rows": [{"number": 1, "key": "vdso.mremap_move", "result": "ok",
                   "text": "mremap to a new address: sealed denied (EPERM), unsealed allowed; documented denied (EPERM)",
                   "sealed": "denied", "sealed_errno": "EPERM", "unsealed": "allowed", "unsealed_errno": None,
                   "documented": "denied"}]}


def kernel_file(name, label, sealed, effect, seed, extra_label=""):
    """One kernel's merged results as msealbench vm writes them: boots, context.vm with config and probe."""
    specs = [spec("exec.static", 900000.0, effect=effect), spec("fork.fork", 150000.0, effect=effect),
             spec("harness.syscall.getppid", 80.0), spec("vdso.clock_gettime.monotonic", 25.0)]
    doc = synth.synthetic_run(specs, seed=seed, rounds=12, label=label + extra_label)
    for cell in doc["cells"]:
        cell["boots"] = [1 + r // 3 for r in cell["rounds"]]   # 4 boots of 3 rounds
    doc["context"]["vm"] = {
        "kernel_label": label, "release": f"6.18.0-{label}", "accel": "tcg", "accel_reason": "asked for",
        "config": {"source": "/proc/config.gz", "options": {"CONFIG_MSEAL_SYSTEM_MAPPINGS": "y" if sealed else "n",
                                                           "CONFIG_CHECKPOINT_RESTORE": "n" if sealed else "y"}},
        "kernel_sealed_system_mappings": ["[vdso]", "[vvar]"] if sealed else [],
        "probe": dict(PROBE, kernel_release=f"6.18.0-{label}") if sealed else None,
        "boots_merged": [1, 2, 3, 4], "notes": ["TCG: emulation timings" + extra_label]}
    results.write_run(name, doc)
    return name


def ab_dir(name, extra_label=""):
    d = path(name)
    os.makedirs(d, exist_ok=True)
    # the sealed kernel first by name: the baseline is found by its config, not by order
    kernel_file(os.path.join(d, "a-sealed.json"), "sealed", True, 0.15, 2, extra_label)
    kernel_file(os.path.join(d, "b-plain.json"), "plain", False, 0.0, 1, extra_label)
    return d


def test_noise_limits():
    """The method section says how much the hypervisor took and which DAMON monitors ran."""
    run = path("noisy.json")
    doc = synth.synthetic_run(synth.suite_specs(["none"]), seed=3, rounds=2)
    doc["context"]["steal"] = {"before_run": 0.0, "before_run_s": 0.08, "run": 0.034}
    doc["context"]["damon"] = [{"name": "kdamonds/0", "pid": 79, "operations": ["paddr"], "actions": ["pageout"]}]
    results.write_run(run, doc)
    text = ["".join(item) for item in decision.noise_limits(results.load_run(run))]
    ok(len(text) == 2 and "took 3.4% of the CPU time" in text[0] and "above the 2%" in text[0]
       and "kdamonds/0 (paddr pageout)" in text[1], "the report names the run's steal and its DAMON monitors",
       str(text))
    doc["context"]["steal"], doc["context"]["damon"] = None, []
    results.write_run(run, doc)
    ok(decision.noise_limits(results.load_run(run)) == [], "nothing is said without steal or DAMON")


def test_run_report():
    run = path("run.json")
    results.write_run(run, synth.synthetic_run(synth.suite_specs(["none", "sysmap", "all"]), seed=3, rounds=8))
    out = path("out-run")
    status, stdout, err = run_report("--run", run, "--out", out)
    ok(status == 0 and os.path.getsize(os.path.join(out, "report.md")) > 0
       and os.path.getsize(os.path.join(out, "report.html")) > 0, "a synthetic run gives report.md and report.html",
       f"{status} {err}")
    md = read(os.path.join(out, "report.md"))
    page = read(os.path.join(out, "report.html"))
    headings = [h for h in re.findall(r"^### (.*)$", md, re.M)]
    ok(headings == ["Verdict", "Inputs", "What the option disables", "Kernel facts", "Compatibility",
                    "Software on this system that the option would affect", "Plots", "How the data was taken"],
       "the sections in the order of the issue, verdict first", str(headings))
    # the report states analyse()'s verdicts: the same settings give the same group rows
    loaded = results.load_run(run)
    comparison.strip_counters(loaded.cells)
    analysis = comparison.analyse("run", [loaded], comparison.Settings(iterations=300), allow_unmatched=True,
                                  locations=True)
    expected = [f"`{g.group}` | `{decision.percent(g.ratio)}` | `{decision.interval(g)}` | `{g.verdict}"
                for g in analysis.geomeans]
    ok(expected and all(e in md for e in expected), "every group verdict is analyse()'s, with its CI",
       next((e for e in expected if e not in md), ""))
    ok("not measured: no kernel A/B directory given" in md and "history (--history DIR)" in md
       and "real-program checks (--checks FILE" in md, "the missing inputs are named with what they would add")
    ok('id="verdict"' in page and "<svg" in page and "http://" not in page.replace("http://www.w3.org", ""),
       "the page holds the verdict, inline SVG figures and fetches nothing")
    ok(re.search(r"!\[figure\]\(figures/run/forest-none-sysmap-overview\.svg\)", md) is not None
       and os.path.isfile(os.path.join(out, "figures", "run", "forest-none-sysmap-overview.svg")),
       "report.md shows the figures drawn beside it")
    return out


def test_per_reference_report():
    probed, plain = path("run-probed.json"), path("run.json")
    results.write_run(probed, synth.synthetic_run(synth.suite_specs(["none", "sysmap"], ["vdso", "mremap"]), seed=6,
                                                  rounds=8, reference_ns=170.0))
    out = path("out-per-reference")
    status, _, err = run_report("--run", probed, "--per-reference", "--no-plots", "--out", out)
    md = read(os.path.join(out, "report.md")) if status == 0 else ""
    ok(status == 0 and "the run: figures per reference: each sample s with getppid probe r scaled" in md
       and "harness.syscall.getppid is the reference and not compared" in md,
       "report --per-reference: the run per reference, and the page says so", f"{status} {err[-300:]}")
    status, _, err = run_report("--run", plain, "--per-reference", "--no-plots", "--out", path("out-no-probes"))
    ok(status == 2 and len(err.strip().splitlines()) == 1 and "no reference probes" in err,
       "report --per-reference on a run without probes: exit 2, one line", err)


def test_ab_report():
    d = ab_dir("ab")
    out = path("out-ab")
    probe = path("probe.json")
    with open(probe, "w") as f:
        json.dump(PROBE, f)
    status, _, err = run_report("--ab", d, "--probe", probe, "--out", out)
    md = read(os.path.join(out, "report.md")) if status == 0 else ""
    ok(status == 0 and os.path.isfile(os.path.join(out, "report.html")), "a two-kernel A/B directory gives both files",
       f"{status} {err}")
    ok("`plain:none -> sealed:none` | `exec`" in md, "the kernel without the option is the baseline, whatever the "
       "file order", re.findall(r"\| `[^`]*->[^`]*` \| `exec`", md))
    row = next((r for r in md.splitlines() if "-> sealed:none` | `exec`" in r), "")
    ok("regression" in row, "the 15% slower exec of the sealed kernel is its regression", row)
    ok("controls moved up to" in md, "the control floor of the kernel pair is stated")
    ok("`6.18.0-sealed`" in md and "`vdso.mremap_move`" in md and "`denied (EPERM)`" in md,
       "kernel facts and the compatibility matrix come from the A/B and the probe")
    ok("TCG: emulation timings" in md, "the A/B's own notes are among the limits")
    status, _, err = run_report("--ab", d, "--baseline", "nosuch", "--out", path("out-ab2"))
    ok(status == 2 and err.count("\n") == 1 and "nosuch" in err, "an unknown --baseline: one line, exit 2", err)


def test_probe_tap_and_history():
    if not os.access(MSEALBENCH, os.X_OK):
        return skip("the probe's TAP output is read", f"{MSEALBENCH} not built")
    tap = subprocess.run([MSEALBENCH, "probe"], capture_output=True, text=True, timeout=120)
    if tap.returncode == 4:
        return skip("the probe's TAP output is read", "no mseal(2) here")
    with open(path("probe.tap"), "w") as f:
        f.write(tap.stdout)
    hist = path("hist")
    subprocess.run([sys.executable, os.path.join(TOP, "plots", "synth.py"), "history", hist, "--runs", "3"],
                   capture_output=True, timeout=120)
    status, _, err = run_report("--probe", path("probe.tap"), "--history", hist, "--out", path("out-tap"),
                                "--no-plots")
    md = read(os.path.join(path("out-tap"), "report.md")) if status == 0 else ""
    ok(status == 0 and "`vdso.munmap`" in md and "`denied (EPERM)`" in md,
       "the probe's TAP output gives the matrix with errnos", f"{status} {err}")
    ok("3 runs, each against" in md and "regression(s)" in md, "a history gives the trend line")


def test_checks_and_nothing_given():
    checks = path("checks.json")
    with open(checks, "w") as f:
        json.dump({"schema": "compat", "programs": [{"program": "valgrind true", "plain": "exit 0",
                                                     "sealed": "exit 0", "nested": {"x": 1}}]}, f)
    out = path("out-none")
    status, _, err = run_report("--checks", checks, "--out", out)
    md = read(os.path.join(out, "report.md")) if status == 0 else ""
    ok(status == 0 and "| `program` | `plain` | `sealed` |" in md and "`valgrind true`" in md,
       "real-program checks of any JSON list are shown as a table", err)
    ok("not measured: no run given" in md and "No compatibility matrix" in md,
       "with no measurement the report says so and still writes")
    one = path("one-mode.json")
    results.write_run(one, synth.synthetic_run(synth.suite_specs(["none"], ["vdso"]), seed=4, rounds=4))
    status, _, err = run_report("--run", one, "--out", path("out-one"), "--no-plots")
    md = read(os.path.join(path("out-one"), "report.md")) if status == 0 else ""
    ok("holds one seal mode" in md, "a run of one seal mode: said, not compared", err)
    status, _, err = run_report("--out", os.path.join(out, "report.md"))
    ok(status == 2 and err.count("\n") == 1, "an output path that is a file: one line, exit 2", err)
    for args, what in ((["--run", path("nosuch.json")], "a missing run"), (["--probe", checks], "a probe that is not one"),
                       (["--ab", path("out-none")], "a directory without kernel results"),
                       (["--software", checks], "a software list that is not one")):
        status, _, err = run_report(*args, "--out", path("out-bad"))
        ok(status == 2 and err.count("\n") == 1, f"{what}: one line, exit 2", err)


def test_installed_software():
    software = affected.load(affected.default_path())
    ok(len(software) >= 8 and all(s.reference.startswith("https://") for s in software)
       and {"known", "suspected"} == {s.status for s in software}, "the list loads: references, known and suspected")
    fake = path("bin")
    os.makedirs(fake, exist_ok=True)
    with open(os.path.join(fake, "dpkg-query"), "w") as f:   # knows rr, installed; criu, only known
        f.write("#!/bin/sh\nprintf 'rr\\t5.6.0-3\\tii \\ncriu\\t3.17\\tun \\n'\nexit 1\n")
    os.chmod(os.path.join(fake, "dpkg-query"), 0o755)
    saved = os.environ["PATH"]
    os.environ["PATH"] = fake + ":/bin:/usr/bin"
    try:
        databases = affected.find_installed(software)
    finally:
        os.environ["PATH"] = saved
    installed = {s.name: s.installed for s in software if s.installed}
    ok("dpkg-query" in databases and list(installed.values()) == [["rr 5.6.0-3"]],
       "dpkg-query's installed packages (not the only-known ones) mark their software", str(installed))


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]


def outside_code(md):
    """The markdown without its code spans, the tool's own autolinks and its figures (slug paths)."""
    md = re.sub(r"(`+)(.+?)\1", "", md)
    md = re.sub(r"!\[figure\]\(figures/[A-Za-z0-9._/-]+\.svg\)", "", md)
    return re.sub(r"<https://[^\s<>]+>", "", md)


def test_hostile_labels():
    run = path("hostile-run.json")
    specs = synth.suite_specs(["none"], ["vdso", "munmap"]) + [
        dict(s, seal=HOSTILE) for s in synth.suite_specs(["none"], ["vdso", "munmap"])]
    specs.append(spec("vdso." + HOSTILE, 30.0))
    specs.append(spec("vdso." + HOSTILE, 30.0, seal=HOSTILE))
    doc = synth.synthetic_run(specs, seed=5, rounds=6, label=HOSTILE)
    doc["context"].update(arch=HOSTILE, virtualization=HOSTILE, cpu_count=HOSTILE, host=HOSTILE,
                          options=dict(doc["context"]["options"], repetitions=HOSTILE))
    results.write_run(run, doc)
    checks = path("hostile-checks.json")
    with open(checks, "w") as f:
        json.dump([{"program": HOSTILE, HOSTILE: HOSTILE}], f)
    tap = path("hostile.tap")
    with open(tap, "w") as f:
        f.write(f"ok 1 vdso.munmap: {HOSTILE}: sealed denied (EPERM), unsealed allowed; documented denied\n")
    out = path("out-hostile")
    status, _, err = run_report("--run", run, "--ab", ab_dir("hostile-ab", HOSTILE), "--checks", checks,
                                "--probe", tap, "--out", out)
    ok(status == 0, "a report of hostile labels is written", err)
    if status != 0:
        return None
    page, md = read(os.path.join(out, "report.html")), read(os.path.join(out, "report.md"))
    tags = Tags()
    tags.feed(page)
    active = [t for t in tags.tags if t in ("script", "img", "iframe", "object", "embed", "a") and t != "a"]
    handlers = [(t, k) for t, k, _ in tags.attrs if k.startswith("on")]
    links = [v for t, k, v in tags.attrs if k in ("href", "src", "xlink:href")
             and not v.startswith("https://") and not re.fullmatch(r"#gp\w+", v)]   # gnuplot's own symbols
    ok(not active and not handlers and not links, "html: no script, image, handler or non-https link from a label",
       f"{active} {handlers} {links[:3]}")
    ok("alert(1)" in page and "&lt;script&gt;" in page, "html: the labels are shown, escaped")
    left = outside_code(md)
    ok(all(s not in left for s in ("<script", "onerror", "javascript:", "![i]", "**bold**", "<!--")),
       "markdown: every label inside a code span", next((s for s in ("<script", "onerror", "javascript:", "![i]",
                                                                      "**bold**", "<!--") if s in left), ""))
    ok(not any(line.startswith("# heading") for line in md.splitlines()),
       "markdown: a newline in a label starts no line of its own")
    return out


def png_size(name):
    with open(name, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else (0, 0)


def test_browser(pages):
    what = "the report loads in headless Chromium with no console error, the verdict shown"
    if not browser.find_chromium():
        return skip(what, "no chromium (Debian package chromium; make deps-check installs it)")
    try:
        with browser.Chromium() as b:
            bad = path("bad.html")   # the detector itself: a page with an error must be caught
            with open(bad, "w") as f:
                f.write("<!DOCTYPE html><p>x</p><script>no_such_function()</script>")
            b.open("file://" + bad)
            caught = b.console_errors()
        ok(any("no_such_function" in (e or "") for e in caught), "the console check catches a page's error",
           str(caught))
        for out in pages:
            with browser.Chromium() as b:
                b.open("file://" + os.path.join(out, "report.html"))
                errors = b.console_errors()
                verdict = b.evaluate("(document.querySelector('#verdict h2') || {}).textContent")
                shown = b.evaluate("document.getElementById('verdict').getBoundingClientRect().height > 0")
                live = b.evaluate("document.querySelectorAll('script, img, iframe, [onerror]').length")
                shot = os.path.join(out, "screenshot.png")
                b.screenshot(shot)
            ok(not errors and verdict == "Verdict" and shown and live == 0, f"{what} ({os.path.basename(out)})",
               f"errors {errors}, verdict {verdict!r}, live elements {live}")
            width, height = png_size(shot)
            ok(width == 1200 and height > 1000, f"a screenshot of the whole page ({os.path.basename(out)})",
               f"{width}x{height}")
    except browser.BrowserError as e:
        skip(what, f"chromium cannot run here: {e}")


if __name__ == "__main__":
    test_noise_limits()
    run_out = test_run_report()
    test_per_reference_report()
    test_ab_report()
    test_probe_tap_and_history()
    test_checks_and_nothing_given()
    test_installed_software()
    hostile_out = test_hostile_labels()
    test_browser([p for p in (run_out, hostile_out) if p])
    shutil.rmtree(WORK, ignore_errors=True)
    done()
