"""What the translation stage hands to the templates (as `translation`). Plain records, no sentences.

Status words are the vocabulary `templates/_translation.txt.j2` turns into Japanese:

- mail status: translated | partial (some blocks kept in English) | original (nothing could be translated:
  the stripped English is shown) | japanese (already Japanese, not translated) | empty (nothing left after
  stripping quotes, signatures and footers)
- problem (for the whole run so far, set only when it kept something of this case in English):
  "" | quota (DeepL's character limit is reached) | unauthorized (DeepL refused the key) |
  unavailable (DeepL busy or down after the library's retries, or the glossary could not be prepared)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage.translate.redact import LINK_MARKER

MAIL_STATUSES = ("translated", "partial", "original", "japanese", "empty")
PROBLEMS = ("", "quota", "unauthorized", "unavailable")


@dataclass(frozen=True)
class Line:
    """One block as the reader sees it: Japanese when `translated`, else the stripped English original."""

    text: str
    translated: bool


@dataclass(frozen=True)
class MailTranslation:
    subject: str  # the original subject (not translated; used as DeepL's context)
    date: datetime | None
    status: str  # one of MAIL_STATUSES
    paragraphs: tuple[tuple[Line, ...], ...] = ()
    truncated: bool = False  # the mail was longer than what is translated for one summary
    rejected: int = 0  # blocks whose translation lost or doubled a placeholder, shown in English


@dataclass(frozen=True)
class Translation:
    mails: tuple[MailTranslation, ...]
    problem: str = ""  # one of PROBLEMS
    billed_characters: int = 0  # what this case cost on DeepL in this run (0 when all came from the cache)

    @property
    def rejected(self) -> int:
        return sum(m.rejected for m in self.mails)

    @property
    def links_hidden(self) -> bool:
        """True when a link of the mail was replaced by LINK_MARKER somewhere in what is shown."""
        return any(LINK_MARKER in line.text for m in self.mails for p in m.paragraphs for line in p)

    @property
    def any_translated(self) -> bool:
        return any(m.status in ("translated", "partial") for m in self.mails)
