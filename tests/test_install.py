"""triage installed the way users install it: a real wheel, a fresh virtualenv, run from elsewhere.

The wheel must carry rules/ and templates/ (as triage/_data) and the installed command must find them
and the compromise case in the example inbox. Its dependencies are not downloaded again: the fresh
virtualenv sees this environment's site-packages through a .pth line (which runs none of the .pth files
there, so this checkout's editable install stays out of it) and `pip check` proves they satisfy the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from triage import paths

ROOT = Path(__file__).resolve().parent.parent
STALE = "25-removed-since.toml"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    python: Path
    triage: Path
    elsewhere: Path  # a folder outside the checkout to run from
    env: dict[str, str]

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.triage), *argv], capture_output=True, text=True, cwd=self.elsewhere,
                              env=self.env, timeout=300)


def _run(*argv: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    # A copy of the source, as a fresh clone would be: the build never writes into this checkout.
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests", "benchmarks"))
    # What an earlier build in the same checkout left in build/: a rules file since removed.
    stale = source / "build" / "lib" / "triage" / "_data" / "rules" / STALE
    stale.parent.mkdir(parents=True)
    stale.write_text('[[rule]]\nname = "removed-since"\nkind = "other"\nsubject = ["."]\n')
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", base / "dist", source, cwd=base)
    wheel = next((base / "dist").glob("triage-*.whl"))
    venv = base / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=base)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=base).strip())
    (site / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(base), "LANG": "C.UTF-8"}
    return Installed(wheel, python, venv / "bin" / "triage", elsewhere, env)


def test_the_wheel_carries_the_rules_and_templates(installed: Installed) -> None:
    # Exactly the checkout's: nothing missing, and nothing an earlier build left in build/.
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    packed = {name for name in names if name.startswith("triage/_data/")}
    assert packed == {f"triage/_data/{path.relative_to(ROOT)}" for folder in ("rules", "templates")
                      for path in (ROOT / folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert f"triage/_data/rules/{STALE}" not in names
    metadata = zipfile.ZipFile(installed.wheel).read("triage-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata


def test_its_dependencies_are_declared_and_met(installed: Installed) -> None:
    _run(installed.python, "-m", "pip", "check", cwd=installed.elsewhere)


def test_installed_triage_finds_the_compromise_case_from_another_folder(installed: Installed) -> None:
    done = installed.run("scan", "--source", str(ROOT / "examples" / "inbox.mbox"), "--offline", "--state",
                         ":memory:", "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    compromise = [x for x in lines if x["type"] == "case" and x["kind"] == "compromised-account"]
    assert compromise and compromise[0]["severity"] == "critical"
    summary = next(x for x in lines if x["type"] == "summary" and x["case_id"] == compromise[0]["case_id"])
    assert "いますぐやること" in summary["text"]


def test_installed_triage_reads_its_data_from_its_own_package(installed: Installed) -> None:
    where = _run(installed.python, "-c", "import triage.paths as p; print(p.data_dir())", cwd=installed.elsewhere)
    assert Path(where.strip()).parts[-2:] == ("triage", "_data")
    assert Path(where.strip()).is_relative_to(installed.python.parent.parent)


def test_an_install_that_lost_its_rules_says_so(installed: Installed, tmp_path: Path) -> None:
    rules = Path(_run(installed.python, "-c", "import triage.paths as p; print(p.rules_dir())",
                      cwd=installed.elsewhere).strip())
    moved = tmp_path / "rules"
    shutil.move(rules, moved)
    try:
        done = installed.run("explain", str(ROOT / "tests" / "corpus" / _a_corpus_mail()), "--offline")
    finally:
        shutil.move(moved, rules)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()] and str(rules) in done.stderr


def test_the_editable_install_reads_the_checkout() -> None:
    # `make .venv` installs this checkout editable: its rules/ and templates/ are used where they are.
    assert paths.data_dir({}) == ROOT
    assert not (ROOT / "triage" / "_data").exists()


def _a_corpus_mail() -> str:
    return sorted(p.name for p in (ROOT / "tests" / "corpus").glob("*.eml"))[0]
