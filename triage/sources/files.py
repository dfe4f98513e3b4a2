"""Local mail: an mbox file, a Maildir (with its Junk/Spam subfolders), a folder of .eml files, one .eml.

Files are only read. "New mail" for these sources means mail whose Message-ID (or content hash) the state
has not seen; that check is the pipeline's, so every file is read on every scan.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from triage.errors import SourceError
from triage.mail import Origin, RawMail
from triage.sources.batches import Batch

if TYPE_CHECKING:
    from triage.state import State

BATCH = 200
BATCH_BYTES = 32 * 1024 * 1024
# Maildir++ subfolders read besides the top level: where AWS's fraud notices often land.
JUNK_FOLDERS = (".Junk", ".Spam", ".INBOX.Junk", ".INBOX.Spam", ".Junk E-mail", ".Bulk Mail")


def open_path(path: Path) -> MboxSource | MaildirSource | EmlSource:
    if not path.exists():
        raise SourceError(f"mail source {path} does not exist; give an mbox file, a Maildir, "
                          f"a folder of .eml files or one .eml file")
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            return MaildirSource(path)
        return EmlSource(path, files=_eml_files(path))
    try:
        with path.open("rb") as handle:
            head = handle.read(5)
    except OSError as exc:
        raise SourceError(f"cannot read mail source {path}: {exc.strerror}; check its permissions") from None
    if head == b"From " or path.suffix.lower() == ".mbox":
        return MboxSource(path)
    return EmlSource(path.parent, files=(path,))


def _eml_files(folder: Path) -> tuple[Path, ...]:
    try:
        found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".eml")
    except OSError as exc:
        raise SourceError(f"cannot list {folder}: {exc.strerror}") from None
    if not found:
        raise SourceError(f"{folder} is not a Maildir and holds no .eml files")
    return tuple(found)


def _read(path: Path, origin: Origin) -> RawMail | tuple[str, str]:
    """The mail in `path`, or (where, why) when the file cannot be read."""
    try:
        return RawMail(path.read_bytes(), origin)
    except OSError as exc:
        return (str(origin), f"cannot read it: {exc.strerror}")


def _batched(mails: Iterator[RawMail | tuple[str, str]], total: int | None) -> Iterator[Batch]:
    """Batches of at most BATCH mails and BATCH_BYTES bytes, so memory does not grow with mail size."""
    chunk: list[RawMail] = []
    unreadable: list[tuple[str, str]] = []
    size = 0
    for mail in mails:
        if isinstance(mail, RawMail):
            chunk.append(mail)
            size += len(mail.data)
        else:
            unreadable.append(mail)
        if len(chunk) + len(unreadable) >= BATCH or size >= BATCH_BYTES:
            yield Batch(tuple(chunk), unreadable=tuple(unreadable), total=total)
            chunk, unreadable, size = [], [], 0
    if chunk or unreadable:
        yield Batch(tuple(chunk), unreadable=tuple(unreadable), total=total)


@dataclass
class EmlSource:
    folder: Path
    files: tuple[Path, ...]
    name: str = "eml"

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        return _batched(self._mails(), total=len(self.files))

    def _mails(self) -> Iterator[RawMail | tuple[str, str]]:
        for path in self.files:
            yield _read(path, Origin("eml", str(path)))


@dataclass
class MaildirSource:
    root: Path
    name: str = "maildir"

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        files = self._files()
        return _batched((_read(path, Origin("maildir", str(path))) for path in files), total=len(files))

    def _folders(self) -> list[Path]:
        return [self.root] + [self.root / n for n in JUNK_FOLDERS if (self.root / n).is_dir()]

    def _files(self) -> list[Path]:
        found: list[Path] = []
        for folder in self._folders():
            files: list[Path] = []
            for sub in ("cur", "new"):
                if (folder / sub).is_dir():
                    files.extend(p for p in (folder / sub).iterdir() if p.is_file() and not p.name.startswith("."))
            # Maildir names start with the delivery time: sorting keeps arrival order.
            found.extend(sorted(files, key=lambda p: p.name))
        return found


# Where a message of an mbox starts: a "From " line at the start of the file or after a blank line.
_MBOX_START = re.compile(rb"(?:\A|\n\r?\n)From ")


def _count_messages(handle: BinaryIO) -> int | None:
    """How many messages the mbox holds, counted without reading them (for progress only)."""
    try:
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return sum(1 for _ in _MBOX_START.finditer(data))
    except (OSError, ValueError):  # an empty file cannot be mapped; a pipe neither
        return None


@dataclass
class MboxSource:
    path: Path
    name: str = "mbox"

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise SourceError(f"cannot read mbox {self.path}: {exc.strerror}; check its permissions") from None
        with handle:
            yield from _batched(self._split(handle), total=_count_messages(handle))

    def _split(self, handle: object) -> Iterator[RawMail]:
        """Messages of an mbox: each starts at a "From " line at the start of the file or after a blank line."""
        lines: list[bytes] = []
        index = 0
        previous_blank = True
        started = False
        for line in handle:  # type: ignore[attr-defined]
            if line.startswith(b"From ") and previous_blank:
                if started:
                    index += 1
                    yield self._message(lines, index)
                lines = []
                started = True
            elif started:
                lines.append(line)
            elif line.strip():
                raise SourceError(f"{self.path} is not an mbox file: it does not start with a 'From ' line")
            previous_blank = line in (b"\n", b"\r\n")
        if started:
            index += 1
            yield self._message(lines, index)

    def _message(self, lines: list[bytes], index: int) -> RawMail:
        if lines and lines[-1] in (b"\n", b"\r\n"):
            lines = lines[:-1]  # the blank line that separates messages belongs to the mbox format
        return RawMail(b"".join(lines), Origin("mbox", str(self.path), uid=index))
