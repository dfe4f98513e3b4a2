"""The daemon against real Dovecot and SMTP servers: woken by IDLE, back after a dropped connection,
reminding about critical cases, and stopping when asked."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import mails
from tests.daemons import DaemonThreads, wait_until
from tests.dovecot import ImapUser
from triage import paths
from triage.classify import load_rules
from triage.config import Config, ImapSettings, NotifySettings, SmtpSettings
from triage.daemon import Timing, reminder_due, run_daemon
from triage.errors import ConfigError
from triage.pipeline import ScanOptions
from triage.state import SentSummary

KINDS = load_rules(paths.rules_dir()).kinds
ROOT = Path(__file__).resolve().parent.parent

def daemon_config(user: ImapUser, smtp, remind_every_hours: float = 0) -> Config:
    return Config(
        imap=ImapSettings(host="127.0.0.1", port=user.server.port, user=user.name, password_env="PW", tls="none"),
        smtp=SmtpSettings(host=smtp.host, port=smtp.port, tls="none", sender="triage@example.jp"),
        notify=NotifySettings(to=("owner@example.jp",), remind_every_hours=remind_every_hours),
    )


@pytest.fixture
def running(imap_user, smtp, tmp_path) -> Iterator[Callable[..., threading.Thread]]:
    daemons = DaemonThreads(tmp_path / "state.sqlite3", {"PW": imap_user.password})
    yield daemons.start
    daemons.stop_all()
    assert not daemons.errors, daemons.errors


def test_new_mail_wakes_the_daemon_through_idle(running, imap_user, smtp):
    running(daemon_config(imap_user, smtp))
    time.sleep(1.5)  # let the first pass finish and IDLE begin; the next poll is 120 s away
    with imap_user.client() as c:
        c.append("INBOX", mails.compromise_notice(1))
    assert wait_until(lambda: len(smtp.inbox.messages) == 1), "IDLE should bring the summary within seconds"
    assert "17100200301" in smtp.inbox.messages[0]["Subject"]


def test_mail_already_there_is_handled_on_start(running, imap_user, smtp):
    with imap_user.client() as c:
        c.append("INBOX", mails.budget_alert())
    running(daemon_config(imap_user, smtp))
    assert wait_until(lambda: len(smtp.inbox.messages) == 1)


def test_the_daemon_comes_back_after_the_connection_is_cut(running, imap_user, smtp):
    running(daemon_config(imap_user, smtp))
    time.sleep(1.5)
    conf = imap_user.server.root / "dovecot.conf"
    subprocess.run(["doveadm", "-c", str(conf), "kick", imap_user.name], check=True, capture_output=True)
    time.sleep(1.0)
    with imap_user.client() as c:
        c.append("INBOX", mails.compromise_notice(1))
    assert wait_until(lambda: len(smtp.inbox.messages) == 1, seconds=20)


def test_critical_cases_are_reminded(running, imap_user, smtp):
    with imap_user.client() as c:
        c.append("INBOX", mails.build('"Amazon Web Services" <no-reply-aws@amazon.com>',
                                      "[ACTION REQUIRED] Your AWS account 123456789012 may be compromised",
                                      "We detected unauthorized activity.", message_id="<recent@amazon.com>",
                                      date=datetime.now(UTC)))
        c.append("INBOX", mails.budget_alert())  # high, not critical: never reminded
    # 0.0005 h = 1.8 s between reminders; polls every 2 s so reminders are checked often.
    timing = Timing(idle_seconds=20, poll_seconds=2, check_seconds=0.5, backoff_first=0.2, backoff_max=1.0)
    running(daemon_config(imap_user, smtp, remind_every_hours=0.0005), timing)
    assert wait_until(lambda: any(m["Subject"].startswith("【再通知】") for m in smtp.inbox.messages), seconds=20)
    reminder = next(m for m in smtp.inbox.messages if m["Subject"].startswith("【再通知】"))
    assert "第三者に使われている可能性" in reminder["Subject"]
    assert "これは再通知です。" in reminder.get_body(("plain",)).get_content()
    assert not any("再通知" in m["Subject"] and "利用料金" in m["Subject"] for m in smtp.inbox.messages)


def test_the_daemon_judges_with_the_rules_it_loaded_until_it_is_told_to_reload(imap_user, smtp, tmp_path):
    # The rules and templates are read when the daemon starts (and on SIGHUP), not again for each pass:
    # a half-edited rules folder does not break the passes in between, and no pass compiles them again.
    data = tmp_path / "data"
    for folder in ("rules", "templates"):
        shutil.copytree(ROOT / folder, data / folder)
    daemons = DaemonThreads(tmp_path / "state.sqlite3", {"PW": imap_user.password, "TRIAGE_DATA_DIR": str(data)})
    try:
        daemons.start(daemon_config(imap_user, smtp))
        time.sleep(1.5)  # the first pass is over
        for path in (data / "rules").glob("[0-9]*.toml"):
            path.unlink()
        with imap_user.client() as c:
            c.append("INBOX", mails.compromise_notice(1))
        assert wait_until(lambda: len(smtp.inbox.messages) == 1), daemons.errors
        assert "17100200301" in smtp.inbox.messages[0]["Subject"]
    finally:
        daemons.stop_all()
    assert not daemons.errors, daemons.errors


def test_daemon_needs_imap_and_smtp(tmp_path):
    with pytest.raises(ConfigError, match="needs an \\[imap\\]"):
        run_daemon(Config(), ScanOptions(), str(tmp_path / "s"), {})


def _sent(severity: str, last_sent: datetime, last_mail: datetime) -> SentSummary:
    return SentSummary("c", "compromised-account", severity, "s", "t", last_sent, last_sent, last_mail)


def test_reminder_schedule():
    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert reminder_due(_sent("critical", now - timedelta(hours=13), now - timedelta(days=1)), now, 12, KINDS)
    assert not reminder_due(_sent("critical", now - timedelta(hours=11), now - timedelta(days=1)), now, 12, KINDS)
    assert not reminder_due(_sent("high", now - timedelta(hours=13), now - timedelta(days=1)), now, 12, KINDS)
    # Until acknowledged, not for a week: an old case nobody has looked at is still reminded.
    assert reminder_due(_sent("critical", now - timedelta(hours=13), now - timedelta(days=30)), now, 12, KINDS)
    acked = dataclasses.replace(_sent("critical", now - timedelta(hours=13), now - timedelta(days=1)),
                                acknowledged=True)
    assert not reminder_due(acked, now, 12, KINDS)
