"""`triage explain FILE`: everything triage concluded about one mail, and why.

It calls the same function as a scan (triage.judging), with the same configuration, so what it shows is
what a scan would decide: for a forward from an allowed forwarder, the original(s) it carries and
how they were unwrapped. It never sends, translates or looks at the AWS account.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from triage.authenticate import Authenticity, DnsFunc
from triage.classify import Classification, Rule, RuleSet
from triage.config import Config
from triage.errors import SourceError
from triage.forward import Forward
from triage.judging import judge, load_judging
from triage.known_accounts import describe
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
    how = load_judging(rules_dir, config.rules.extra, config.mail, config.billing,
                       forwarders=config.notify.allowed_forwarders, account_ids=config.aws.account_ids,
                       offline=offline, dnsfunc=dnsfunc)
    judged = judge(mail, how, known)
    return [Explanation(path, item.mail, item.authenticity, item.classification, how.rules, item.forward,
                        judged.refused, how.account_ids, known) for item in judged.mails]
