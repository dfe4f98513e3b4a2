"""Authenticate and classify one mail: the one function a scan and `triage explain` both call, so what
explain shows is what a scan decides.

A forward from an allowed forwarder is unwrapped first: each original it carries is judged on its own (an
attached original by its own signature, an inline one cannot be verified). The owner's accounts are
`[aws] account_ids`, else the ones the state has learned (triage.known_accounts). Pure: the caller reads
the known accounts and hands them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from triage.authenticate import Authenticity, DnsFunc, authenticate, provider_hosts
from triage.cases import ClassifiedMail
from triage.classify import RuleSet, classify, load_rules
from triage.forward import Forward, ForwardFormats, load_formats, unwrap
from triage.known_accounts import owner_accounts
from triage.mail import Mail
from triage.mail_providers import load_providers

if TYPE_CHECKING:
    from triage.config import BillingSettings, MailSettings
    from triage.stored import KnownAccount


@dataclass(frozen=True)
class Judging:
    """What judging a mail takes: the rules, and the settings they are applied with."""

    rules: RuleSet
    forwards: ForwardFormats
    forwarders: tuple[str, ...]  # [notify] forwarders: whose forwards are unwrapped
    trusted_authserv_ids: tuple[str, ...]  # [mail]: whose Authentication-Results are believed
    max_bytes: int  # [mail]
    account_ids: tuple[str, ...]  # [aws] account_ids: the owner's, when configured
    statement_alert_usd: float  # [billing]
    jpy_per_usd: float  # [billing]
    offline: bool = False  # no DNS look-up for DKIM
    dnsfunc: DnsFunc | None = None  # tests: DKIM keys from a local table
    inside_hosts: tuple[str, ...] = ()  # the trusted ids' providers' other domains (rules/mail-providers.toml)

    def authenticate(self, mail: Mail) -> Authenticity:
        return authenticate(mail, trusted_authserv_ids=self.trusted_authserv_ids, offline=self.offline,
                            dnsfunc=self.dnsfunc, aws_domains=self.rules.aws_domains, inside_hosts=self.inside_hosts)


@dataclass(frozen=True)
class Judged:
    """A mail judged: itself, or the originals it forwards; and why its forward did not count ("": it did,
    or it forwards nothing)."""

    mails: tuple[ClassifiedMail, ...]
    refused: str = ""


def load_judging(rules_dir: Path, extra_rules: tuple[Path, ...], mail: MailSettings, billing: BillingSettings, *,
                 forwarders: tuple[str, ...], account_ids: tuple[str, ...], offline: bool,
                 dnsfunc: DnsFunc | None = None) -> Judging:
    return Judging(load_rules(rules_dir, extra_rules), load_formats(rules_dir), forwarders, mail.trusted_authserv_ids,
                   mail.max_bytes, account_ids, billing.statement_alert_usd, billing.jpy_per_usd, offline, dnsfunc,
                   provider_hosts(mail.trusted_authserv_ids, load_providers(rules_dir)))


def judge(mail: Mail, how: Judging, known: Iterable[KnownAccount]) -> Judged:
    """The mail, or the originals it forwards, each authenticated and classified."""
    unwrapped = unwrap(mail, how.forwards, how.forwarders, how.authenticate, trusted=how.trusted_authserv_ids,
                       inside_hosts=how.inside_hosts, max_bytes=how.max_bytes)
    known = tuple(known)
    return Judged(tuple(classified(original, unwrapped.authenticity(original, forward, how.authenticate), forward,
                                   how, known) for original, forward in unwrapped.mails), unwrapped.refused)


def classified(mail: Mail, auth: Authenticity, forward: Forward | None, how: Judging,
               known: Iterable[KnownAccount]) -> ClassifiedMail:
    """An authenticated mail classified (again, once the scan has learned more of the owner's accounts)."""
    owners, sources = owner_accounts(how.account_ids, known)
    return ClassifiedMail(mail, auth, classify(
        mail, auth, how.rules, owner_account_ids=owners, known_accounts=sources,
        statement_alert_usd=how.statement_alert_usd, jpy_per_usd=how.jpy_per_usd,
    ), forward)
