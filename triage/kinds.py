"""What each mail kind means to triage, from `rules/kinds.toml`: its default severity, whether the account
is checked, whether its mails are translated, and so on — one table, so "what happens to a health-event?"
is answered by reading one block of data instead of four modules.

The table is DESIGN.md's kind vocabulary, in its order (a tie between equally severe kinds goes to the
one listed first). A later rules file (a user's `[rules] extra`) may change fields of a known kind with a
`[kind.NAME]` table holding only those fields; it cannot add a kind. The table is loaded with the rules
(`triage.classify.load_rules`), once per run, and travels on the records that need it (`Classification`,
`Case`). This module only validates data: it reads no file and keeps no state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from triage.errors import RulesError
from triage.severity import SEVERITIES

KINDS_FILE = "kinds.toml"
FALLBACK = "other"  # the kind of mail no rule matches
_FLAGS = ("security", "check_account", "translated", "reply", "joins_case", "reminded")
_FIELDS = ("severity", *_FLAGS, "text")
TEXT_KEY = re.compile(r"[a-z0-9][a-z0-9-]*")  # a kind's name, or a key of texts.toml


@dataclass(frozen=True)
class Kind:
    name: str
    severity: str  # default severity of a rule of this kind
    security: bool  # AWS says something is wrong inside the account: the summary says what is known of it
    check_account: bool  # the account itself is checked (read-only) for a case of this kind
    translated: bool  # the mails' text goes to DeepL; false for mail whose words should not be polished
    reply: bool  # an English reply draft for the support case (only when AWS itself wrote)
    joins_case: bool  # may join the support case whose number it shows (a number is easy to copy)
    reminded: bool  # a critical case of this kind is reminded
    text: str  # key of its Japanese texts in templates/texts.toml


@dataclass(frozen=True)
class Kinds:
    """The table, in its file's order."""

    table: tuple[Kind, ...]

    def __getitem__(self, name: str) -> Kind:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        return any(k.name == name for k in self.table)

    def __iter__(self) -> Iterator[str]:
        return (k.name for k in self.table)

    def get(self, name: str) -> Kind | None:
        return next((k for k in self.table if k.name == name), None)

    def position(self, name: str) -> int:
        """Place in the table; an unknown kind comes after every known one."""
        return next((i for i, k in enumerate(self.table) if k.name == name), len(self.table))


def parse_kinds(data: dict[str, Any], where: str) -> Kinds:
    """The shipped table: every field of every kind, and the fallback kind among them."""
    unknown = sorted(set(data) - {"kind"})
    if unknown:
        raise RulesError(f"{where}: unknown top-level key {unknown[0]!r} (it holds only [kind.NAME] tables)")
    tables = data.get("kind")
    if not isinstance(tables, dict) or not tables:
        raise RulesError(f"{where}: no [kind.NAME] tables; it must list every mail kind")
    kinds = Kinds(tuple(_kind(name, entry, where, None) for name, entry in tables.items()))
    if FALLBACK not in kinds:
        raise RulesError(f"{where}: [kind.{FALLBACK}] is missing; it is the kind of mail no rule matches")
    return kinds


def override_kinds(kinds: Kinds, tables: object, where: str) -> Kinds:
    """`kinds` with the fields a later rules file gives for known kinds."""
    if not isinstance(tables, dict):
        raise RulesError(f"{where}: `kind` must be tables ([kind.NAME])")
    unknown = [name for name in tables if name not in kinds]
    if unknown:
        raise RulesError(f"{where}: [kind.{unknown[0]}] is not a kind (known: {', '.join(kinds)}); "
                         f"a rules file can change a kind, not add one")
    changed = {name: _kind(name, entry, where, kinds[name]) for name, entry in tables.items()}
    return Kinds(tuple(changed.get(k.name, k) for k in kinds.table))


def _kind(name: str, entry: object, where: str, base: Kind | None) -> Kind:
    where = f"{where}: [kind.{name}]"
    if not TEXT_KEY.fullmatch(name):
        raise RulesError(f"{where}: a kind's name is lower-case letters, digits and -")
    if not isinstance(entry, dict):
        raise RulesError(f"{where} must be a table")
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise RulesError(f"{where} has unknown key {unknown[0]!r} (known: {', '.join(_FIELDS)})")
    if base is None:
        missing = [f for f in _FIELDS if f not in entry]
        if missing:
            raise RulesError(f"{where} needs {missing[0]!r} (every kind gives {', '.join(_FIELDS)})")
    severity = entry.get("severity", base.severity if base else None)
    if severity not in SEVERITIES:
        raise RulesError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    for flag in _FLAGS:
        if flag in entry and not isinstance(entry[flag], bool):
            raise RulesError(f"{where}: {flag} must be true or false")
    text = entry.get("text", base.text if base else None)
    if not isinstance(text, str) or not TEXT_KEY.fullmatch(text):
        raise RulesError(f"{where}: text must be a key like \"compromised-account\" (lower-case, digits, -)")
    values = {f: entry[f] for f in _FLAGS if f in entry}
    kind = replace(base, severity=severity, text=text, **values) if base else Kind(
        name=name, severity=severity, text=text, **values)
    if kind.check_account and not kind.security:
        raise RulesError(f"{where}: check_account needs security = true (the summary shows the check "
                         f"only for a security kind)")
    return kind
