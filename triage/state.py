"""What triage remembers between runs, in SQLite.

Mailboxes (UIDVALIDITY and the last UID read), every message handled (so nothing is reported twice), the
cases they formed, the summaries delivered (so none is sent twice), and caches for later stages.

The schema is versioned with `PRAGMA user_version` and migrated forward on open. The database runs in WAL
mode; one process writes at a time, enforced by an exclusive lock on a file beside the database.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from triage.errors import StateError

log = logging.getLogger(__name__)

MEMORY = ":memory:"

# Each entry moves the schema one version forward. Append; never edit a released entry.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE mailboxes (
        mailbox      TEXT PRIMARY KEY,      -- imap://user@host:port/folder
        uidvalidity  INTEGER NOT NULL,
        last_uid     INTEGER NOT NULL
    );
    CREATE TABLE messages (
        key           TEXT PRIMARY KEY,     -- Message-ID, or sha256:<hash> for mail without one
        content_hash  TEXT NOT NULL,
        case_id       TEXT NOT NULL,
        date          TEXT,
        kind          TEXT NOT NULL,
        severity      TEXT NOT NULL,
        record        TEXT NOT NULL,        -- the message's JSON line
        seen_at       TEXT NOT NULL
    );
    CREATE INDEX messages_by_case ON messages (case_id);
    CREATE INDEX messages_by_hash ON messages (content_hash);
    CREATE TABLE cases (
        case_id     TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        severity    TEXT NOT NULL,
        first_seen  TEXT NOT NULL,
        updated     TEXT NOT NULL
    );
    CREATE TABLE summaries (
        case_id  TEXT NOT NULL,
        digest   TEXT NOT NULL,             -- which mails the summary covered
        channel  TEXT NOT NULL,             -- smtp, reminder
        sent_at  TEXT NOT NULL,
        PRIMARY KEY (case_id, digest, channel)
    );
    CREATE TABLE cache (
        namespace  TEXT NOT NULL,           -- translation, glossary, …
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        created    TEXT NOT NULL,
        PRIMARY KEY (namespace, key)
    );
    """,
    # 2: a sent summary keeps its subject and text, so a reminder can repeat it.
    """
    ALTER TABLE summaries ADD COLUMN subject TEXT NOT NULL DEFAULT '';
    ALTER TABLE summaries ADD COLUMN text TEXT NOT NULL DEFAULT '';
    """,
    # 3: mails that could not be handled: recorded, so no scan meets them again (unless --all).
    """
    CREATE TABLE failures (
        content_hash  TEXT PRIMARY KEY,     -- sha256 of the raw bytes
        key           TEXT NOT NULL,        -- Message-ID when it could be read, else sha256:<hash>
        location      TEXT NOT NULL,        -- imap:INBOX #12, a file path
        reason        TEXT NOT NULL,        -- the one-line cause
        failed_at     TEXT NOT NULL
    );
    CREATE INDEX failures_by_key ON failures (key);
    """,
)


@dataclass(frozen=True)
class Mailbox:
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class SeenMessage:
    key: str
    content_hash: str
    case_id: str
    date: str | None
    kind: str
    severity: str
    record: dict[str, Any]


@dataclass(frozen=True)
class FailedMail:
    """A mail handled with an error: it is not met again, except by a scan with --all."""

    content_hash: str
    key: str
    location: str
    reason: str


