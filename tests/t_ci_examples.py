#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""examples/ci/: the GitHub Actions workflow and the GitLab CI job parse as YAML (Debian's
python3-yaml), have the shape their CI reads (history kept, outputs published, the job failing on
a regression), and call only commands that exist: make targets of the Makefile, msealbench
commands of `msealbench help` with options of their --help, scripts with their options. The
compare commands they run are run here on a synthetic history."""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import MSEALBENCH, SYSTEM_PYTHON, TOP, ok, skip, done  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "plots"))
from msb import results, synth  # noqa: E402

GITHUB = os.path.join(TOP, "examples", "ci", "github-actions.yml")
GITLAB = os.path.join(TOP, "examples", "ci", "gitlab-ci.yml")
WORK = tempfile.mkdtemp(prefix="msealbench-t_ci_examples.")
SEPARATORS = {";", "&&", "||", "|", "(", ")", "&", ";;"}
REDIRECTIONS = {">", ">>", "<", "2>", "<<"}
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "for", "!", "{", "}", "[", "test"}
FORMATS_OF_OTHER_CHANGE = {"bmf", "junit"}  # compare --format values the output-format work adds


def load_yaml(path):
    """The YAML document as plain data, read by Debian's python3-yaml; None when it is missing."""
    out = subprocess.run([SYSTEM_PYTHON, "-c", "import json, sys, yaml; "
                          "print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))", path],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        if "No module named 'yaml'" in out.stderr:
            return None
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout)


def simple_commands(script):
    """The simple commands of a shell script as word lists (control operators split them,
    redirection targets and leading keywords dropped)."""
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars=True)
    lexer.whitespace = " \t"
    lexer.wordchars += "$:{}%+=@*,.-/"
    commands, words, skip_next = [], [], False
    for token in lexer:
        if skip_next:
            skip_next = False
            continue
        if token == "\n" or token in SEPARATORS:
            commands.append(words)
            words = []
        elif token in REDIRECTIONS:
            skip_next = True
        else:
            words.append(token)
    commands.append(words)
    stripped = []
    for words in commands:
        while words and words[0] in KEYWORDS:
            words = words[1:]
        if words:
            stripped.append(words)
    return stripped


def github_scripts(doc):
    steps = [s for job in (doc.get("jobs") or {}).values() for s in job.get("steps", [])]
    return [s["run"] for s in steps if "run" in s], steps


def gitlab_scripts(job):
    return [line for key in ("before_script", "script", "after_script") for line in job.get(key, [])
            if isinstance(line, str)]


def make_targets():
    with open(os.path.join(TOP, "Makefile")) as f:
        text = f.read()
    targets = set()
    for match in re.finditer(r"^([A-Za-z0-9_.$() /%-]+?)\s*:(?!=)", text, re.M):
        targets.update(match.group(1).split())
    return targets


def help_text(*cmd):
    out = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)
    return out.stdout + out.stderr


def options_of(words):
    return [w.split("=")[0] for w in words if w.startswith("--") and w != "--"]


def check_commands(name, scripts):
    """One line per kind of command the scripts call; returns the compare command lines."""
    targets, commands = make_targets(), help_text(MSEALBENCH, "help")
    known = set(re.findall(r"^  (\w+)\s", commands, re.M))
    seen, bad, compares = set(), [], []
    for words in (w for script in scripts for w in simple_commands(script)):
        program = words[0]
        if program == "make":
            for target in (w for w in words[1:] if not w.startswith("-") and "=" not in w):
                seen.add("make")
                if target not in targets:
                    bad.append(f"make {target}: no such target in the Makefile")
        elif program.endswith("msealbench"):
            seen.add(f"msealbench {words[1]}")
            if words[1] not in known:
                bad.append(f"msealbench {words[1]}: not in `msealbench help`")
                continue
            usage = help_text(MSEALBENCH, words[1], "--help")
            bad += [f"msealbench {words[1]} {o}: not in its --help" for o in options_of(words) if o not in usage]
            if words[1] == "compare":
                compares.append(words)
        elif program in ("sh", "bash") and words[1:] and words[1].startswith("tools/"):
            seen.add(words[1])
            path = os.path.join(TOP, words[1])
            if not os.path.isfile(path) or (words[2:] and f"{words[2]})" not in open(path).read()):
                bad.append(f"{' '.join(words[:3])}: no such script or set")
    ok(not bad, f"{name}: every make target, msealbench command and option it calls exists", "; ".join(bad))
    wanted = {"make", "msealbench run", "msealbench compare"}
    ok(wanted <= seen, f"{name}: builds, runs the suite and compares ({', '.join(sorted(wanted))})", str(seen))
    return compares


def history_for_compares():
    """A synthetic history directory and its two newest files, as the recipes name them."""
    directory = os.path.join(WORK, "history")
    specs = [{"benchmark": "vdso.getcpu", "params": {}, "seal": s, "median": 30.0, "cv": 0.02}
             for s in ("none", "sysmap")]
    for name, document in synth.synthetic_history(specs, 8, seed=3, rounds=5):
        results.write_run(os.path.join(directory, name), document)
    files = sorted(os.path.join(directory, n) for n in os.listdir(directory))
    return directory, files[-2:]


