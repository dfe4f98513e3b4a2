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
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from triage.errors import StateError
from triage.stored import CaseRow as CaseRow
from triage.stored import FailedMail as FailedMail
from triage.stored import KnownAccount as KnownAccount
from triage.stored import Mailbox as Mailbox
from triage.stored import OutboxItem as OutboxItem
from triage.stored import PassRow as PassRow
from triage.stored import SeenMessage as SeenMessage
from triage.stored import SentSummary as SentSummary

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
    # 3: the owner's AWS accounts, learned (the check's credentials, authenticated AWS mail) instead of
    # demanded in [aws] account_ids; one row per account and the way it was learned.
    """
    CREATE TABLE known_accounts (
        account_id  TEXT NOT NULL,
        source      TEXT NOT NULL,          -- sts (the check's credentials) or mail
        detail      TEXT NOT NULL,          -- the caller ARN, or which mail taught it
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        PRIMARY KEY (account_id, source)
    );
    """,
    # 4: each account check made for a case: what was left to remove and what could not be seen, so the
    # next check can say what is gone and what is still there.
    """
    CREATE TABLE account_checks (
        case_id     TEXT NOT NULL,
        checked_at  TEXT NOT NULL,          -- when the check ran (UTC)
        account_id  TEXT NOT NULL,
        record      TEXT NOT NULL,          -- JSON: suspicious resources left, by region and type; gaps
        PRIMARY KEY (case_id, checked_at)
    );
    """,
    # 5: the daemon's outbox (a summary is kept until the SMTP server answered 250), the owner's
    # acknowledgements, and the last pass over each folder. IF NOT EXISTS: `status` and `ack` may open a
    # state the daemon is migrating at the same moment.
    """
    CREATE TABLE IF NOT EXISTS outbox (
        case_id       TEXT NOT NULL,
        digest        TEXT NOT NULL,
        channel       TEXT NOT NULL,        -- smtp, reminder
        summary       TEXT NOT NULL,        -- the rendered summary as JSON: a resend is the same mail
        queued_at     TEXT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT NOT NULL DEFAULT '',
        delivered_at  TEXT,                 -- set in the transaction right after the server's 250
        PRIMARY KEY (case_id, digest, channel)
    );
    CREATE TABLE IF NOT EXISTS acks (
        case_id   TEXT PRIMARY KEY,
        acked_at  TEXT NOT NULL,
        mails     INTEGER NOT NULL          -- the case's mails when acknowledged: a newer one re-opens it
    );
    CREATE TABLE IF NOT EXISTS passes (
        mailbox  TEXT PRIMARY KEY,
        at       TEXT NOT NULL,
        outcome  TEXT NOT NULL              -- ok, or the error
    );
    """,
    # 6: mails that could not be handled: recorded, so no scan meets them again (unless --all).
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


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# A case is acknowledged while no mail joined it after the `triage ack`.
_ACKED = """EXISTS (SELECT 1 FROM acks a WHERE a.case_id = {case}
                  AND a.mails >= (SELECT COUNT(*) FROM messages m WHERE m.case_id = {case}))"""
