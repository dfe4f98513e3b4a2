"""The daemon as a service, against real Dovecot and aiosmtpd: push from Junk, the outbox through an SMTP
outage, acknowledgements and `status` beside a running daemon, a failed pass that does not end it."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests import mails
from tests.daemons import FAST, DaemonThreads, wait_until
from tests.dovecot import ImapUser, free_port
from tests.smtp import Inbox
from triage import paths
from triage.classify import load_rules
from triage.cli import Environment, main
from triage.config import Config, ImapSettings, NotifySettings, SmtpSettings
from triage.daemon import Timing
from triage.errors import StateError
from triage.state import holder, open_state
from triage.status import gather, status_json

KINDS = load_rules(paths.rules_dir()).kinds

QUICK_OUTBOX = Timing(idle_seconds=20, poll_seconds=120, check_seconds=0.5, backoff_first=0.2, backoff_max=1.0,
                      outbox_first=0.2, outbox_max=1.0)


def config_for(user: ImapUser, port: int, remind_every_hours: float = 0) -> Config:
    return Config(
        imap=ImapSettings(host="127.0.0.1", port=user.server.port, user=user.name, password_env="PW", tls="none"),
        smtp=SmtpSettings(host="127.0.0.1", port=port, tls="none", sender="triage@example.jp"),
        notify=NotifySettings(to=("owner@example.jp",), remind_every_hours=remind_every_hours),
    )


@pytest.fixture
def daemons(imap_user, tmp_path) -> Iterator[DaemonThreads]:
    threads = DaemonThreads(tmp_path / "state.sqlite3", {"PW": imap_user.password})
    yield threads
    threads.stop_all()
    assert not threads.errors, threads.errors


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), Environment(stdout=out, stderr=io.StringIO(), environ={}))
    return code, out.getvalue()


def status(state: Path) -> dict:
    """What `triage status --json` prints (read directly: the CLI resets the logging caplog looks at)."""
    with open_state(state, shared=True) as s:
        return status_json(gather(s, holder(state), KINDS, 0.0005))


def ready(state: Path) -> bool:
    """The daemon has made the state and finished a pass."""
    try:
        return status(state)["passes"] != []
    except StateError:
        return False


def status_cli(state: Path) -> dict:
    code, out = cli("status", "--json", "--state", str(state))
    assert code == 0
    return json.loads(out)


def recent_compromise(n: int) -> bytes:
    """A compromise notice dated now, so it is critical and reminded."""
    return mails.build('"Amazon Web Services" <no-reply-aws@amazon.com>',
                       f"{'RE: ' if n > 1 else ''}[CASE 99100] [ACTION REQUIRED] Your AWS account 123456789012 "
                       f"may be compromised", "We detected unauthorized activity.",
                       message_id=f"<recent-{n}@amazon.com>", date=datetime.now(UTC))


def test_a_notice_in_junk_arrives_through_idle_not_the_poll(daemons, imap_user, smtp):
    daemons.start(config_for(imap_user, smtp.port))  # the next full pass is 120 s away
    time.sleep(1.5)  # the first pass is done and every folder idles
    with imap_user.client() as c:
        c.append("Junk", mails.compromise_notice(1))
    assert wait_until(lambda: len(smtp.inbox.messages) == 1, seconds=15), "IDLE on Junk should bring it in seconds"
    assert "17100200301" in smtp.inbox.messages[0]["Subject"]


class SwitchableSmtp:
    """An aiosmtpd server on a fixed port that the test stops and starts again."""

    def __init__(self) -> None:
        self.port, self.inbox = free_port(), Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def test_summaries_wait_in_the_outbox_through_an_smtp_outage_and_go_once_it_is_back(daemons, imap_user, tmp_path,
                                                                                   caplog):
    caplog.set_level(logging.INFO, logger="triage")
    server = SwitchableSmtp()  # not started: the SMTP server is down
    daemons.start(config_for(imap_user, server.port), QUICK_OUTBOX)
    with imap_user.client() as c:
        for case in ("1001", "1002", "1003"):
            c.append("INBOX", mails.compromise_notice(1, case=case))
    state = tmp_path / "state.sqlite3"
    assert wait_until(lambda: ready(state) and len(status(state)["outbox"]) == 3, seconds=20)
    assert wait_until(lambda: status(state)["outbox"][0]["attempts"] >= 3, seconds=20), \
        "retried without any new mail"
    assert "Connection refused" in status(state)["outbox"][0]["last_error"]
    server.start()
    try:
        assert wait_until(lambda: len(server.inbox.messages) >= 3, seconds=20)
        time.sleep(2)  # time for any repeat to show
    finally:
        server.stop()
    ids = [m["Message-ID"] for m in server.inbox.messages]
    assert len(ids) == 3 and len(set(ids)) == 3, "every summary once"
    assert status(state)["outbox"] == []
    outage_lines = [r for r in caplog.records if "cannot deliver through the SMTP server" in r.getMessage()]
    assert len(outage_lines) == 1, "one line per outage, not one per attempt"
    assert any("takes mail again" in r.getMessage() for r in caplog.records)
    # while the server was down the log never said a summary was sent: queued, then delivered
    said = [r.getMessage().split(": ", 1)[1] for r in caplog.records if r.getMessage().startswith("case ")]
    assert sorted(said) == ["compromised-account, summary queued"] * 3 + ["summary delivered"] * 3, said


def test_status_and_ack_beside_the_running_daemon(daemons, imap_user, smtp, tmp_path):
    state = tmp_path / "state.sqlite3"
    with imap_user.client() as c:
        c.append("INBOX", recent_compromise(1))
    # 0.0005 h = 1.8 s between reminders.
    daemons.start(config_for(imap_user, smtp.port, remind_every_hours=0.0005), QUICK_OUTBOX)

    def reminders() -> list:
        return [m for m in smtp.inbox.messages if m["Subject"].startswith("【再通知】")]

    assert wait_until(lambda: len(reminders()) >= 1, seconds=20)
    body = reminders()[0].get_body(("plain",)).get_content()
    assert "triage ack 99100" in body and "返信する必要はありません" in body, "the reminder says how to acknowledge"

    report = status_cli(state)  # the daemon holds the state meanwhile: status reads beside it
    [case] = [c for c in report["cases"] if c["case_id"] == "99100"]
    assert case["severity"] == "critical" and not case["acknowledged"] and case["next_reminder"]
    assert case["summaries_sent"] == 1 and case["first_mail"].endswith("+09:00")
    assert report["daemon_pid"] and report["outbox"] == []
    assert {p["mailbox"].rsplit("/", 1)[1] for p in report["passes"]} == {"INBOX", "Junk"}
    code, text = cli("status", "--state", str(state))
    assert code == 0 and "99100" in text and "triage ack" in text

    code, out = cli("ack", "99100", "--state", str(state))
    assert code == 0 and "99100" in out
    time.sleep(1)  # a reminder already on its way may still land
    count = len(reminders())
    time.sleep(5)  # well over two reminder periods
    assert len(reminders()) == count, "acknowledged: the reminders stop"
    [case] = [c for c in status(state)["cases"] if c["case_id"] == "99100"]
    assert case["acknowledged"] and case["next_reminder"] is None

    with imap_user.client() as c:  # a new mail on the case re-opens it
        c.append("INBOX", recent_compromise(2))
    assert wait_until(lambda: len(reminders()) > count, seconds=20), "re-opened: reminded again"
    [case] = [c for c in status(state)["cases"] if c["case_id"] == "99100"]
    assert not case["acknowledged"]


def test_ack_of_an_unknown_case_is_one_line_and_exit_2(tmp_path, daemons, imap_user, smtp):
    daemons.start(config_for(imap_user, smtp.port))
    state = tmp_path / "state.sqlite3"
    assert wait_until(lambda: ready(state), seconds=20)
    err = io.StringIO()
    code = main(["ack", "nope", "--state", str(state)], Environment(stdout=io.StringIO(), stderr=err, environ={}))
    assert code == 2 and "no case nope" in err.getvalue() and err.getvalue().count("\n") == 1


def test_a_poison_mail_between_two_notices_holds_neither_back(daemons, imap_user, smtp):
    poison = (b"From: \"Amazon Web Services\" <no-reply-aws@amazon.com>\r\n"
              b"Subject: =?rot13?q?Lbhe_NJF_nppbhag?= [CASE 5] compromised\r\n"
              b"Message-ID: <poison@amazon.com>\r\n\r\nYour AWS account may be compromised.\r\n")
    with imap_user.client() as c:
        c.append("INBOX", mails.compromise_notice(1, case="17100200301"))
        c.append("INBOX", poison)  # its header names a codec the decoder trips over
        c.append("INBOX", mails.compromise_notice(1, case="17100200302"))
    daemons.start(config_for(imap_user, smtp.port))

    def cases() -> set[str]:
        return {m["X-Triage-Case"] for m in smtp.inbox.messages}

    # The damaged mail itself is read as well as it can be (and warned about): what counts is that it holds
    # back neither notice.
    assert wait_until(lambda: {"17100200301", "17100200302"} <= cases(), seconds=20), "both notices summarised"
    time.sleep(1)
    assert all(t.is_alive() for t in daemons.threads), "the daemon still runs"
    with imap_user.client() as c:
        c.append("Junk", mails.compromise_notice(1, case="17100200303"))
    assert wait_until(lambda: "17100200303" in cases(), seconds=20), "and handles what comes next"


def test_a_failed_pass_does_not_end_the_daemon(daemons, imap_user, smtp, tmp_path, caplog):
    state = tmp_path / "state.sqlite3"
    daemons.start(config_for(imap_user, smtp.port), FAST)
    assert wait_until(lambda: ready(state), seconds=20)
    # Another program holds a write lock on the state longer than SQLite waits: the pass fails.
    blocker = sqlite3.connect(state, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    released = threading.Timer(13, blocker.rollback)
    released.start()
    try:
        with imap_user.client() as c:
            c.append("INBOX", mails.compromise_notice(1))
        assert wait_until(lambda: "database is locked" in caplog.text, seconds=20)
        assert all(t.is_alive() for t in daemons.threads), "the daemon goes on"
    finally:
        released.join()
        blocker.close()
    assert wait_until(lambda: len(smtp.inbox.messages) == 1, seconds=20), "and handles the mail once it can"




def test_an_ack_naming_an_unknown_case_acknowledges_nothing_and_a_new_mail_reopens(tmp_path):
    from triage.state import SeenMessage

    def mail(n: int) -> SeenMessage:
        return SeenMessage(f"<m{n}@x>", f"h{n}", "c1", "2026-11-10T06:00:00+00:00", "compromised-account",
                           "critical", {})

    with open_state(tmp_path / "s.sqlite3") as state:
        state.record_message(mail(1))
        state.record_case("c1", "compromised-account", "critical")
        assert state.acknowledge(["c1", "typo"]) == ["c1"]
        assert not state.case_rows()[0].acknowledged, "nothing acknowledged when one id is unknown"
        assert state.acknowledge(["c1"]) == ["c1"]
        assert state.case_rows()[0].acknowledged
        state.record_message(mail(1))  # the same mail read again (--all): still acknowledged
        assert state.case_rows()[0].acknowledged
        state.record_message(mail(2))
        assert not state.case_rows()[0].acknowledged, "a new mail re-opens the case"
