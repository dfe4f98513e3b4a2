"""What kind of mail is this, and how urgent? Rules from `rules/*.toml` decide; no rule lives in code.

A rule names a kind (DESIGN.md's vocabulary), optionally a severity (else the kind's default), the key of
its Japanese texts, and patterns: every field it gives must match (one pattern of the list is enough).
Among the rules that match, the most severe wins; ties go to the earlier rule.

Placeholder engine until issue 3 replaces it; the records and the signature are final.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.authenticate import Authenticity
from triage.entities import Entities, find_entities
from triage.errors import RulesError
from triage.mail import Mail
from triage.severity import KINDS, rank

_PATTERN_FIELDS = ("sender", "subject", "body")


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    severity: str
    text: str  # key of the Japanese texts in templates/texts.toml
    from_aws: bool | None = None  # True: only AWS senders; False: only others; None: any
    patterns: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    aws_domains: tuple[str, ...]

    def is_aws_address(self, address: str) -> bool:
        domain = address.rpartition("@")[2].lower()
        return any(domain == d or domain.endswith("." + d) for d in self.aws_domains)


@dataclass(frozen=True)
class Classification:
    kind: str
    severity: str
    rule: str
    text: str  # key of the Japanese texts
    entities: Entities = field(default_factory=Entities)
    matched: tuple[str, ...] = ()  # every rule that matched, the chosen one first


def load_rules(rules_dir: Path, extra: tuple[Path, ...] = ()) -> RuleSet:
    """The shipped rules, then the user's files; a user rule with a shipped rule's name replaces it."""
    by_name: dict[str, Rule] = {}
    domains: list[str] = []
    for path in (*sorted(rules_dir.glob("*.toml")), *extra):
        data = _read(path)
        domains.extend(str(d).lower() for d in data.get("aws_domains", []))
        for i, entry in enumerate(data.get("rule", [])):
            rule = _rule(entry, f"{path} rule #{i + 1}")
            by_name[rule.name] = rule
    return RuleSet(rules=tuple(by_name.values()), aws_domains=tuple(dict.fromkeys(domains)))


def classify(mail: Mail, authenticity: Authenticity, rules: RuleSet) -> Classification:
    from_aws = rules.is_aws_address(mail.sender.address)
    fields = {"sender": f"{mail.sender.name} <{mail.sender.address}>", "subject": mail.subject, "body": mail.text}
    matched = [r for r in rules.rules if _matches(r, fields, from_aws)]
    entities = find_entities(mail.subject, mail.text)
    if not matched:
        return Classification("other", KINDS["other"], "no-rule", "other", entities)
    best = max(matched, key=lambda r: (rank(r.severity), -matched.index(r)))
    names = (best.name, *(r.name for r in matched if r is not best))
    return Classification(best.kind, best.severity, best.name, best.text, entities, names)


def _matches(rule: Rule, fields: dict[str, str], from_aws: bool) -> bool:
    if rule.from_aws is not None and rule.from_aws != from_aws:
        return False
    return all(any(p.search(fields[name]) for p in pats) for name, pats in rule.patterns.items())


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"rules file {path} is not valid TOML: {exc}") from None


def _rule(entry: object, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise RulesError(f"{where} must be a table")
    unknown = set(entry) - {"name", "kind", "severity", "text", "from_aws", *_PATTERN_FIELDS}
    if unknown:
        raise RulesError(f"{where} has unknown key {sorted(unknown)[0]!r}")
    name, kind = entry.get("name"), entry.get("kind")
    if not isinstance(name, str) or not name:
        raise RulesError(f"{where} needs a name")
    if kind not in KINDS:
        raise RulesError(f"{where} ({name}): kind {kind!r} is not one of {', '.join(KINDS)}")
    severity = entry.get("severity", KINDS[kind])
    if severity not in ("info", "low", "medium", "high", "critical"):
        raise RulesError(f"{where} ({name}): severity {severity!r} is not info, low, medium, high or critical")
    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    for fname in _PATTERN_FIELDS:
        if fname not in entry:
            continue
        raw = entry[fname]
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items or not all(isinstance(p, str) for p in items):
            raise RulesError(f"{where} ({name}): {fname} must be a pattern or a list of patterns")
        try:
            patterns[fname] = tuple(re.compile(p, re.I | re.M) for p in items)
        except re.error as exc:
            raise RulesError(f"{where} ({name}): bad {fname} pattern: {exc}") from None
    from_aws = entry.get("from_aws")
    if from_aws is not None and not isinstance(from_aws, bool):
        raise RulesError(f"{where} ({name}): from_aws must be true or false")
    return Rule(name=name, kind=str(kind), severity=str(severity), text=str(entry.get("text", kind)),
                from_aws=from_aws, patterns=patterns)
