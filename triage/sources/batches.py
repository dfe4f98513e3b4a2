"""What every source hands the pipeline: batches of raw mail, each with the checkpoint to store once the
batch was handled. The records and the `Source` protocol only; the sources themselves are its neighbours."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from triage.mail import RawMail

if TYPE_CHECKING:
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
    # How many mails (readable or not) the source expects to hand over in all, as far as it knows now;
    # None when it cannot tell. Only for showing progress.
    total: int | None = None


class Source(Protocol):
    name: str

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        """New mail (all mail with `rescan`), in batches. Raises SourceError when it cannot read."""
        ...


def mailbox_changed(stored: Mailbox | None, uidvalidity: int) -> bool:
    return stored is None or stored.uidvalidity != uidvalidity
