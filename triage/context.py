"""What one scan runs with: its options, the network-facing services, its totals, where it reports, and the
`Context` the stages read their rules, texts and settings from (its `ScanData`).

Light on purpose: a scan with nothing new imports this and the driver (triage.pipeline), never the stages.
The rules, texts and remediation a `Context` holds are loaded the first time a stage asks for them and
kept for the scan; `load_context` loads them at once (the daemon, which must refuse a broken reload
before it lets the old context go), `lazy_context` when the first mail comes (the CLI, which has checked
the data set whole before: triage.dataset).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from triage.config import Config
from triage.errors import SourceError

if TYPE_CHECKING:
    from triage.account.remediation import RemediationRules
    from triage.account.report import CheckResult
    from triage.cases import Case, ClassifiedMail
    from triage.classify import RuleSet
    from triage.judging import Judging
    from triage.outcomes import CaseOutcome, Skipped
    from triage.render import Summary, Texts
    from triage.sources.narrowing import Narrowing
    from triage.translate.records import Translation

# Each returns None when it has nothing to add; each may raise TriageError for a fault the user must fix.
AccountCheck = Callable[["Case"], "CheckResult | None"]
Translate = Callable[["Case"], "Translation | None"]
Send = Callable[["Summary"], None]


@dataclass(frozen=True)
class ScanOptions:
    all_mail: bool = False  # --all: handle mail seen before, and report `other` mail too
    no_aws: bool = False
    no_translate: bool = False
    no_send: bool = False
    offline: bool = False  # no network at all: implies the three above, and no DNS for DKIM


@dataclass(frozen=True)
class Services:
    check_account: AccountCheck | None = None
    translate: Translate | None = None
    send: Send | None = None


@dataclass
class ScanTotals:
    read: int = 0  # mails parsed
    reported: int = 0  # message lines
    skipped: int = 0  # malformed or unreadable
    already_seen: int = 0
    defective: int = 0  # read despite MIME or charset defects
    cases: int = 0
    sent: int = 0
    printed: int = 0
    errors: list[str] = field(default_factory=list)  # deliveries that failed (retried on the next scan)
    interrupted: SourceError | None = None  # the source failed part-way; what was read before is kept
    alarms: int = 0  # AWS-looking mails that could not be read, told to the owner
    delivery_stopped: str = ""  # the SMTP login was refused: nothing more is sent in this run


class Reporter(Protocol):
    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None: ...
    def skipped(self, item: Skipped) -> None: ...
    def case(self, outcome: CaseOutcome) -> None: ...
    def progress(self, done: int, total: int | None) -> None: ...


@dataclass(frozen=True)
class ScanData:
    """The data the stages read: the rules, texts, remediation and narrowing, each loaded the first time it
    is asked for and then kept. Contexts made from one another (`dataclasses.replace`, as the daemon does
    for each pass) share it, so nothing is loaded or compiled twice."""

    config: Config = field(repr=False)
    rules_dir: Path
    templates_dir: Path
    offline: bool  # no DNS look-up for DKIM

    @cached_property
    def judging(self) -> Judging:
        """Authenticate and classify: the rules and the settings they are applied with."""
        from triage.judging import load_judging

        c = self.config
        return load_judging(self.rules_dir, c.rules.extra, c.mail, c.billing, forwarders=c.notify.allowed_forwarders,
                            account_ids=c.aws.account_ids, offline=self.offline)

    @cached_property
    def texts(self) -> Texts:
        from triage.render import load_texts

        return load_texts(self.templates_dir)

    @cached_property
    def remediation(self) -> RemediationRules:
        from triage.account.remediation import load_remediation_rules

        return load_remediation_rules(self.rules_dir)

    @cached_property
    def narrowing(self) -> Narrowing:
        """Could a mail be about AWS, by its sender and subject: for mail that could not be read."""
        from triage.relevance import load_narrowing

        return load_narrowing(self.rules_dir)


@dataclass(frozen=True)
class Context:
    """What the stages need for one scan: the values each stage uses, taken from the config here and
    nowhere else."""

    data: ScanData
    options: ScanOptions
    services: Services

    @property
    def judging(self) -> Judging:
        return self.data.judging

    @property
    def texts(self) -> Texts:
        return self.data.texts

    @property
    def remediation(self) -> RemediationRules:
        return self.data.remediation

    @property
    def narrowing(self) -> Narrowing:
        return self.data.narrowing

    @property
    def rules(self) -> RuleSet:
        return self.data.judging.rules

    @property
    def min_severity(self) -> str:
        """[notify]: the least severe case the owner is told of."""
        return self.data.config.notify.min_severity

    @property
    def owner(self) -> tuple[str, ...]:
        """[notify] to."""
        return self.data.config.notify.to

    @property
    def jpy_per_usd(self) -> float:
        """[billing]: for the summary's yen."""
        return self.data.config.billing.jpy_per_usd


def lazy_context(config: Config, rules_dir: Path, templates_dir: Path, options: ScanOptions,
                 services: Services) -> Context:
    """A context whose data is loaded when a stage first needs it: for a run that checked the data set."""
    return Context(ScanData(config, rules_dir, templates_dir, options.offline), options, services)


def load_context(config: Config, rules_dir: Path, templates_dir: Path, options: ScanOptions,
                 services: Services) -> Context:
    """A context with its data loaded now: a broken rule or text raises here, not at the first mail."""
    ctx = lazy_context(config, rules_dir, templates_dir, options, services)
    _ = ctx.judging, ctx.texts, ctx.remediation, ctx.narrowing  # each loaded now, and kept in ctx.data
    return ctx
