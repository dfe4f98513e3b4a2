"""`triage explain FILE`: everything triage concluded about one mail, and why.

It runs the same unwrap, authenticate and classify calls as a scan, with the same configuration, so what it
shows is what a scan would decide: for a forward from an allowed forwarder, the original(s) it carries and
how they were unwrapped. It never sends, translates or looks at the AWS account.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from triage.authenticate import Authenticity, DnsFunc, authenticate
from triage.classify import Classification, Rule, RuleSet, classify, load_rules
from triage.config import Config
from triage.errors import SourceError
from triage.forward import Forward, load_formats, unwrap
from triage.known_accounts import describe, owner_accounts
from triage.mail import Mail, Origin, RawMail
from triage.parse import MalformedMail, parse_mail
from triage.stored import KnownAccount


@dataclass(frozen=True)
class Explanation:
    path: Path
    mail: Mail
    authenticity: Authenticity
    classification: Classification
    rules: RuleSet | None = field(default=None, repr=False)
    forward: Forward | None = None  # the mail was forwarded to triage: by whom and how it was unwrapped
    refused: str = ""  # the file forwards mail, but its forward does not count: why
    configured_accounts: tuple[str, ...] = ()  # [aws] account_ids
    known_accounts: tuple[KnownAccount, ...] = ()  # learned, from the state

    @property
    def owner_accounts(self) -> tuple[tuple[str, str], ...]:
        """Each account treated as the owner's, with where it came from ([aws] account_ids wins)."""
        if self.configured_accounts:
            return tuple((a, "[aws] account_ids") for a in self.configured_accounts)
        return tuple((k.account_id, describe(k)) for k in self.known_accounts)

    @property
    def entities(self) -> dict[str, tuple[object, ...]]:
        found = self.classification.entities
        return {f.name.replace("_", " "): getattr(found, f.name) for f in fields(found)}

    @property
    def matched_rules(self) -> tuple[Rule, ...]:
        """Every rule that matched, the chosen one first."""
        if self.rules is None:
            return ()
        by_name = {r.name: r for r in self.rules.rules}
        return tuple(by_name[n] for n in self.classification.matched if n in by_name)


def explain_file(path: Path, config: Config, *, rules_dir: Path, offline: bool,
                 dnsfunc: DnsFunc | None = None, known: tuple[KnownAccount, ...] = ()) -> list[Explanation]:
    """One explanation for the mail, or one for each original it forwards.

    `known`: the accounts the state has learned (triage.known_accounts), used as a scan would."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    try:
        mail = parse_mail(RawMail(data, Origin("eml", str(path))), max_bytes=config.mail.max_bytes)
    except MalformedMail as exc:
        raise SourceError(f"{path} is not a readable mail: {exc}") from None
    rules = load_rules(rules_dir, config.rules.extra)

    def judge(m: Mail) -> Authenticity:
        return authenticate(m, trusted_authserv_ids=config.mail.trusted_authserv_ids, offline=offline,
                            dnsfunc=dnsfunc, aws_domains=rules.aws_domains)

    owners, sources = owner_accounts(config.aws.account_ids, known)
    unwrapped = unwrap(mail, load_formats(rules_dir), config.notify.allowed_forwarders, judge,
                       trusted=config.mail.trusted_authserv_ids, max_bytes=config.mail.max_bytes)
    out = []
    for original, forward in unwrapped.mails:
        auth = unwrapped.authenticity(original, forward, judge)
        classification = classify(original, auth, rules, owner_account_ids=owners, known_accounts=sources,
                                  statement_alert_usd=config.billing.statement_alert_usd,
                                  jpy_per_usd=config.billing.jpy_per_usd)
        out.append(Explanation(path, original, auth, classification, rules, forward, unwrapped.refused,
                               config.aws.account_ids, known))
    return out
