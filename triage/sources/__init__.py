"""Where mail comes from: IMAP, an mbox file, a Maildir, a folder of .eml files, or one .eml.

Every source reads and never writes: nothing is marked, moved or deleted. A source yields batches; after
the pipeline has handled a batch it stores the batch's checkpoint, so an interrupted scan resumes there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from triage.errors import SourceError
from triage.mail import RawMail

if TYPE_CHECKING:
    from triage.config import ImapSettings
    from triage.state import Mailbox, State


@dataclass(frozen=True)
class Checkpoint:
    """How far a mailbox has been read: stored only after its mails were handled."""

    mailbox: str
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class Batch:
    mails: tuple[RawMail, ...]
    checkpoint: Checkpoint | None = None
    unreadable: tuple[tuple[str, str], ...] = ()  # (where, why) of mails the source could not read


class Source(Protocol):
    name: str

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        """New mail (all mail with `rescan`), in batches. Raises SourceError when it cannot read."""
        ...


def open_source(
    spec: str | None, imap: ImapSettings | None, *, max_bytes: int, rules_dir: Path, env: Mapping[str, str],
    forwarders: tuple[str, ...] = (),
) -> Source:
    """The source named on the command line: "imap", a path, or None for IMAP when it is configured."""
    from triage.sources import files

    if spec in (None, "imap"):
        if imap is None:
            if spec == "imap":
                raise SourceError("--source imap needs an [imap] section in the config file")
            raise SourceError("no mail source: give --source PATH (mbox, Maildir, folder of .eml, one .eml) "
                              "or configure [imap]")
        from triage.relevance import load_narrowing
        from triage.sources.imap import ImapSource

        return ImapSource(imap, narrowing=load_narrowing(rules_dir, forwarders), max_bytes=max_bytes, env=env)
    return files.open_path(Path(spec))


def mailbox_changed(stored: Mailbox | None, uidvalidity: int) -> bool:
    return stored is None or stored.uidvalidity != uidvalidity
