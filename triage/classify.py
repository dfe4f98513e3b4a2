"""What kind of mail is this, and how urgent? Rules from `rules/*.toml` decide; no rule lives in code.

A rule names a kind (DESIGN.md's vocabulary), optionally a severity (else the kind's default), the key of
its Japanese texts, and conditions. Every condition it gives must hold:

- pattern fields (`sender`, `sender_name`, `sender_address`, `subject`, `body`, `content` = subject and
  body, `reply_to`, `attachment`, `header` = "Name: value" lines, `link`): one pattern of the list must
  match; `not_<field>`: none may match. Patterns are case-insensitive regular expressions, matched on
  NFKC-normalised text (full-width ＡＷＳ reads as AWS);
- `signals` (all present), `any_signals` (at least one), `not_signals` (none): facts from `triage.signals`;
- `authenticity`: the verdicts the rule accepts; `from_aws`: true / false for AWS senders or others.

Among the rules that match, the highest `priority` wins, then the most severe, then the earlier rule
(files in name order, rules in file order; a user's rule that overrides a shipped one keeps its place).
A user's rules file adds rules, replaces shipped rules of the same name, extends the word lists, and may
change what a kind means (`[kind.NAME]`, see `triage.kinds`): a rule without a severity gets its kind's,
as the table stands after every file.

This module never reads the network and never changes the mail.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.authenticate import VERDICTS, Authenticity
from triage.entities import Entities, find_entities
from triage.errors import DataError, RulesError
from triage.kinds import FALLBACK, KINDS_FILE, TEXT_KEY, Kind, Kinds, override_kinds, parse_kinds
from triage.mail import Mail
from triage.severity import SEVERITIES, rank
from triage.signals import SIGNALS, Lexicon, Signals, compute_signals

PATTERN_FIELDS = ("sender", "sender_name", "sender_address", "subject", "body", "content", "reply_to",
                  "attachment", "header", "link")
_RULE_KEYS = {"name", "kind", "severity", "text", "from_aws", "signals", "any_signals", "not_signals",
              "authenticity", "priority", "enabled", *PATTERN_FIELDS, *(f"not_{f}" for f in PATTERN_FIELDS)}
# Top-level keys of a classification rules file. Shipped files with none of them (relevance.toml and the
# other stages' data) are not classification files and are skipped.
_FILE_KEYS = {"aws_domains", "rule", "lexicon", "kind"}
_LEXICON_LISTS = {"brands", "glue_words", "freemail_domains", "dangerous_extensions", "document_extensions",
                  "sns_senders", "sns_default_names", "newsletter_headers", "account_teaching_kinds"}
_LEXICON_PATTERNS = {"claim_names", "claim_text", "claim_html", "account_threats", "sns_footer", "forward_markers",
                     "callback_phone", "callback_amount", "callback_words", "device_auth_pages", "device_codes"}


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    severity: str
    text: str  # key of the Japanese texts in templates/texts.toml
    from_aws: bool | None = None  # True: only AWS senders; False: only others; None: any
    patterns: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    exclude: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    signals: frozenset[str] = frozenset()
    any_signals: frozenset[str] = frozenset()
    not_signals: frozenset[str] = frozenset()
    authenticity: frozenset[str] = frozenset()  # empty: any verdict
    priority: int = 0
    source: str = ""  # the file it came from


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    aws_domains: tuple[str, ...]
    kinds: Kinds  # what each kind means (rules/kinds.toml and the files' [kind.NAME] changes)
    lexicon: Lexicon = field(default_factory=Lexicon)

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
    signals: tuple[str, ...] = ()  # names of the signals that held
    evidence: tuple[str, ...] = ()  # why each signal held, one line each
    topic_account: str = ""  # the account of the SNS topic that relayed the mail, when known
    meaning: Kind = field(kw_only=True)  # what the kind implies: its row of the kinds table

    def __post_init__(self) -> None:
        if self.meaning.name != self.kind:
            raise ValueError(f"classification of kind {self.kind!r} carries the meaning of {self.meaning.name!r}")


def load_rules(rules_dir: Path, extra: tuple[Path, ...] = ()) -> RuleSet:
    """The shipped rules, then the user's files; a user rule with a shipped rule's name replaces it.

    The kinds table comes first (`rules/kinds.toml`, then every file's `[kind.NAME]` changes), so that a
    rule without a severity gets its kind's final one."""
    if not rules_dir.is_dir():
        raise DataError(f"the rules folder {rules_dir} does not exist; reinstall triage, or point TRIAGE_DATA_DIR "
                        f"at a folder holding rules/ and templates/")
    kinds_path = rules_dir / KINDS_FILE
    kinds = parse_kinds(_read(kinds_path), f"rules file {kinds_path}")
    shipped = [p for p in sorted(rules_dir.glob("*.toml")) if p != kinds_path]
    classifying = 0
    files = []
    for path in (*shipped, *extra):
        data = _read(path)
        if path in shipped and not set(data) & _FILE_KEYS:
            continue
        classifying += path in shipped
        unknown = sorted(set(data) - _FILE_KEYS)
        if unknown:
            raise RulesError(f"rules file {path}: unknown top-level key {unknown[0]!r} "
                             f"(known: {', '.join(sorted(_FILE_KEYS))})")
        if "kind" in data:
            kinds = override_kinds(kinds, data["kind"], f"rules file {path}")
        files.append((path, data))
    by_name: dict[str, Rule] = {}
    disabled: set[str] = set()
    domains: list[str] = []
    lists: dict[str, list[str]] = {k: [] for k in _LEXICON_LISTS}
    patterns: dict[str, list[re.Pattern[str]]] = {k: [] for k in _LEXICON_PATTERNS}
    for path, data in files:
        domains.extend(_strings(data, "aws_domains", str(path), lower=True))
        _lexicon(data.get("lexicon", {}), str(path), lists, patterns)
        entries = data.get("rule", [])
        if not isinstance(entries, list):
            raise RulesError(f"rules file {path}: `rule` must be an array of tables ([[rule]])")
        for i, entry in enumerate(entries):
            where = f"{path} rule #{i + 1}"
            if isinstance(entry, dict) and entry.get("enabled") is False and isinstance(entry.get("name"), str):
                disabled.add(entry["name"])
                by_name.pop(entry["name"], None)
                continue
            rule = _rule(entry, where, str(path), kinds)
            disabled.discard(rule.name)
            by_name[rule.name] = rule
    if not classifying:
        raise DataError(f"the rules folder {rules_dir} holds no rules file (*.toml with [[rule]], [lexicon] or "
                        f"aws_domains); without rules every mail would be judged `other`")
    lexicon = Lexicon(
        brands=_uniq(lists["brands"]), glue_words=_uniq(lists["glue_words"]),
        freemail_domains=_uniq(lists["freemail_domains"]),
        dangerous_extensions=_uniq(lists["dangerous_extensions"]),
        document_extensions=_uniq(lists["document_extensions"]), sns_senders=_uniq(lists["sns_senders"]),
        sns_default_names=_uniq(lists["sns_default_names"]), newsletter_headers=_uniq(lists["newsletter_headers"]),
        claim_names=tuple(patterns["claim_names"]), claim_text=tuple(patterns["claim_text"]),
        claim_html=tuple(patterns["claim_html"]), account_threats=tuple(patterns["account_threats"]),
        sns_footer=tuple(patterns["sns_footer"]), forward_markers=tuple(patterns["forward_markers"]),
        callback_phone=tuple(patterns["callback_phone"]), callback_amount=tuple(patterns["callback_amount"]),
        callback_words=tuple(patterns["callback_words"]), device_auth_pages=tuple(patterns["device_auth_pages"]),
        device_codes=tuple(patterns["device_codes"]), account_teaching_kinds=_uniq(lists["account_teaching_kinds"]),
    )
    bad = [k for k in lexicon.account_teaching_kinds if k not in kinds]
    if bad:
        raise RulesError(f"[lexicon] account_teaching_kinds: {bad[0]!r} is not one of {', '.join(kinds)}")
    return RuleSet(rules=tuple(by_name.values()), aws_domains=tuple(dict.fromkeys(domains)), kinds=kinds,
                   lexicon=lexicon)


def classify(
    mail: Mail,
    authenticity: Authenticity,
    rules: RuleSet,
    *,
    owner_account_ids: tuple[str, ...] = (),
    known_accounts: Mapping[str, str] | None = None,
    statement_alert_usd: float = 100.0,
    jpy_per_usd: float = 150.0,
) -> Classification:
    """`owner_account_ids` are the owner's accounts ([aws] account_ids, else the known ones); `known_accounts`
    says where each learned one came from, for the evidence."""
    entities = find_entities(mail.subject, mail.text, sent=mail.date)
    signals = compute_signals(mail, authenticity, entities, rules.lexicon, rules.aws_domains,
                              owner_account_ids=owner_account_ids, known_accounts=known_accounts,
                              statement_alert_usd=statement_alert_usd, jpy_per_usd=jpy_per_usd)
    fields = _fields(mail, signals)
    from_aws = rules.is_aws_address(mail.sender.address)
    matched = [r for r in rules.rules if _matches(r, fields, from_aws, signals, authenticity)]
    names = tuple(sorted(signals.names, key=list(SIGNALS).index))
    topic_account = signals.sns_topic.split(":")[4] if signals.sns_topic.count(":") >= 5 else ""
    if not matched:
        other = rules.kinds[FALLBACK]
        return Classification(other.name, other.severity, "no-rule", other.text, entities, (), names,
                              signals.evidence, topic_account, meaning=other)
    order = {id(r): i for i, r in enumerate(matched)}
    best = max(matched, key=lambda r: (r.priority, rank(r.severity), -order[id(r)]))
    ranked = sorted(matched, key=lambda r: (-r.priority, -rank(r.severity), order[id(r)]))
    return Classification(best.kind, best.severity, best.name, best.text, entities,
                          tuple(r.name for r in ranked), names, signals.evidence, topic_account,
                          meaning=rules.kinds[best.kind])


def _fields(mail: Mail, signals: Signals) -> dict[str, str]:
    """The text each pattern field is matched against, NFKC-normalised."""
    raw = {
        "sender": f"{mail.sender.name} <{mail.sender.address}>",
        "sender_name": mail.sender.name,
        "sender_address": mail.sender.address,
        "subject": mail.subject,
        "body": signals.content,
        "content": f"{mail.subject}\n{signals.content}",
        "reply_to": "\n".join(a.address for a in mail.reply_to),
        "attachment": "\n".join(a.filename for a in mail.attachments),
        "header": "\n".join(f"{k}: {v}" for k, v in mail.headers),
        "link": "\n".join(mail.links),
    }
    return {k: unicodedata.normalize("NFKC", v) for k, v in raw.items()}


def _matches(rule: Rule, fields: dict[str, str], from_aws: bool, signals: Signals, auth: Authenticity) -> bool:
    if rule.from_aws is not None and rule.from_aws != from_aws:
        return False
    if rule.authenticity and auth.verdict not in rule.authenticity:
        return False
    if not rule.signals <= signals.names or rule.not_signals & signals.names:
        return False
    if rule.any_signals and not rule.any_signals & signals.names:
        return False
    if not all(any(p.search(fields[name]) for p in pats) for name, pats in rule.patterns.items()):
        return False
    return not any(any(p.search(fields[name]) for p in pats) for name, pats in rule.exclude.items())


# --- loading and validation -------------------------------------------------------------------


def _uniq(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RulesError(f"rules file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"rules file {path} is not valid TOML: {exc}") from None


def _strings(data: dict[str, Any], key: str, where: str, *, lower: bool = False) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RulesError(f"{where}: {key} must be a list of non-empty strings")
    return [v.lower() if lower else v for v in value]


def _compile(items: list[str], where: str) -> list[re.Pattern[str]]:
    out = []
    for p in items:
        try:
            out.append(re.compile(p, re.I | re.M))
        except re.error as exc:
            raise RulesError(f"{where}: bad pattern {p!r}: {exc}") from None
    return out


def _lexicon(table: object, where: str, lists: dict[str, list[str]],
             patterns: dict[str, list[re.Pattern[str]]]) -> None:
    if not isinstance(table, dict):
        raise RulesError(f"{where}: [lexicon] must be a table")
    for key in table:
        if key in _LEXICON_LISTS:
            lists[key].extend(_strings(table, key, f"{where} [lexicon]", lower=True))
        elif key in _LEXICON_PATTERNS:
            patterns[key].extend(_compile(_strings(table, key, f"{where} [lexicon]"), f"{where} [lexicon] {key}"))
        else:
            known = ", ".join(sorted(_LEXICON_LISTS | _LEXICON_PATTERNS))
            raise RulesError(f"{where}: [lexicon] has unknown key {key!r} (known: {known})")


def _rule(entry: object, where: str, source: str, kinds: Kinds) -> Rule:
    if not isinstance(entry, dict):
        raise RulesError(f"{where} must be a table")
    name, kind = entry.get("name"), entry.get("kind")
    if not isinstance(name, str) or not name:
        raise RulesError(f"{where} needs a name")
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - _RULE_KEYS)
    if unknown:
        raise RulesError(f"{where} has unknown key {unknown[0]!r}")
    if not isinstance(kind, str) or kind not in kinds:
        raise RulesError(f"{where}: kind {kind!r} is not one of {', '.join(kinds)}")
    severity = entry.get("severity", kinds[kind].severity)
    if severity not in SEVERITIES:
        raise RulesError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    text = entry.get("text", kinds[kind].text)
    if not isinstance(text, str) or not TEXT_KEY.fullmatch(text):
        raise RulesError(f"{where}: text must be a key like \"compromised-account\" (lower-case, digits, -)")
    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    exclude: dict[str, tuple[re.Pattern[str], ...]] = {}
    for key in (*PATTERN_FIELDS, *(f"not_{f}" for f in PATTERN_FIELDS)):
        if key not in entry:
            continue
        raw = entry[key]
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items or not all(isinstance(p, str) for p in items):
            raise RulesError(f"{where}: {key} must be a pattern or a list of patterns")
        compiled = tuple(_compile(items, f"{where} {key}"))
        if key.startswith("not_"):
            exclude[key[4:]] = compiled
        else:
            patterns[key] = compiled
    sets = {}
    for key in ("signals", "any_signals", "not_signals"):
        values = _strings(entry, key, where)
        bad = [v for v in values if v not in SIGNALS]
        if bad:
            raise RulesError(f"{where}: unknown signal {bad[0]!r} in {key} (known: {', '.join(SIGNALS)})")
        sets[key] = frozenset(values)
    verdicts = _strings(entry, "authenticity", where)
    if any(v not in VERDICTS for v in verdicts):
        raise RulesError(f"{where}: authenticity must list verdicts from {', '.join(VERDICTS)}")
    from_aws = entry.get("from_aws")
    if from_aws is not None and not isinstance(from_aws, bool):
        raise RulesError(f"{where}: from_aws must be true or false")
    priority = entry.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise RulesError(f"{where}: priority must be a whole number")
    if not (patterns or sets["signals"] or sets["any_signals"] or verdicts or from_aws is not None):
        raise RulesError(f"{where} has no condition: it would match every mail")
    return Rule(name=name, kind=str(kind), severity=str(severity), text=text, from_aws=from_aws,
                patterns=patterns, exclude=exclude, signals=sets["signals"], any_signals=sets["any_signals"],
                not_signals=sets["not_signals"], authenticity=frozenset(verdicts), priority=priority,
                source=source)
