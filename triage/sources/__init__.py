"""Where mail comes from: IMAP, an mbox file, a Maildir, a folder of .eml files, or one .eml.

Every source reads and never writes: nothing is marked, moved or deleted. A source yields batches; after
the pipeline has handled a batch it stores the batch's checkpoint, so an interrupted scan resumes there.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import SourceError
from triage.sources.batches import Batch, Checkpoint, Source, mailbox_changed

if TYPE_CHECKING:
    from triage.config import ImapSettings
    from triage.state import State

__all__ = ["Batch", "Checkpoint", "DatedSource", "Source", "mailbox_changed", "open_source"]


def open_source(
    spec: str | None, imap: ImapSettings | None, *, max_bytes: int, rules_dir: Path, env: Mapping[str, str],
    since: date | None = None, forwarders: tuple[str, ...] = (),
) -> Source:
    """The source named on the command line: "imap", a path, or None for IMAP when it is configured.
    `since`: only mail from that day on (IMAP SINCE; for files, the Date header)."""
    from triage.sources import files

    if spec in (None, "imap"):
        if imap is None:
            if spec == "imap":
                raise SourceError("--source imap needs an [imap] section in the config file")
            raise SourceError("no mail source: give --source PATH (mbox, Maildir, folder of .eml, one .eml) "
                              "or configure [imap]")
        from triage.relevance import load_narrowing
        from triage.sources.imap import ImapSource

        narrowing = load_narrowing(rules_dir, forwarders)
        return ImapSource(imap, narrowing=narrowing, max_bytes=max_bytes, env=env, since=since)
    source = files.open_path(Path(spec))
    return source if since is None else DatedSource(source, since)


class DatedSource:
    """A file source without the mail dated before `since`. Mail without a readable Date is kept: it
    cannot be shown to be old."""

    def __init__(self, inner: Source, since: date) -> None:
        self.inner = inner
        self.since = since
        self.name = inner.name

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        for batch in self.inner.batches(state, rescan=rescan):
            yield replace(batch, mails=tuple(m for m in batch.mails if not _dated_before(m.data, self.since)))


_DATE = re.compile(rb"^date:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def _dated_before(data: bytes, since: date) -> bool:
    end = re.search(rb"\r?\n\r?\n", data)
    found = _DATE.search(data[: end.start()] if end else data)
    if not found:
        return False
    try:
        sent = email.utils.parsedate_to_datetime(found.group(1).decode("ascii", "replace").strip())
    except (TypeError, ValueError, IndexError):
        return False
    return sent.date() < since
