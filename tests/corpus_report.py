"""Per-kind precision and recall of the classifier on the team's labelled corpus.

Run: `python -m tests.corpus_report` (from the checkout). It uses the same offline judgement as
`triage scan --offline` and the settings in tests/corpus/labels.toml; it prints a table, and the list of
mails whose verdict differs from the label.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from triage.authenticate import authenticate
from triage.classify import Classification, RuleSet, classify, load_rules
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS
from triage.mail import Origin, RawMail
from triage.parse import parse_mail

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
RULES = ROOT / "rules"


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


def judge(name: str, rules: RuleSet, settings: dict[str, object]) -> tuple[str, Classification]:
    path = CORPUS / name
    mail = parse_mail(RawMail(path.read_bytes(), Origin("eml", str(path))))
    auth = authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True,
                        aws_domains=rules.aws_domains)
    account_ids = settings["account_ids"]
    assert isinstance(account_ids, list)
    result = classify(mail, auth, rules, owner_account_ids=tuple(str(a) for a in account_ids),
                      statement_alert_usd=float(str(settings["statement_alert_usd"])),
                      jpy_per_usd=float(str(settings["jpy_per_usd"])))
    return auth.verdict, result


def verdicts() -> list[Verdict]:
    settings, labels = load_labels()
    rules = load_rules(RULES)
    out = []
    for name, label in sorted(labels.items()):
        auth, result = judge(name, rules, settings)
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
    results = verdicts()
    print(table(results))
    wrong = [v for v in results if (v.kind, v.severity, v.authenticity)
             != (v.label["kind"], v.label["severity"], v.label["authenticity"])]
    for v in wrong:
        print(f"  {v.name}: got {v.kind}/{v.severity}/{v.authenticity} by {v.classification.rule}, "
              f"labelled {v.label['kind']}/{v.label['severity']}/{v.label['authenticity']}")


if __name__ == "__main__":
    main()
