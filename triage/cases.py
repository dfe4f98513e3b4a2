"""Mails grouped into cases: one AWS support case id is one case; any other mail is a case of its own.

A case takes the most severe kind among its mails, including mails seen in earlier runs. A mail joins the
support case whose number it shows only if its kind may (`joins_case` in rules/kinds.toml: a phish never
does, whatever case number it shows, since an attacker can copy a case number; nor does mail that is not
about AWS), and never when its authentication failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from triage.authenticate import Authenticity
from triage.classify import Classification
from triage.forward import Forward
from triage.kinds import Kind, Kinds
from triage.mail import Mail
from triage.severity import rank


@dataclass(frozen=True)
class ClassifiedMail:
    mail: Mail
    authenticity: Authenticity
    classification: Classification
    forward: Forward | None = None  # how the mail reached us, when someone forwarded it

    @property
    def case_id(self) -> str:
        ids = self.classification.entities.case_ids
        if ids and self.joins_support_case:
            return ids[0]
        return "mail-" + hashlib.sha256(self.mail.key.encode()).hexdigest()[:12]

    @property
    def joins_support_case(self) -> bool:
        """Whether the case number the mail shows may be believed. A case number is easy to copy: a mail
        whose kind may not join (a phish, mail not about AWS) or whose authentication failed never does."""
        return self.classification.meaning.joins_case and self.authenticity.verdict != "fail"

    @property
    def kind(self) -> str:
        return self.classification.kind

    @property
    def severity(self) -> str:
        return self.classification.severity


@dataclass(frozen=True)
class EarlierMail:
    """A mail of the case read in an earlier run, as the state remembers it."""

    key: str
    kind: str
    severity: str
    record: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    case_id: str
    kind: str
    severity: str
    mails: tuple[ClassifiedMail, ...]  # read in this run, oldest first, each mail once
    earlier: tuple[EarlierMail, ...] = ()
    forwarded: tuple[ClassifiedMail, ...] = ()  # every forward of a mail of the case in this run, repeats too
    meaning: Kind = field(kw_only=True)  # what the case's kind implies: its row of the kinds table

    def __post_init__(self) -> None:
        if self.meaning.name != self.kind:
            raise ValueError(f"case of kind {self.kind!r} carries the meaning of {self.meaning.name!r}")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(sorted({m.mail.key for m in self.mails} | {e.key for e in self.earlier}))

    @property
    def digest(self) -> str:
        """Names the set of mails a summary covers: a new mail in the case makes a new digest."""
        return hashlib.sha256("\n".join(self.keys).encode()).hexdigest()[:16]

    @property
    def is_support_case(self) -> bool:
        return not self.case_id.startswith("mail-")

    @property
    def first_date(self) -> datetime | None:
        dates = [m.mail.date for m in self.mails if m.mail.date]
        return min(dates) if dates else None


def most_severe(kinds_and_severities: Iterable[tuple[str, str]], kinds: Kinds) -> tuple[str, str]:
    """(kind, severity) of the most severe pair; between equals, the kind listed first in the kinds table."""
    return max(kinds_and_severities, key=lambda ks: (rank(ks[1]), -kinds.position(ks[0])))


def group_cases(
    mails: Iterable[ClassifiedMail], kinds: Kinds, earlier: dict[str, tuple[EarlierMail, ...]] | None = None
) -> list[Case]:
    """Cases in order of their first mail in `mails`; `earlier` adds what past runs saw, by case id.

    An earlier mail whose kind the table no longer holds (the user removed it) still belongs to the case
    but no longer decides its kind."""
    earlier = earlier or {}
    groups: dict[str, list[ClassifiedMail]] = {}
    for m in mails:
        groups.setdefault(m.case_id, []).append(m)
    cases = []
    for case_id, found in groups.items():
        # The same mail forwarded twice (or forwarded and received) is one mail of the case.
        members = list({m.mail.key: m for m in reversed(found)}.values())
        members.sort(key=lambda m: (m.mail.date is None, m.mail.date or 0))
        before = tuple(e for e in earlier.get(case_id, ()) if e.key not in {m.mail.key for m in members})
        pairs = [(m.kind, m.severity) for m in members] + [(e.kind, e.severity) for e in before if e.kind in kinds]
        kind, severity = most_severe(pairs, kinds)
        cases.append(Case(case_id, kind, severity, tuple(members), before, tuple(m for m in found if m.forward),
                          meaning=kinds[kind]))
    return cases