# A summary counts as sent unless the outbox still holds it undelivered.
_DELIVERED = """NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = {s}.case_id AND o.digest = {s}.digest
                        AND o.channel = {s}.channel AND o.delivered_at IS NULL)"""


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class State:
    """The open state database. Use `open_state()`; one instance per process."""

    def __init__(self, db: sqlite3.Connection, lock: IO[bytes] | None, where: str) -> None:
        self.db = db
        self._lock = lock
        self.where = where
        self._in_transaction = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit (all or none of them): a case's mails, or a scan's checkpoints.
        Writes outside a transaction commit one by one."""
        if self._in_transaction:
            yield
            return
        self._in_transaction = True
        try:
            with self.db:
                yield
        finally:
            self._in_transaction = False

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self.transaction():
            yield

    # --- mailboxes ---

    def mailbox(self, name: str) -> Mailbox | None:
        row = self.db.execute("SELECT uidvalidity, last_uid FROM mailboxes WHERE mailbox = ?", (name,)).fetchone()
        return Mailbox(row[0], row[1]) if row else None

    def set_mailbox(self, name: str, box: Mailbox) -> None:
        with self._write():
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
        with self._write():
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
        with self._write():
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
        with self._write():
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
                   (SELECT MAX(date) FROM messages WHERE case_id = s.case_id),
                   """ + _ACKED.format(case="s.case_id") + """
            FROM summaries s JOIN cases c ON c.case_id = s.case_id
            WHERE s.channel = 'smtp'
              AND s.sent_at = (SELECT MAX(sent_at) FROM summaries WHERE case_id = s.case_id AND channel = 'smtp')
            ORDER BY s.case_id
            """
        ).fetchall()
        return [SentSummary(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5]), datetime.fromisoformat(r[6]),
                            _time(r[7]), bool(r[8])) for r in rows]

    # --- the daemon's outbox ---

    def outbox_put(self, case_id: str, digest: str, channel: str, summary: dict[str, Any]) -> bool:
        """Queue a summary; False when this very summary was queued before (delivered or not)."""
        with self.db:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO outbox (case_id, digest, channel, summary, queued_at) VALUES (?, ?, ?, ?, ?)",
                (case_id, digest, channel, json.dumps(summary, ensure_ascii=False), now()),
            )
        return cursor.rowcount > 0

    def outbox_pending(self) -> list[OutboxItem]:
        rows = self.db.execute(
            "SELECT case_id, digest, channel, summary, queued_at, attempts, last_error FROM outbox "
            "WHERE delivered_at IS NULL ORDER BY queued_at, rowid"
        ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], json.loads(r[3]), datetime.fromisoformat(r[4]), r[5], r[6])
                for r in rows]

    def outbox_delivered(self, item: OutboxItem) -> None:
        with self.db:
            self.db.execute("UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = '' "
                            "WHERE case_id = ? AND digest = ? AND channel = ?",
                            (now(), item.case_id, item.digest, item.channel))

    def outbox_failed(self, item: OutboxItem, error: str) -> None:
        with self.db:
            self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                            "WHERE case_id = ? AND digest = ? AND channel = ?",
                            (error, item.case_id, item.digest, item.channel))

    # --- acknowledgements ---

    def acknowledge(self, case_ids: list[str] | None = None) -> list[str]:
        """Record that the owner has seen these cases (None: every case); returns the ones acknowledged.
        A case id the state does not know makes it acknowledge none: a typo is not half done."""
        with self.db:
            if case_ids is None:
                found = [r[0] for r in self.db.execute("SELECT case_id FROM cases WHERE kind != 'other' "
                                                       "ORDER BY case_id")]
            else:
                found = [c for c in case_ids
                         if self.db.execute("SELECT 1 FROM cases WHERE case_id = ?", (c,)).fetchone()]
                if len(found) != len(case_ids):
                    return found
            for case_id in found:
                self.db.execute(
                    "INSERT OR REPLACE INTO acks (case_id, acked_at, mails) "
                    "VALUES (?, ?, (SELECT COUNT(*) FROM messages WHERE case_id = ?))",
                    (case_id, now(), case_id),
                )
        return found

    # --- passes and the overview `triage status` shows ---

    def record_pass(self, mailbox: str, outcome: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO passes (mailbox, at, outcome) VALUES (?, ?, ?)",
                            (mailbox, now(), outcome))

    def passes(self) -> list[PassRow]:
        rows = self.db.execute("SELECT mailbox, at, outcome FROM passes ORDER BY mailbox").fetchall()
        return [PassRow(r[0], datetime.fromisoformat(r[1]), r[2]) for r in rows]

    def case_rows(self) -> list[CaseRow]:
        rows = self.db.execute(
            """
            SELECT c.case_id, c.kind, c.severity,
                   (SELECT MIN(date) FROM messages WHERE case_id = c.case_id),
                   (SELECT MAX(date) FROM messages WHERE case_id = c.case_id),
                   (SELECT COUNT(*) FROM summaries s WHERE s.case_id = c.case_id AND s.channel = 'smtp'
                      AND """ + _DELIVERED.format(s="s") + """),
                   (SELECT COUNT(*) FROM summaries s WHERE s.case_id = c.case_id AND s.channel = 'reminder'
                      AND """ + _DELIVERED.format(s="s") + """),
                   (SELECT MAX(sent_at) FROM summaries s WHERE s.case_id = c.case_id
                      AND """ + _DELIVERED.format(s="s") + """),
                   """ + _ACKED.format(case="c.case_id") + """
            FROM cases c WHERE c.kind != 'other' ORDER BY c.updated DESC, c.case_id
            """
        ).fetchall()
        return [CaseRow(r[0], r[1], r[2], _time(r[3]), _time(r[4]), r[5], r[6], _time(r[7]), bool(r[8]))
                for r in rows]

    # --- the owner's accounts, as learned ---

    def remember_account(self, account_id: str, source: str, detail: str) -> None:
        """Record that `account_id` is the owner's; the first detail of each source is kept."""
        stamp = now()
        with self.db:
            self.db.execute(
                "INSERT INTO known_accounts (account_id, source, detail, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, source) DO UPDATE SET last_seen = excluded.last_seen",
                (account_id, source, detail, stamp, stamp),
            )

    def known_accounts(self) -> list[KnownAccount]:
        return _known_accounts(self.db)

    # --- account checks made for a case ---

    def record_check(self, case_id: str, checked_at: str, account_id: str, record: dict[str, Any]) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO account_checks (case_id, checked_at, account_id, record) VALUES (?, ?, ?, ?)",
                (case_id, checked_at, account_id, json.dumps(record, ensure_ascii=False)),
            )

    def last_check(self, case_id: str) -> dict[str, Any] | None:
        """The record of the case's latest account check, or None when it was never checked."""
        row = self.db.execute(
            "SELECT record FROM account_checks WHERE case_id = ? ORDER BY checked_at DESC LIMIT 1", (case_id,)
        ).fetchone()
        return dict(json.loads(row[0])) if row else None

    def case_first_date(self, case_id: str) -> datetime | None:
        """The date of the case's oldest mail, when one is known."""
        row = self.db.execute("SELECT MIN(date) FROM messages WHERE case_id = ?", (case_id,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def has_case(self, case_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM cases WHERE case_id = ?", (case_id,)).fetchone() is not None

    # --- caches for later stages (translations, glossary ids) ---

    def cache_get(self, namespace: str, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM cache WHERE namespace = ? AND key = ?", (namespace, key)).fetchone()
        return row[0] if row else None

    def cache_put(self, namespace: str, key: str, value: str) -> None:
        with self._write():
            self.db.execute(
                "INSERT OR REPLACE INTO cache (namespace, key, value, created) VALUES (?, ?, ?, ?)",
                (namespace, key, value, now()),
            )

    def close(self) -> None:
        self.db.close()
        if self._lock is not None:
            self._lock.close()


@contextmanager
def open_state(path: str | Path, *, shared: bool = False) -> Iterator[State]:
    """Open (creating and migrating) the state at `path`, or a throw-away one for ":memory:".

    `shared`: beside a process that holds the state (`triage status` and `triage ack` next to the daemon).
    No lock is taken; WAL lets this reader read while the holder writes, and a write here (an ack) waits
    only for the holder's current transaction, which is one short statement or a few."""
    state = _open(str(path), shared=shared)
    try:
        yield state
    finally:
        state.close()


def holder(path: str | Path) -> int | None:
    """The pid of the process holding the state at `path` (a daemon or a scan), or None."""
    lock_path = Path(f"{path}.lock")
    try:
        with open(lock_path, "rb") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = lock.read().decode("ascii", "replace").strip()
                return int(text) if text.isdigit() else 0
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    except FileNotFoundError:
        return None
    return None


def read_known_accounts(path: str | Path) -> list[KnownAccount]:
    """The known accounts of the state at `path`, read without taking the lock (a running daemon holds it)
    and without creating or migrating anything: none when there is no state yet."""
    if str(path) == MEMORY or not Path(path).is_file():
        return []
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise StateError(f"cannot read the state file {path}: {exc}") from None
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] < 3:
            return []
        return _known_accounts(db)
    except sqlite3.DatabaseError as exc:
        raise StateError(f"state file {path} is not a triage database ({exc}); use another --state") from None
    finally:
        db.close()


def _known_accounts(db: sqlite3.Connection) -> list[KnownAccount]:
    rows = db.execute("SELECT account_id, source, detail, first_seen, last_seen FROM known_accounts "
                      "ORDER BY account_id, source").fetchall()
    return [KnownAccount(*r) for r in rows]


def _open(path: str, *, shared: bool = False) -> State:
    lock: IO[bytes] | None = None
    if path != MEMORY and shared and not Path(path).exists():
        raise StateError(f"there is no state at {path} yet; run `triage scan` or `triage daemon` first, "
                         f"or name another --state")
    if path != MEMORY and not shared:
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
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n".encode("ascii"))  # for `triage status`: who holds the state
        lock.flush()
    try:
        db = sqlite3.connect(path, isolation_level="DEFERRED", timeout=10)
        if path != MEMORY and not shared:
            db.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL loses no committed write when triage itself stops; only a power cut may
            # take back the last commits (the mail is then read again). FULL would sync on every commit.
            db.execute("PRAGMA synchronous = NORMAL")
            os.chmod(path, 0o600)
        db.execute("PRAGMA foreign_keys = ON")
        if shared:
            _check_current(db, path)  # migrating is for the holder: two migrations at once would collide
        else:
            _migrate(db, path)
    except sqlite3.DatabaseError as exc:
        if lock is not None:
            lock.close()
        raise StateError(f"state file {path} is not a triage database ({exc}); "
                         f"move it away or use another --state") from None
    return State(db, lock, path)


def _check_current(db: sqlite3.Connection, path: str) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != len(MIGRATIONS):
        db.close()
        raise StateError(f"state file {path} has schema {version}, this triage needs {len(MIGRATIONS)}; "
                         f"start `triage daemon` (or run `triage scan`) once to bring it up to date")


def _migrate(db: sqlite3.Connection, path: str) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StateError(f"state file {path} was written by a newer triage (schema {version}); upgrade triage")
    for number in range(version, len(MIGRATIONS)):
        with db:
            db.executescript(MIGRATIONS[number])
            db.execute(f"PRAGMA user_version = {number + 1}")
        log.debug("state %s migrated to schema %d", path, number + 1)