@dataclass(frozen=True)
class SentSummary:
    case_id: str
    kind: str
    severity: str
    subject: str
    text: str
    sent_at: datetime  # when this summary went out
    last_sent_at: datetime  # when anything (summary or reminder) last went out for the case
    last_mail_at: datetime | None  # date of the newest mail in the case


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class State:
    """The open state database. Use `open_state()`; one instance per process."""

    def __init__(self, db: sqlite3.Connection, lock: IO[bytes] | None, where: str) -> None:
        self.db = db
        self._lock = lock
        self.where = where

    # --- mailboxes ---

    def mailbox(self, name: str) -> Mailbox | None:
        row = self.db.execute("SELECT uidvalidity, last_uid FROM mailboxes WHERE mailbox = ?", (name,)).fetchone()
        return Mailbox(row[0], row[1]) if row else None

    def set_mailbox(self, name: str, box: Mailbox) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO mailboxes (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?) "
                "ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
                "last_uid = excluded.last_uid",
                (name, box.uidvalidity, box.last_uid),
            )

    # --- messages and cases ---

    def is_seen(self, key: str) -> bool:
        """Handled before: read and recorded, or recorded as a mail that could not be handled."""
        return (self.db.execute("SELECT 1 FROM messages WHERE key = ?", (key,)).fetchone() is not None
                or self.db.execute("SELECT 1 FROM failures WHERE key = ?", (key,)).fetchone() is not None)

    def record_failure(self, failure: FailedMail) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO failures (content_hash, key, location, reason, failed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (failure.content_hash, failure.key, failure.location, failure.reason, now()),
            )

    def has_failed(self, content_hash: str) -> bool:
        """These exact bytes could not be handled before."""
        return self.db.execute("SELECT 1 FROM failures WHERE content_hash = ?",
                               (content_hash,)).fetchone() is not None

    def record_message(self, message: SeenMessage) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO messages (key, content_hash, case_id, date, kind, severity, record, "
                "seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (message.key, message.content_hash, message.case_id, message.date, message.kind,
                 message.severity, json.dumps(message.record, ensure_ascii=False), now()),
            )

    def case_messages(self, case_id: str) -> list[SeenMessage]:
        rows = self.db.execute(
            "SELECT key, content_hash, case_id, date, kind, severity, record FROM messages "
            "WHERE case_id = ? ORDER BY date, key", (case_id,)
        ).fetchall()
        return [SeenMessage(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    def record_case(self, case_id: str, kind: str, severity: str) -> None:
        stamp = now()
        with self.db:
            self.db.execute(
                "INSERT INTO cases (case_id, kind, severity, first_seen, updated) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (case_id) DO UPDATE SET kind = excluded.kind, severity = excluded.severity, "
                "updated = excluded.updated",
                (case_id, kind, severity, stamp, stamp),
            )

    # --- summaries ---

    def summary_sent(self, case_id: str, digest: str, channel: str = "smtp") -> bool:
        return self.db.execute(
            "SELECT 1 FROM summaries WHERE case_id = ? AND digest = ? AND channel = ?", (case_id, digest, channel)
        ).fetchone() is not None

    def record_summary(self, case_id: str, digest: str, channel: str = "smtp", *, subject: str = "",
                       text: str = "") -> None:
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO summaries (case_id, digest, channel, sent_at, subject, text) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (case_id, digest, channel, now(), subject, text),
            )

    def sent_summaries(self) -> list[SentSummary]:
        """The latest summary sent by SMTP for each case, with when anything was last sent for it."""
        rows = self.db.execute(
            """
            SELECT s.case_id, c.kind, c.severity, s.subject, s.text, s.sent_at,
                   (SELECT MAX(sent_at) FROM summaries WHERE case_id = s.case_id),
                   (SELECT MAX(date) FROM messages WHERE case_id = s.case_id)
            FROM summaries s JOIN cases c ON c.case_id = s.case_id
            WHERE s.channel = 'smtp'
              AND s.sent_at = (SELECT MAX(sent_at) FROM summaries WHERE case_id = s.case_id AND channel = 'smtp')
            ORDER BY s.case_id
            """
        ).fetchall()
        return [SentSummary(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5]), datetime.fromisoformat(r[6]),
                            datetime.fromisoformat(r[7]) if r[7] else None) for r in rows]

    # --- caches for later stages (translations, glossary ids) ---

    def cache_get(self, namespace: str, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM cache WHERE namespace = ? AND key = ?", (namespace, key)).fetchone()
        return row[0] if row else None

    def cache_put(self, namespace: str, key: str, value: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO cache (namespace, key, value, created) VALUES (?, ?, ?, ?)",
                (namespace, key, value, now()),
            )

    def close(self) -> None:
        self.db.close()
        if self._lock is not None:
            self._lock.close()


@contextmanager
def open_state(path: str | Path) -> Iterator[State]:
    """Open (creating and migrating) the state at `path`, or a throw-away one for ":memory:"."""
    state = _open(str(path))
    try:
        yield state
    finally:
        state.close()


def _open(path: str) -> State:
    lock: IO[bytes] | None = None
    if path != MEMORY:
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            lock = open(f"{target}.lock", "ab")  # noqa: SIM115 - held for the State's lifetime
        except OSError as exc:
            raise StateError(f"cannot create the state file {target}: {exc.strerror}; "
                             f"choose another place with --state") from None
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise StateError(f"another triage process is using {target}; wait for it to finish "
                             f"or use another --state") from None
    try:
        db = sqlite3.connect(path, isolation_level="DEFERRED", timeout=10)
        if path != MEMORY:
            db.execute("PRAGMA journal_mode = WAL")
            os.chmod(path, 0o600)
        db.execute("PRAGMA foreign_keys = ON")
        _migrate(db, path)
    except sqlite3.DatabaseError as exc:
        if lock is not None:
            lock.close()
        raise StateError(f"state file {path} is not a triage database ({exc}); "
                         f"move it away or use another --state") from None
    return State(db, lock, path)


def _migrate(db: sqlite3.Connection, path: str) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StateError(f"state file {path} was written by a newer triage (schema {version}); upgrade triage")
    for number in range(version, len(MIGRATIONS)):
        with db:
            db.executescript(MIGRATIONS[number])
            db.execute(f"PRAGMA user_version = {number + 1}")
        log.debug("state %s migrated to schema %d", path, number + 1)
