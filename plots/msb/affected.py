# SPDX-License-Identifier: GPL-2.0-only
"""Software that CONFIG_MSEAL_SYSTEM_MAPPINGS would affect: the list kept as data in the repository
(data/affected-software.json, reviewed and extended there) and which of it the package database of
this system says is installed (dpkg-query on Debian and its derivatives, rpm where present)."""
import dataclasses
import json
import os
import shutil
import subprocess

from . import cli
from .results import BadInput

SCHEMA = "msealbench-affected-software"
STATUSES = ("known", "suspected")
NEEDS = {"checkpoint_restore": "needs CONFIG_CHECKPOINT_RESTORE",
         "vdso": "moves, unmaps or re-protects the vDSO/vvar"}
QUERY_TIMEOUT = 60


def default_path():
    """data/ beside plots/: the same in the source tree and installed (share/msealbench/)."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(top, "data", "affected-software.json")


@dataclasses.dataclass
class Software:
    name: str
    deb: list
    rpm: list
    status: str
    needs: list
    reason: str
    reference: str
    installed: list = dataclasses.field(default_factory=list)   # "package version" found here


def load(path):
    """The entries of the data file; BadInput naming the file and the entry when it is malformed."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror}") from None
    except ValueError as e:
        raise BadInput(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("software"), list):
        raise BadInput(f"{path}: not a list of affected software (no \"schema\": \"{SCHEMA}\")")
    return [_entry(path, n, raw) for n, raw in enumerate(data["software"])]


def _entry(path, number, raw):
    where = f"{path}: entry {number}"
    if not isinstance(raw, dict):
        raise BadInput(f"{where} is not an object")
    for key in ("name", "status", "reason", "reference"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise BadInput(f"{where}: \"{key}\" is missing or not a string")
    for key in ("deb", "rpm", "needs"):
        if not isinstance(raw.get(key, []), list) or not all(isinstance(v, str) for v in raw.get(key, [])):
            raise BadInput(f"{where}: \"{key}\" must be a list of strings")
    if raw["status"] not in STATUSES:
        raise BadInput(f"{where}: status {raw['status']!r} is not known or suspected")
    unknown = [n for n in raw.get("needs", []) if n not in NEEDS]
    if unknown:
        raise BadInput(f"{where}: needs {unknown[0]!r} is not one of {', '.join(NEEDS)}")
    return Software(raw["name"], raw.get("deb", []), raw.get("rpm", []), raw["status"], raw.get("needs", []),
                    raw["reason"], raw["reference"])


def _query(cmd):
    """Lines "name<TAB>version" a package query printed for the installed packages it was asked
    about (it prints nothing, or an error line, for the others)."""
    try:
        out = cli.run_child(cmd, capture_output=True, text=True, timeout=QUERY_TIMEOUT)
    except (cli.Failure, subprocess.TimeoutExpired):
        return {}
    found = {}
    for line in out.stdout.splitlines():
        name, tab, rest = line.partition("\t")
        version, _, status = rest.partition("\t")
        if tab and (not status or status.startswith("ii")):   # dpkg: installed, not just known
            found[name] = version
    return found


def package_databases():
    """The package databases this system has: names of the query tools found in PATH."""
    return [tool for tool in ("dpkg-query", "rpm") if shutil.which(tool)]


def find_installed(software):
    """Marks each entry with the packages of it installed here; returns the databases asked
    (empty: none here, so nothing can be said about installed software)."""
    databases = package_databases()
    deb = sorted({p for s in software for p in s.deb})
    rpm = sorted({p for s in software for p in s.rpm})
    found = {}
    if "dpkg-query" in databases and deb:
        found.update(_query(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"] + deb))
    if "rpm" in databases and rpm:
        found.update(_query(["rpm", "-q", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n"] + rpm))
    for s in software:
        s.installed = [f"{p} {found[p]}" for p in dict.fromkeys(s.deb + s.rpm) if p in found]
    return databases
