"""Per-kind precision and recall of the classifier on the team's labelled corpus.

Run: `python -m tests.corpus_report` (from the checkout). It uses the same offline judgement as
`triage scan --offline` and the settings in tests/corpus/labels.toml; it prints a table, and the list of
mails whose verdict differs from the label. `--no-account-ids` judges with `[aws] account_ids` unset: the
owner's accounts are then the ones a scan of the whole corpus learns (triage.known_accounts).
"""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from triage.authenticate import authenticate, provider_hosts
from triage.cases import ClassifiedMail
from triage.classify import Classification, RuleSet, classify, load_rules
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS
from triage.known_accounts import MAIL, accounts_taught, owner_accounts, taught_by
from triage.mail import Origin, RawMail
from triage.mail_providers import load_providers
from triage.parse import parse_mail
from triage.state import KnownAccount

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
RULES = ROOT / "rules"
INSIDE = provider_hosts(DEFAULT_TRUSTED_AUTHSERV_IDS, load_providers(RULES))  # as a scan computes them


@dataclass(frozen=True)
class Verdict:
    name: str
    label: dict[str, str]
    kind: str
    severity: str
    authenticity: str
    classification: Classification


def load_labels() -> tuple[dict[str, object], dict[str, dict[str, str]]]:
    data = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))
    settings = data.pop("settings")
    return settings, data


def judge(name: str, rules: RuleSet, settings: dict[str, object],
          known: tuple[KnownAccount, ...] = ()) -> tuple[str, Classification]:
    """One mail's verdict with the labels' settings; `known`: accounts learned, used when the settings'
    account_ids is empty (as a scan uses them)."""
    item = _judged(name, rules, settings, known)
    return item.authenticity.verdict, item.classification


def _judged(name: str, rules: RuleSet, settings: dict[str, object],
            known: tuple[KnownAccount, ...] = ()) -> ClassifiedMail:
    path = CORPUS / name
    mail = parse_mail(RawMail(path.read_bytes(), Origin("eml", str(path))))
    auth = authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True,
                        aws_domains=rules.aws_domains, inside_hosts=INSIDE)
    account_ids = settings["account_ids"]
    assert isinstance(account_ids, list)
    owners, sources = owner_accounts(tuple(str(a) for a in account_ids), known)
    result = classify(mail, auth, rules, owner_account_ids=owners, known_accounts=sources,
                      statement_alert_usd=float(str(settings["statement_alert_usd"])),
                      jpy_per_usd=float(str(settings["jpy_per_usd"])))
    return ClassifiedMail(mail, auth, result)


def without_account_ids(settings: dict[str, object]) -> dict[str, object]:
    return {**settings, "account_ids": []}


def learned(rules: RuleSet, settings: dict[str, object], names: list[str]) -> tuple[KnownAccount, ...]:
    """The accounts a scan of these mails learns (what the state knows after it)."""
    found: dict[str, KnownAccount] = {}
    for name in names:
        item = _judged(name, rules, settings)
        for account in accounts_taught(item, rules.lexicon.account_teaching_kinds):
            found.setdefault(account, KnownAccount(account, MAIL, taught_by(item), "", ""))
    return tuple(found.values())


def verdicts(*, account_ids: bool = True) -> list[Verdict]:
    """Every mail's verdict; `account_ids=False`: with [aws] account_ids unset, the owner's accounts
    learned from the corpus instead."""
    settings, labels = load_labels()
    if not account_ids:
        settings = without_account_ids(settings)
    rules = load_rules(RULES)
    known = learned(rules, settings, sorted(labels)) if not account_ids else ()
    out = []
    for name, label in sorted(labels.items()):
        auth, result = judge(name, rules, settings, known)
        out.append(Verdict(name, label, result.kind, result.severity, auth, result))
    return out


def table(results: list[Verdict]) -> str:
    expected = Counter(v.label["kind"] for v in results)
    found = Counter(v.kind for v in results)
    right = Counter(v.kind for v in results if v.kind == v.label["kind"])
    lines = ["| kind | mails | found | correct | precision | recall |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind in load_rules(RULES).kinds:
        p = f"{right[kind] / found[kind]:.0%}" if found[kind] else "-"
        r = f"{right[kind] / expected[kind]:.0%}" if expected[kind] else "-"
        lines.append(f"| {kind} | {expected[kind]} | {found[kind]} | {right[kind]} | {p} | {r} |")
    total = len(results)
    exact = sum(v.kind == v.label["kind"] and v.severity == v.label["severity"]
                and v.authenticity == v.label["authenticity"] for v in results)
    lines.append(f"\n{total} mails; kind right for {sum(right.values())}, "
                 f"kind + severity + authenticity right for {exact}.")
    return "\n".join(lines)


def main() -> None:
    results = verdicts(account_ids="--no-account-ids" not in sys.argv[1:])
    print(table(results))
    wrong = [v for v in results if (v.kind, v.severity, v.authenticity)
             != (v.label["kind"], v.label["severity"], v.label["authenticity"])]
    for v in wrong:
        print(f"  {v.name}: got {v.kind}/{v.severity}/{v.authenticity} by {v.classification.rule}, "
              f"labelled {v.label['kind']}/{v.label['severity']}/{v.label['authenticity']}")


if __name__ == "__main__":
    main()
