"""One scan: source → parse → authenticate → classify → cases → check account → translate → render → notify.

Every stage is a plain call on plain records. The stages that touch the network (check account,
translate, send) come in as `Services`, built from the config by `services_from_config` or handed in by
tests pointed at local servers. Output goes to a `Reporter`; this module never prints.

Nothing is lost: a mail is recorded as handled only after its case was delivered (or needed no summary),
and a mailbox's checkpoint moves only past mail that was recorded. No summary is sent twice: a summary is
named by its case and the set of mails it covers, and a sent one is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from triage.authenticate import authenticate
from triage.cases import Case, ClassifiedMail, EarlierMail, group_cases
from triage.classify import RuleSet, classify, load_rules
from triage.config import Config
from triage.errors import NotifyError, SourceError, TriageError
from triage.mail import Mail
from triage.output import message_record
from triage.parse import MalformedMail, parse_mail
from triage.render import Summary, Texts, load_texts, render_summary
from triage.severity import at_least
from triage.sources import Batch, Source
from triage.state import Mailbox, SeenMessage, State

log = logging.getLogger(__name__)

# Each returns None when it has nothing to add; each may raise TriageError for a fault the user must fix.
AccountCheck = Callable[[Case], object | None]
Translate = Callable[[Case], object | None]
Send = Callable[[Summary], None]


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


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    delivery: str  # sent | printed | skipped
    summary: Summary | None = None
    reason: str = ""  # why skipped


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
    interrupted: str = ""  # the source failed part-way; what was read before is handled and kept


class Reporter(Protocol):
    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None: ...
    def skipped(self, where: str, reason: str) -> None: ...
    def case(self, outcome: CaseOutcome) -> None: ...
    def progress(self, done: int) -> None: ...


@dataclass(frozen=True)
class Context:
    """What the stages need from the config, loaded once per scan."""

    config: Config
    rules: RuleSet
    texts: Texts
    options: ScanOptions
    services: Services


def load_context(config: Config, rules_dir: Path, templates_dir: Path, options: ScanOptions,
                 services: Services) -> Context:
    return Context(config, load_rules(rules_dir, config.rules.extra), load_texts(templates_dir), options, services)


def scan(ctx: Context, source: Source, state: State, reporter: Reporter) -> ScanTotals:
    totals = ScanTotals()
    items: list[ClassifiedMail] = []
    checkpoints = []
    interrupted: SourceError | None = None
    try:
        for batch in source.batches(state, rescan=ctx.options.all_mail):
            items.extend(_read_batch(ctx, batch, state, reporter, totals))
            if batch.checkpoint is not None:
                checkpoints.append(batch.checkpoint)
    except SourceError as exc:
        if not items and not checkpoints:
            raise
        interrupted = exc  # what was read before the source failed is still handled and kept

    delivered_all = True
    for case in group_cases(items, ctx.rules.kinds, _earlier(state, items)):
        reported = case.kind != "other" or ctx.options.all_mail
        totals.cases += reported
        try:
            outcome = _handle_case(ctx, case, state)
        except NotifyError as exc:
            # Not recorded: the next scan meets these mails again and retries the delivery.
            log.error("case %s: %s", case.case_id, exc)
            totals.errors.append(str(exc))
            delivered_all = False
            continue
        totals.sent += outcome.delivery == "sent"
        totals.printed += outcome.delivery == "printed"
        _record(state, case)
        if reported:
            reporter.case(outcome)

    if delivered_all:
        for checkpoint in checkpoints:
            state.set_mailbox(checkpoint.mailbox, Mailbox(checkpoint.uidvalidity, checkpoint.last_uid))
    if interrupted is not None:
        totals.interrupted = str(interrupted)
    return totals


def _read_batch(ctx: Context, batch: Batch, state: State, reporter: Reporter,
                totals: ScanTotals) -> list[ClassifiedMail]:
    out = []
    for where, reason in batch.unreadable:
        totals.skipped += 1
        log.warning("skipped %s: %s", where, reason)
        reporter.skipped(where, reason)
    for raw in batch.mails:
        try:
            mail = parse_mail(raw, max_bytes=ctx.config.mail.max_bytes)
        except MalformedMail as exc:
            totals.skipped += 1
            log.warning("skipped malformed mail %s: %s", raw.origin, exc)
            reporter.skipped(str(raw.origin), str(exc))
            continue
        except Exception:  # a decoder bug on one mail must not hold back the mail after it
            totals.skipped += 1
            log.exception("skipped %s: could not read it", raw.origin)
            reporter.skipped(str(raw.origin), "internal error while reading it; see the log")
            continue
        totals.read += 1
        reporter.progress(totals.read)
        if mail.defects:
            totals.defective += 1
            log.warning("mail %s (%s) has defects, read as well as possible: %s",
                        raw.origin, mail.message_id or "no Message-ID", "; ".join(mail.defects))
        if not ctx.options.all_mail and state.is_seen(mail.key):
            totals.already_seen += 1
            continue
        try:
            item = _classify(ctx, mail)
        except TriageError:
            raise
        except Exception:  # a bug in one mail's handling must not end the scan for the others
            totals.skipped += 1
            log.exception("skipped %s (%s): could not classify it", raw.origin, mail.message_id or "no Message-ID")
            reporter.skipped(str(raw.origin), "internal error while classifying; see the log")
            continue
        out.append(item)
        if item.kind != "other" or ctx.options.all_mail:
            totals.reported += 1
            reporter.message(item, message_record(item))
    return out


def _classify(ctx: Context, mail: Mail) -> ClassifiedMail:
    auth = authenticate(mail, trusted_authserv_ids=ctx.config.mail.trusted_authserv_ids, offline=ctx.options.offline,
                        aws_domains=ctx.rules.aws_domains)
    return ClassifiedMail(mail, auth, classify(
        mail, auth, ctx.rules, owner_account_ids=ctx.config.aws.account_ids,
        statement_alert_usd=ctx.config.billing.statement_alert_usd, jpy_per_usd=ctx.config.billing.jpy_per_usd,
    ))


def _earlier(state: State, items: list[ClassifiedMail]) -> dict[str, tuple[EarlierMail, ...]]:
    earlier: dict[str, tuple[EarlierMail, ...]] = {}
    for case_id in {i.case_id for i in items}:
        seen = state.case_messages(case_id)
        if seen:
            earlier[case_id] = tuple(EarlierMail(s.key, s.kind, s.severity, s.record) for s in seen)
    return earlier


def needs_summary(case: Case, min_severity: str) -> bool:
    return case.kind == "phishing" or at_least(case.severity, min_severity)


def _handle_case(ctx: Context, case: Case, state: State) -> CaseOutcome:
    opts = ctx.options
    if not needs_summary(case, ctx.config.notify.min_severity):
        return CaseOutcome(case, "skipped", reason=f"below notify.min_severity ({ctx.config.notify.min_severity})")
    sending = not (opts.no_send or opts.offline) and ctx.services.send is not None
    if sending and state.summary_sent(case.case_id, case.digest):
        return CaseOutcome(case, "skipped", reason="this summary was sent before")

    account = None
    if case.meaning.check_account and not (opts.no_aws or opts.offline) and ctx.services.check_account:
        account = ctx.services.check_account(case)
    translation = None
    if not (opts.no_translate or opts.offline) and ctx.services.translate:
        translation = ctx.services.translate(case)

    summary = render_summary(
        case, ctx.texts, account=account, translation=translation, options=_stage_notes(ctx), config=ctx.config
    )
    if not sending:
        return CaseOutcome(case, "printed", summary)
    assert ctx.services.send is not None
    ctx.services.send(summary)
    state.record_summary(case.case_id, case.digest, subject=summary.subject, text=summary.text)
    return CaseOutcome(case, "sent", summary)


def _stage_notes(ctx: Context) -> dict[str, bool]:
    """Which stages this run skipped, so the summary can say what it did not look at."""
    o = ctx.options
    return {
        "aws_skipped": o.no_aws or o.offline or ctx.services.check_account is None,
        "translation_skipped": o.no_translate or o.offline or ctx.services.translate is None,
    }


def _record(state: State, case: Case) -> None:
    for item in case.mails:
        record = message_record(item)
        state.record_message(SeenMessage(
            key=item.mail.key,
            content_hash=item.mail.content_hash,
            case_id=case.case_id,
            date=item.mail.date.isoformat() if item.mail.date else None,
            kind=item.kind,
            severity=item.severity,
            record=record,
        ))
    state.record_case(case.case_id, case.kind, case.severity)
