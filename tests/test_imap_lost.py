"""The IMAP connection lost in the middle of reading: what each command tells the user. `scan` ends with one
line that says to run it again; the daemon reconnects by itself, so its log says that, never "run the scan".
With --debug, the libraries' own lines about the break are shown, never a "--- Logging error ---"."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import mails
from tests.daemons import DaemonThreads, wait_until
from tests.dovecot import ImapUser
from tests.imap_proxy import counting_proxy
from triage.cli import Environment, main
from triage.config import Config, ImapSettings, NotifySettings, SmtpSettings

BODY_FETCH = r"UID FETCH \S+ \(.*BODY\.PEEK\[\]"
LOST = r"lost the IMAP connection to 127\.0\.0\.1: [^\n]+; mail read so far is kept"


def notices(count: int) -> list[bytes]:
    return [mails.compromise_notice(1, case=f"171002{n:05d}") for n in range(count)]


def append(user: ImapUser, messages: list[bytes]) -> None:
    with user.client() as c:
        for m in messages:
            c.append("INBOX", m)


def scan_args(tmp_path: Path, user: ImapUser, port: int) -> list[str]:
    config = tmp_path / "triage.toml"
    config.write_text(f'[imap]\nhost = "127.0.0.1"\nport = {port}\nuser = "{user.name}"\ntls = "none"\n'
                      f'password_env = "PW"\n[notify]\nto = ["owner@example.jp"]\n')
    return ["scan", "--config", str(config), "--state", str(tmp_path / "state"), "--json", "--no-aws",
            "--no-translate", "--no-send"]


def scan(tmp_path: Path, user: ImapUser, port: int) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(scan_args(tmp_path, user, port), Environment(stdout=out, stderr=err, environ={"PW": user.password}))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("count", "skip"), [(3, 0), (30, 1)], ids=["before-any-mail", "after-the-first-bodies"])
def test_a_scan_that_loses_the_connection_says_to_run_it_again(dovecot, imap_user, tmp_path, count, skip):
    append(imap_user, notices(count))
    with counting_proxy(dovecot) as proxy:
        proxy.cut_at(BODY_FETCH, skip=skip)
        code, out, err = scan(tmp_path, imap_user, proxy.port)
        assert code == 2
        assert re.fullmatch(f"triage: {LOST}, run the scan again\n", err), err
        code, out, err = scan(tmp_path, imap_user, proxy.port)  # the advice holds: the next scan reads the rest
    assert code == 0, err
    assert len({line for line in out.splitlines() if '"type": "message"' in line}) == count - 25 * skip


def test_the_daemon_that_loses_the_connection_logs_that_it_tries_again(dovecot, imap_user, smtp, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    append(imap_user, notices(1))
    with counting_proxy(dovecot) as proxy:
        proxy.cut_at(BODY_FETCH)
        config = Config(
            imap=ImapSettings(host="127.0.0.1", port=proxy.port, user=imap_user.name, password_env="PW", tls="none"),
            smtp=SmtpSettings(host=smtp.host, port=smtp.port, tls="none", sender="triage@example.jp"),
            notify=NotifySettings(to=("owner@example.jp",), remind_every_hours=0),
        )
        daemons = DaemonThreads(tmp_path / "state.sqlite3", {"PW": imap_user.password})
        daemons.start(config)
        try:
            assert wait_until(lambda: len(smtp.inbox.messages) == 1), "the daemon reconnects by itself"
        finally:
            daemons.stop_all()
    assert not daemons.errors, daemons.errors
    [lost] = [r.getMessage() for r in caplog.records if "lost the IMAP connection" in r.getMessage()]
    assert re.fullmatch(f"{LOST}; trying again in \\d+ s", lost), lost
    assert "run the scan" not in caplog.text


def test_a_debug_scan_that_loses_the_connection_shows_imaplibs_lines_without_logging_errors(dovecot, imap_user,
                                                                                             tmp_path):
    """imaplib replays its last lines through imapclient's logger with a timestamp as an extra argument; as
    its own process (logging reports its errors on the real stderr), the run shows them as text."""
    append(imap_user, notices(1))
    with counting_proxy(dovecot) as proxy:
        proxy.cut_at(BODY_FETCH)
        done = subprocess.run([sys.executable, "-m", "triage", "--debug", *scan_args(tmp_path, imap_user, proxy.port)],
                              env={**os.environ, "PW": imap_user.password}, capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 2
    assert "Logging error" not in done.stderr
    assert re.search(r"^triage: DEBUG: last \d+ IMAP4 interactions:$", done.stderr, re.M)
    assert re.search(r"^triage: DEBUG: < b'\* OK .*Dovecot.* ready\.' \(\d+\.\d+,\)$", done.stderr, re.M)
    assert done.stderr.rstrip().splitlines()[-1].endswith("mail read so far is kept, run the scan again")
