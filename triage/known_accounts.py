"""The owner's AWS accounts, learned instead of demanded.

An SNS topic speaks with AWS's From address but the topic owner's words; triage trusts a topic only when
its account is the owner's. The owner need not list them: triage remembers the account of the account
check's credentials (sts:GetCallerIdentity), and the accounts named in authenticated AWS mail of the kinds
AWS sends an account's own contacts (`[lexicon] account_teaching_kinds`: statements, Budgets, Health…).
`[aws] account_ids`, when set, is the whole list and nothing learned is used.

This module decides what a mail teaches; it never reads or writes the state itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from triage.cases import ClassifiedMail
from triage.stored import KnownAccount

STS = "sts"
MAIL = "mail"


def accounts_taught(item: ClassifiedMail, teaching_kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The accounts a mail proves to be the owner's: only authenticated mail from AWS itself (not an SNS
    topic), of a kind AWS sends about the account to its own contacts."""
    if item.authenticity.verdict != "pass" or "aws-genuine" not in item.classification.signals:
        return ()
    if item.kind not in teaching_kinds:
        return ()
    return item.classification.entities.account_ids


def taught_by(item: ClassifiedMail) -> str:
    """One line naming the mail that taught an account."""
    date = item.mail.date.date().isoformat() if item.mail.date else "undated"
    return f"{item.kind} mail from {item.mail.sender.address}, {date}: {item.mail.subject}"[:200]


def describe(known: KnownAccount) -> str:
    """Where a known account came from, in one line."""
    if known.source == STS:
        return f"the account check's credentials ({known.detail}), since {known.first_seen[:10]}"
    return f"learned from {known.detail}"


def owner_accounts(configured: tuple[str, ...],
                   known: Iterable[KnownAccount]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The owner's accounts for classification, and where each learned one came from. `[aws] account_ids`
    wins: when it is set, it is the list."""
    if configured:
        return configured, {}
    sources: dict[str, str] = {}
    for k in known:
        sources.setdefault(k.account_id, describe(k))
    return tuple(sources), sources
