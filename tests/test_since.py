"""`triage scan --since DATE`: the first scan of a big mailbox looks only that far back."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

from tests import mails
from tests.imap_proxy import counting_proxy
from tests.scanning import run
from triage import paths
from triage.cli import Environment, main
from triage.config import ImapSettings
from triage.relevance import load_narrowing
from triage.sources.imap import ImapSource
from triage.state import open_state

OLD = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NEW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def notice(n: int, when: datetime) -> bytes:
    return mails.build('"Amazon Web Services" <no-reply-aws@amazon.com>',
                       f"[CASE 1710020030{n}] Your AWS account 123456789012 may be compromised",
                       "We detected activity in your AWS account 123456789012.\n",
                       message_id=f"<since-{n}@amazon.com>", date=when)


def scan_json(*argv: str) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["scan", *argv, "--offline", "--json", "--state", ":memory:"],
                Environment(stdout=out, stderr=err, environ={}))
    ids = [r["message_id"] for r in map(json.loads, out.getvalue().splitlines()) if r["type"] == "message"]
    return code, ids, err.getvalue()


def test_files_older_than_since_are_left_out(tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [notice(1, OLD), notice(2, NEW)])
    assert scan_json("--source", str(folder))[:2] == (0, ["<since-1@amazon.com>", "<since-2@amazon.com>"])
    assert scan_json("--source", str(folder), "--since", "2026-11-01")[:2] == (0, ["<since-2@amazon.com>"])


def test_since_must_be_a_date(tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [notice(1, NEW)])
    try:
        scan_json("--source", str(folder), "--since", "last week")
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("--since 'last week' was accepted")


def test_imap_since_searches_the_server_and_fetches_only_newer_mail(dovecot, imap_user):
    with imap_user.client() as c:
        c.append("INBOX", notice(1, OLD), msg_time=OLD)
        c.append("INBOX", notice(2, NEW), msg_time=NEW)
    with counting_proxy(dovecot) as proxy, open_state(":memory:") as state:
        settings = ImapSettings(host="127.0.0.1", port=proxy.port, user=imap_user.name, password_env="PW",
                                tls="none", folders=("INBOX",))
        source = ImapSource(settings, narrowing=load_narrowing(paths.rules_dir()), max_bytes=1_000_000,
                            env={"PW": imap_user.password}, since=date(2026, 11, 1))
        got, _ = run(source, state)
    assert got.message_ids == ["<since-2@amazon.com>"]
    assert proxy.body_fetches() == [2]