def run_compares(name, compares):
    """Runs each compare command of a recipe on the synthetic history (history -> the directory,
    "$1" "$2" -> its two newest files); a --format only the output-format change adds is skipped."""
    directory, (first, second) = history_for_compares()
    for words in compares:
        fmt = words[words.index("--format") + 1] if "--format" in words else "text"
        shown = " ".join(words[1:])
        available = help_text(MSEALBENCH, "compare", "--help")
        if fmt in FORMATS_OF_OTHER_CHANGE and not re.search(r"\{[^}]*\b" + fmt + r"\b", available):
            skip(f"{name}: {shown}", f"--format {fmt} is not offered by this build yet")
            continue
        argv = [{"history": directory, "$1": first, "$2": second}.get(w, w) for w in words[1:]]
        out = subprocess.run([MSEALBENCH] + argv, capture_output=True, text=True, timeout=300)
        ok(out.returncode in (0, 1) and out.stdout.strip(), f"{name}: `msealbench {shown}` runs on a history",
           f"status {out.returncode}: {out.stderr.strip()[-300:]}")


def test_github(doc):
    triggers = doc.get("on") or doc.get("true") or {}  # YAML 1.1 reads a bare `on` as true
    ok(isinstance(doc, dict) and "jobs" in doc and triggers,
       "github-actions.yml parses: a workflow with triggers and jobs", str(doc)[:200])
    ok("push" in triggers and "pull_request" in triggers, "github: runs on push and pull requests", str(triggers))
    scripts, steps = github_scripts(doc)
    ok(steps and all(("run" in s) != ("uses" in s) for s in steps), "github: every step either runs or uses",
       str([s.get("name") for s in steps if ("run" in s) == ("uses" in s)]))
    uses = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    restore, save = uses.get("actions/cache/restore"), uses.get("actions/cache/save")
    ok(restore and save and restore["with"]["path"] == save["with"]["path"] == "history"
       and restore["with"].get("restore-keys") and "always()" in save.get("if", ""),
       "github: the history is restored from and saved to the cache, also when the run regressed", "")
    artifact = uses.get("actions/upload-artifact")
    ok(artifact and all(f in artifact["with"]["path"] for f in ("compare-junit.xml", "compare-bmf.json", "compare.md")),
       "github: the JUnit, BMF and markdown outputs are kept as artifacts", str(artifact))
    text = "\n".join(scripts)
    ok("GITHUB_STEP_SUMMARY" in text and "gh pr comment" in text, "github: the markdown table is posted "
       "(job summary, pull-request comment)", "")
    fail = [s for s in steps if "run" in s and "exit 1" in s["run"] and "status" in s.get("if", "")]
    ok(fail, "github: a step fails the job when compare found a regression", "")
    run_compares("github", check_commands("github", scripts))


def test_gitlab(doc):
    jobs = {k: v for k, v in (doc or {}).items() if isinstance(v, dict) and not k.startswith(".")}
    base = (doc or {}).get(".msealbench", {})
    ok(jobs and all(j.get("extends") == ".msealbench" for j in jobs.values()) and base.get("script"),
       "gitlab-ci.yml parses: jobs extending one template with a script", str(list(jobs)))
    ok(base.get("artifacts", {}).get("reports", {}).get("junit") == "compare-junit.xml"
       and base["artifacts"].get("when") == "always",
       "gitlab: the JUnit report is published (also when the job failed)", str(base.get("artifacts")))
    ok("history/" in base.get("cache", {}).get("paths", []) and
       jobs.get("msealbench-merge-request", {}).get("cache", {}).get("policy") == "pull",
       "gitlab: the history is cached, merge-request runs only read it", str(base.get("cache")))
    scripts = gitlab_scripts(base)
    ok(scripts and scripts[-1].strip() == 'exit "$status"' and any("notes" in s for s in scripts),
       "gitlab: the note is posted and the job ends with compare's status", scripts[-1] if scripts else "")
    run_compares("gitlab", check_commands("gitlab", scripts))


def test_parser_finds_commands():
    found = simple_commands('if [ "$#" -eq 2 ]; then build/msealbench compare "$1" "$2" --format junit > x.xml '
                            '|| test $? -eq 1; fi\nmake build')
    ok(["build/msealbench", "compare", "$1", "$2", "--format", "junit"] in found and ["make", "build"] in found,
       "the shell splitter finds the commands of a recipe line", str(found))


def main():
    if not os.access(MSEALBENCH, os.X_OK):
        skip("CI examples", f"{MSEALBENCH} not built (make check builds it)")
        done()
    test_parser_finds_commands()
    github, gitlab = load_yaml(GITHUB), load_yaml(GITLAB)
    if github is None or gitlab is None:
        skip("CI examples", f"no python3-yaml for {SYSTEM_PYTHON} (make deps-check installs it)")
    else:
        test_github(github)
        test_gitlab(gitlab)
    shutil.rmtree(WORK, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
