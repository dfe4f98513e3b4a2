"""The SQLite state: versioned, WAL, one writer, and clear errors for files it cannot use."""

from __future__ import annotations

import sqlite3

import pytest

from triage.errors import StateError
from triage.state import MIGRATIONS, Mailbox, SeenMessage, open_state


def seen(key: str, case_id: str = "c1") -> SeenMessage:
    return SeenMessage(key=key, content_hash="h", case_id=case_id, date=None, kind="other", severity="info",
                       record={"type": "message", "message_id": key})


def test_state_survives_reopening(tmp_path):
    path = tmp_path / "state.sqlite3"
    with open_state(path) as state:
        state.set_mailbox("imap://u@h:993/INBOX", Mailbox(7, 42))
        state.record_message(seen("<a@b>"))
        state.record_summary("c1", "d1")
        state.cache_put("translation", "k", "訳")
    with open_state(path) as state:
        assert state.mailbox("imap://u@h:993/INBOX") == Mailbox(7, 42)
        assert state.is_seen("<a@b>") and not state.is_seen("<other@b>")
        assert state.summary_sent("c1", "d1") and not state.summary_sent("c1", "d2")
        assert state.cache_get("translation", "k") == "訳"
        assert [m.key for m in state.case_messages("c1")] == ["<a@b>"]


def test_schema_is_versioned_and_in_wal_mode(tmp_path):
    path = tmp_path / "state.sqlite3"
    with open_state(path):
        pass
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_memory_state_keeps_nothing():
    with open_state(":memory:") as state:
        state.record_message(seen("<a@b>"))
    with open_state(":memory:") as state:
        assert not state.is_seen("<a@b>")


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "state.sqlite3"
    with open_state(path), pytest.raises(StateError, match="another triage process"), open_state(path):
        pass
    with open_state(path):  # free again once the first is closed
        pass


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StateError, match="newer triage"), open_state(path):
        pass


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StateError, match="not a triage database"), open_state(path):
        pass


def test_a_case_is_recorded_whole_or_not_at_all(tmp_path):
    # The pipeline records a case's mails in one transaction: if it stops half-way, the next scan meets
    # every one of them again instead of a case with mails missing.
    path = tmp_path / "state.sqlite3"
    with open_state(path) as state:
        with pytest.raises(RuntimeError), state.transaction():
            state.record_message(seen("<a@x>"))
            state.record_case("c1", "other", "info")
            raise RuntimeError("stopped")
        with state.transaction():
            state.record_message(seen("<b@x>"))
            state.record_message(seen("<c@x>"))
    with open_state(path) as state:
        assert not state.is_seen("<a@x>")
        assert [m.key for m in state.case_messages("c1")] == ["<b@x>", "<c@x>"]
