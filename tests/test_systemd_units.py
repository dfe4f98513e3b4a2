"""contrib/*.service as a sysadmin installs them: systemd-analyze finds nothing to complain about, the
hardening keeps the exposure at most 3.0, and a bad config is not restarted forever."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from triage.errors import ExitStatus

CONTRIB = Path(__file__).resolve().parent.parent / "contrib"
# The template is verified as an instance, as systemd loads it.
UNITS = {"triage.service": "triage.service", "triage@.service": "triage@work.service"}
INSTALLED = "/opt/triage/bin/triage"


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    assert found, "systemd-analyze is missing: `make test` installs systemd"
    return found


def _unit_copy(name: str, tmp_path: Path) -> Path:
    """The unit under its instance name, its ExecStart pointed at this test's own triage: verify checks
    that the program exists, and /opt/triage is where the README installs it, not where the tests run."""
    text = (CONTRIB / name).read_text()
    assert f"ExecStart={INSTALLED} daemon " in text
    copy = tmp_path / UNITS[name]
    copy.write_text(text.replace(INSTALLED, str(Path(sys.executable).parent / "triage")))
    return copy


@pytest.mark.parametrize("name", sorted(UNITS))
def test_the_unit_verifies_without_a_warning(name: str, tmp_path: Path) -> None:
    done = subprocess.run([_analyze(), "verify", str(_unit_copy(name, tmp_path))], capture_output=True,
                          text=True, timeout=120)
    ours = [line for line in (done.stdout + done.stderr).splitlines() if UNITS[name] in line]
    assert done.returncode == 0 and ours == [], done.stdout + done.stderr


@pytest.mark.parametrize("name", sorted(UNITS))
def test_exposure_is_at_most_3(name: str, tmp_path: Path) -> None:
    done = subprocess.run([_analyze(), "security", "--offline=yes", str(_unit_copy(name, tmp_path))],
                          capture_output=True, text=True, timeout=120)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert match, done.stdout + done.stderr
    assert float(match.group(1)) <= 3.0, done.stdout


@pytest.mark.parametrize("name", sorted(UNITS))
def test_a_bad_config_or_refused_login_is_not_restarted(name: str) -> None:
    text = (CONTRIB / name).read_text()
    assert f"RestartPreventExitStatus={int(ExitStatus.BAD_INPUT)}\n" in text
    assert "Restart=on-failure\n" in text


def test_the_template_reads_one_config_per_mailbox() -> None:
    text = (CONTRIB / "triage@.service").read_text()
    assert "--config /etc/triage/%i.toml" in text and "--state /var/lib/triage/%i/state.sqlite3" in text
