"""`triage daemon` as a real process: killed with SIGKILL right after the SMTP server's 250 (no second copy
after the restart), `triage status` from another process beside it, and SIGHUP with a changed and with a
broken config."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests import mails
from tests.daemons import wait_until
from tests.dovecot import ImapUser, free_port
from tests.smtp import Inbox


def write_config(path: Path, user: ImapUser, smtp_port: int, *, min_severity: str = "medium") -> Path:
    path.write_text(f"""
[imap]
host = "127.0.0.1"
port = {user.server.port}
user = "{user.name}"
password_env = "PW"
tls = "none"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "triage@example.jp"

[notify]
to = ["owner@example.jp"]
min_severity = "{min_severity}"
remind_every_hours = 0
""", encoding="utf-8")
    path.chmod(0o600)
    return path


@dataclass
class Daemon:
    """One `triage daemon` process; its log goes to a file the test reads."""

    config: Path
    state: Path
    log: Path
    password: str
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "triage", "daemon", "--config", str(self.config), "--state", str(self.state),
                 "--no-aws", "--no-translate"],
                env={**os.environ, "PW": self.password, **self.env}, stdout=subprocess.DEVNULL, stderr=log)
        return self.process

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def status(self) -> dict[str, Any] | None:
        """`triage status --json` from another process; None while the state is not made yet."""
        done = subprocess.run([sys.executable, "-m", "triage", "status", "--json", "--state", str(self.state),
                               "--config", str(self.config)], capture_output=True, timeout=30)
        return json.loads(done.stdout) if done.returncode == 0 else None

    def passed_since(self, when: datetime) -> bool:
        report = self.status()
        return bool(report and report["passes"] and
                    all(datetime.fromisoformat(p["at"]) >= when for p in report["passes"]))

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def daemon(imap_user, tmp_path) -> Iterator[Daemon]:
    d = Daemon(tmp_path / "config.toml", tmp_path / "state.sqlite3", tmp_path / "daemon.log", imap_user.password)
    yield d
    if d.process is not None and d.process.poll() is None:
        d.process.kill()
        d.process.wait()


@dataclass
class KillAfter250(Inbox):
    """Answers 250 to the DATA, then kills the daemon: at its next SMTP command (a QUIT, a RSET) or a
    second later, whichever comes first."""

    victim: int | None = None
    kills: list[float] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if self.victim is not None:
            asyncio.get_running_loop().call_later(1.0, self._kill)
        return answer

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self._kill()
        return "221 Bye"

    async def handle_RSET(self, server: Any, session: Any, envelope: Any) -> str:
        self._kill()
        return "250 OK"

    def _kill(self) -> None:
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.kills.append(time.monotonic())
            self.victim = None


@pytest.fixture
def killer() -> Iterator[tuple[KillAfter250, int]]:
    inbox, port = KillAfter250(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_a_kill_right_after_the_250_never_sends_a_second_copy(daemon, imap_user, killer, tmp_path):
    inbox, port = killer
    write_config(daemon.config, imap_user, port)
    with imap_user.client() as c:
        c.append("INBOX", mails.compromise_notice(1))
    inbox.victim = daemon.start().pid
    assert wait_until(lambda: bool(inbox.kills), seconds=30), "the summary reached the server"
    assert daemon.process is not None and daemon.process.wait(timeout=10) == -signal.SIGKILL
    assert len(inbox.messages) == 1

    restarted = datetime.now(UTC).replace(microsecond=0)
    process = daemon.start()
    assert wait_until(lambda: daemon.passed_since(restarted), seconds=30), daemon.text()
    report = daemon.status()
    assert report is not None and report["daemon_pid"] == process.pid, "status reads beside the running daemon"
    time.sleep(2)  # time for a second copy to show, were there one
    assert len(inbox.messages) == 1, "no second copy after the restart"
    [case] = [c for c in report["cases"] if c["case_id"] == "17100200301"]
    assert case["summaries_sent"] == 1 and report["outbox"] == []
    assert daemon.stop() == 0


def test_the_daemon_starts_with_a_cold_template_cache(daemon, imap_user, smtp, tmp_path):
    """jinja2 keeps compiled templates in the temp dir; after a reboot it is empty, and the daemon must still
    start (it once refused: the terminal's templates were compiled without the terminal's filters)."""
    write_config(daemon.config, imap_user, smtp.port)
    cold = tmp_path / "tmp"
    cold.mkdir()
    daemon.env = {"TMPDIR": str(cold)}
    daemon.start()
    assert wait_until(lambda: daemon.passed_since(datetime(2000, 1, 1, tzinfo=UTC)), seconds=30), daemon.text()
    assert daemon.process is not None and daemon.process.poll() is None, daemon.text()
    assert (cold / f"_jinja2-cache-{os.getuid()}").is_dir()  # the cache it filled is the cold one
    with imap_user.client() as c:
        c.append("Junk", mails.compromise_notice())
    assert wait_until(lambda: len(smtp.inbox.messages) == 1, seconds=30), daemon.text()
    assert daemon.stop() == 0


def test_sighup_loads_a_changed_config_and_refuses_a_broken_one(daemon, imap_user, smtp, tmp_path):
    write_config(daemon.config, imap_user, smtp.port, min_severity="critical")
    daemon.start()
    assert wait_until(lambda: daemon.passed_since(datetime(2000, 1, 1, tzinfo=UTC)), seconds=30), daemon.text()

    def budget(n: int) -> bytes:
        return mails.build('"AWS Budgets" <no-reply@budgets.amazonaws.com>',
                           f"AWS Budgets: Monthly budget {n} has exceeded your alert threshold",
                           "Account 123456789012. Budgeted $20.00, actual $4,812.55.\n",
                           message_id=f"<budget-{n}@budgets.amazonaws.com>")

    def cases() -> int:
        report = daemon.status()
        return len(report["cases"]) if report else 0

    with imap_user.client() as c:
        c.append("INBOX", budget(1))  # high: below min_severity = critical, no summary
    assert wait_until(lambda: cases() == 1, seconds=20)
    assert smtp.inbox.messages == []

    write_config(daemon.config, imap_user, smtp.port, min_severity="medium")
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "configuration reloaded" in daemon.text(), seconds=20)
    with imap_user.client() as c:
        c.append("INBOX", budget(2))
    assert wait_until(lambda: len(smtp.inbox.messages) == 1, seconds=20), "the new min_severity is in force"

    daemon.config.write_text("[notify\nto = ", encoding="utf-8")
    daemon.process.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "configuration is refused" in daemon.text(), seconds=20)
    assert daemon.process.poll() is None, "a broken config does not end the daemon"
    with imap_user.client() as c:
        c.append("INBOX", budget(3))
    assert wait_until(lambda: len(smtp.inbox.messages) == 2, seconds=20), "the old config stays in use"
    log = daemon.text()
    assert log.count("configuration is refused") == 1
    assert "lost the IDLE connection" not in log, "reloading kept the IDLE connections"
    assert daemon.stop() == 0
