"""The stages of a scan, for one mail and one case: parse, authenticate and classify a mail; group the mails
into cases; check the account, translate, render, deliver and record each case (triage.pipeline runs them).

Every stage is a plain call on plain records. The stages that touch the network (check account,
translate, send) come in as `Services` in the `Context`. Nothing is lost: a mail is recorded as handled
only after its case was delivered (or needed no summary). No summary is sent twice: a summary is named by
its case and the set of mails it covers, and a sent one is recorded.

No single mail stops a scan: every stage runs per mail (per case for the stages after grouping) under
one guard. An unexpected error is logged with the mail's place and a one-line cause, counted, reported as
skipped and recorded as handled-with-error, so the checkpoint moves on and later scans do not meet it
again (`--all` retries it). A mail that looks like AWS mail by its raw sender or subject still raises an
alarm: a short summary saying it could not be read and where to look.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from triage.answer import REPLY_CHANNEL, deliveries, pending_replies
from triage.cases import Case, ClassifiedMail, EarlierMail, group_cases
from triage.context import Context, Reporter, ScanTotals
from triage.errors import NotifyError, NotifyLoginError, TriageError
from triage.judging import classified, judge
from triage.known_accounts import MAIL, STS, accounts_taught, taught_by
from triage.mail import RawMail, for_later_stages
from triage.outcomes import CaseOutcome, Skipped
from triage.output import message_record
from triage.parse import MalformedMail, parse_mail
from triage.render import Summary, render_summary, render_unreadable
from triage.severity import at_least
from triage.sources.narrowing import Headers
from triage.state import FailedMail, SeenMessage, State
from triage.unreadable import UnreadableMail, peek
from triage.utc import utc_z

if TYPE_CHECKING:  # the account check's records come with the AWS libraries: loaded once a check ran
    from triage.account.recheck import AccountsProgress, Progress
    from triage.account.remediation import RemediationRules
    from triage.account.report import CheckResult
    from triage.sources import Batch

log = logging.getLogger(__name__)


def handle_mails(ctx: Context, state: State, reporter: Reporter, totals: ScanTotals,
                 items: list[ClassifiedMail]) -> bool:
    """Report the mails read, group them into cases and handle each case (check, translate, render,
    deliver, record). False when a delivery failed: the checkpoints must not move then."""
    items = _reconsider(ctx, state, items)
    for item in items:
        if item.kind != "other" or ctx.options.all_mail:
            totals.reported += 1
            reporter.message(item, message_record(item))

    delivered_all = True
    for case in _grouped(ctx, state, reporter, totals, items):
        reported = case.kind != "other" or ctx.options.all_mail
        totals.cases += reported
        try:
            outcome = _handle_case(ctx, case, state, totals)
        except NotifyError as exc:
            # Not recorded: the next scan meets these mails again and retries the delivery.
            _delivery_failed(case.case_id, exc, totals)
            delivered_all = False
            continue
        except TriageError:
            raise
        except Exception as exc:  # a bug in one case's account check or rendering must not end the scan
            delivered_all &= _case_failed(ctx, state, reporter, totals, case, exc)
            continue
        totals.sent += outcome.delivery == "sent"
        totals.printed += outcome.delivery == "printed"
        _record(state, case)
        if reported:
            reporter.case(outcome)
    return delivered_all


def read_batch(ctx: Context, batch: Batch, state: State, reporter: Reporter,
               totals: ScanTotals) -> list[ClassifiedMail]:
    out = []
    for where, reason in batch.unreadable:
        totals.skipped += 1
        log.warning("skipped %s: %s", where, reason)
        reporter.skipped(Skipped(where, reason))
    for raw in batch.mails:
        if not ctx.options.all_mail and state.has_failed(raw.content_hash):
            totals.already_seen += 1  # handled with an error before; --all tries it again
            continue
        try:
            items = _read_mail(ctx, raw, state, totals)
        except TriageError:
            raise
        except Exception as exc:  # whatever one mail does to parse, authenticate or classify: skip it
            log.debug("%s could not be handled", raw.origin, exc_info=True)
            _mail_failed(ctx, state, reporter, totals, peek(raw, _cause(exc)))
            continue
        for item in items:
            out.append(item)
            _learn_accounts(ctx, state, item)
    return out


def _read_mail(ctx: Context, raw: RawMail, state: State, totals: ScanTotals) -> list[ClassifiedMail]:
    """One mail parsed, authenticated and classified (or the originals it forwards); none when seen before.
    Its message line is reported after all batches, once the accounts the scan learned are known."""
    mail = parse_mail(raw, max_bytes=ctx.judging.max_bytes)
    totals.read += 1
    if mail.defects:
        totals.defective += 1
        log.warning("mail %s (%s) has defects, read as well as possible: %s",
                    raw.origin, mail.message_id[:100] or "no Message-ID", "; ".join(mail.defects)[:500])
    if not ctx.options.all_mail and state.is_seen(mail.key):
        totals.already_seen += 1
        return []
    return [ClassifiedMail(for_later_stages(i.mail), i.authenticity, i.classification, i.forward)
            for i in judge(mail, ctx.judging, state.known_accounts()).mails]


def _cause(exc: BaseException) -> str:
    """The one-line cause of a failure: the message of a malformed mail, else the exception and its text."""
    text = " ".join(str(exc).split())[:300]
    return text if isinstance(exc, MalformedMail) else f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _mail_failed(ctx: Context, state: State, reporter: Reporter, totals: ScanTotals,
                 mail: UnreadableMail) -> bool:
    """Log, count, report and record a mail that could not be handled; raise the alarm when it looks like
    AWS mail. False when the alarm could not be delivered (the mail then stays unrecorded, for a retry)."""
    totals.skipped += 1
    log.warning("skipped %s: %s", mail.where, mail.reason)
    alarm, delivery = None, ""
    if ctx.narrowing.wanted(Headers(sender=mail.sender, subject=mail.subject, message_id=mail.message_id)):
        alarm = render_unreadable(mail, ctx.texts)
        delivery = _deliver_alarm(ctx, state, totals, alarm)
    if delivery != "failed":
        state.record_failure(FailedMail(mail.content_hash, mail.key, mail.where, mail.reason))
    reporter.skipped(Skipped(mail.where, mail.reason, alarm, delivery))
    return delivery != "failed"


def _deliver_alarm(ctx: Context, state: State, totals: ScanTotals, alarm: Summary) -> str:
    totals.alarms += 1
    if not _sending(ctx):
        totals.printed += 1
        return "printed"
    if state.summary_sent(alarm.case_id, alarm.digest):
        return "sent"
    try:
        _send(ctx, state, totals, alarm)
    except NotifyError as exc:
        _delivery_failed(alarm.case_id, exc, totals)
        return "failed"
    totals.sent += 1
    return "sent"


def _delivery_failed(case_id: str, exc: NotifyError, totals: ScanTotals) -> None:
    if isinstance(exc, NotifyLoginError):
        if not totals.delivery_stopped:
            log.error("%s; no more summaries are sent in this run", exc)
            totals.delivery_stopped = str(exc)
            totals.errors.append(str(exc))
        return
    log.error("case %s: %s", case_id, exc)
    totals.errors.append(str(exc))


def _case_failed(ctx: Context, state: State, reporter: Reporter, totals: ScanTotals, case: Case,
                 exc: Exception) -> bool:
    """A case whose later stages failed: each of its mails is handled as a mail that could not be read."""
    log.debug("case %s could not be handled", case.case_id, exc_info=True)
    cause = f"while handling case {case.case_id}: {_cause(exc)}"
    delivered = True
    for item in case.mails:
        m = item.mail
        delivered &= _mail_failed(ctx, state, reporter, totals, UnreadableMail(
            where=str(m.origin), reason=cause, content_hash=m.content_hash, sender=str(m.sender),
            subject=m.subject, date=m.date, message_id=m.message_id))
    return delivered


def _grouped(ctx: Context, state: State, reporter: Reporter, totals: ScanTotals,
             items: list[ClassifiedMail]) -> list[Case]:
    """The cases of `items`; should grouping fail on one mail, the others still form their cases."""
    try:
        return group_cases(items, ctx.rules.kinds, _earlier(state, items))
    except TriageError:
        raise
    except Exception:
        log.exception("grouping the mails into cases failed; each mail is grouped on its own")
    cases = []
    for item in items:
        try:
            cases.extend(group_cases([item], ctx.rules.kinds, _earlier(state, [item])))
        except Exception as exc:  # this mail alone breaks grouping: skip it, keep the rest
            alone = Case(item.case_id, item.kind, item.severity, (item,), meaning=ctx.rules.kinds[item.kind])
            _case_failed(ctx, state, reporter, totals, alone, exc)
    return cases


def _learn_accounts(ctx: Context, state: State, item: ClassifiedMail) -> None:
    for account in accounts_taught(item, ctx.rules.lexicon.account_teaching_kinds):
        state.remember_account(account, MAIL, taught_by(item))


def _reconsider(ctx: Context, state: State, items: list[ClassifiedMail]) -> list[ClassifiedMail]:
    """Mail from an SNS topic of an account learned later in the same scan (the statement came after the
    alert) is classified again, so the order of the mailbox does not decide whose topic it is."""
    if ctx.judging.account_ids:
        return items
    known = state.known_accounts()
    ids = {k.account_id for k in known}
    return [classified(i.mail, i.authenticity, i.forward, ctx.judging, known) if _foreign_topic_now_known(i, ids)
            else i for i in items]


def _foreign_topic_now_known(item: ClassifiedMail, known: set[str]) -> bool:
    return "sns-foreign-topic" in item.classification.signals and item.classification.topic_account in known


def _earlier(state: State, items: list[ClassifiedMail]) -> dict[str, tuple[EarlierMail, ...]]:
    earlier: dict[str, tuple[EarlierMail, ...]] = {}
    for case_id in {i.case_id for i in items}:
        seen = state.case_messages(case_id)
        if seen:
            earlier[case_id] = tuple(EarlierMail(s.key, s.kind, s.severity, s.record) for s in seen)
    return earlier


def needs_summary(case: Case, min_severity: str) -> bool:
    return case.kind == "phishing" or at_least(case.severity, min_severity)


def _sending(ctx: Context) -> bool:
    return not (ctx.options.no_send or ctx.options.offline) and ctx.services.send is not None


def _send(ctx: Context, state: State, totals: ScanTotals, summary: Summary) -> None:
    """Send and record a summary. After a refused SMTP login nothing more is tried in this run."""
    if totals.delivery_stopped:
        raise NotifyLoginError(totals.delivery_stopped)
    assert ctx.services.send is not None
    ctx.services.send(summary)
    state.record_summary(summary.case_id, summary.digest, subject=summary.subject, text=summary.text)


def _handle_case(ctx: Context, case: Case, state: State, totals: ScanTotals) -> CaseOutcome:
    opts = ctx.options
    sending = _sending(ctx)
    owner_due = needs_summary(case, ctx.min_severity)
    reason = f"below notify.min_severity ({ctx.min_severity})"
    if owner_due and sending and state.summary_sent(case.case_id, case.digest):
        owner_due, reason = False, "this summary was sent before"
    # Whoever forwarded a mail of the case asked about it: answered once each, whatever the severity.
    replies = pending_replies(case, lambda digest: sending and state.summary_sent(case.case_id, digest,
                                                                                  REPLY_CHANNEL))
    if not owner_due and not replies:
        return CaseOutcome(case, "skipped", reason=reason)
    if sending and totals.delivery_stopped:
        raise NotifyLoginError(totals.delivery_stopped)  # before the account check: it cannot be sent

    account = None
    if case.meaning.check_account and not (opts.no_aws or opts.offline) and ctx.services.check_account:
        account = ctx.services.check_account(case)
        from triage.account.report import AccountReport  # the check ran: the AWS libraries are loaded

        if isinstance(account, AccountReport):  # the check's credentials are the owner's account
            state.remember_account(account.account_id, STS, account.caller_arn)
    progress = remember_check(state, case.case_id, account, ctx.remediation)
    translation = None
    if not (opts.no_translate or opts.offline) and ctx.services.translate:
        translation = ctx.services.translate(case)

    summary = render_summary(
        case, ctx.texts, account=account, translation=translation, options=_stage_notes(ctx),
        jpy_per_usd=ctx.jpy_per_usd, remediation=ctx.remediation, progress=progress, with_html=sending,
    )
    out = deliveries(summary, replies, owner=ctx.owner, owner_due=owner_due, texts=ctx.texts)
    if not sending:
        return CaseOutcome(case, "printed", out[0].summary)
    assert ctx.services.send is not None
    for delivery in out:
        ctx.services.send(delivery.summary)
        for channel, digest in delivery.records:
            state.record_summary(case.case_id, digest, channel, subject=delivery.summary.subject,
                                 text=delivery.summary.text)
    return CaseOutcome(case, "sent", out[0].summary)


def remember_check(state: State, case_id: str, account: CheckResult | None,
                   rules: RemediationRules) -> Progress | AccountsProgress | None:
    """Compare a completed check with the case's last one, and keep it for the next. None without a check.
    A check of several accounts is compared, and kept, account by account."""
    if account is None:
        return None
    from triage.account.recheck import compare, compare_accounts, snapshot, snapshot_accounts
    from triage.account.report import AccountReport, AccountsReport  # only once a check ran (AWS libraries)

    if isinstance(account, AccountsReport):
        before = state.last_check(case_id)
        many = compare_accounts(case_id, before, account, rules)
        record = snapshot_accounts(account, rules, before)
        if record["checked_at"]:  # nothing reached: the last record stays the one to compare with
            state.record_check(case_id, record["checked_at"], ",".join(record["accounts"]), record)
        return many
    if not isinstance(account, AccountReport):
        return None
    progress = compare(case_id, state.last_check(case_id), account, rules)
    state.record_check(case_id, utc_z(account.checked_at) or "", account.account_id, snapshot(account, rules))
    return progress


def _stage_notes(ctx: Context) -> dict[str, bool]:
    """Which stages this run skipped, so the summary can say what it did not look at."""
    o = ctx.options
    return {
        "aws_skipped": o.no_aws or o.offline or ctx.services.check_account is None,
        "translation_skipped": o.no_translate or o.offline or ctx.services.translate is None,
    }


def _record(state: State, case: Case) -> None:
    with state.transaction():  # one commit for the case, not two a mail
        _record_case(state, case)


def _record_case(state: State, case: Case) -> None:
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
    for item in case.forwarded:
        # The forward itself is seen too, under a case of its own name, so that it never changes the
        # digest of the case it forwarded (which would send the summary again).
        assert item.forward is not None
        state.record_message(SeenMessage(key=item.forward.key, content_hash=item.forward.content_hash,
                                         case_id=f"forward:{case.case_id}", date=None, kind=item.kind,
                                         severity=item.severity, record=message_record(item)))
    state.record_case(case.case_id, case.kind, case.severity)
