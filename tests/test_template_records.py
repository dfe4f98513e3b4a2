"""Every template in templates/ renders with full records and with empty ones: the templates and the
records they read (the account check's result, the translation, the re-check's progress, a sent summary,
an unreadable mail) cannot drift apart unnoticed.

The templates run under StrictUndefined (triage.templating), so a template that reads a field a record
does not have, or that prints a value a record may leave out (None, an empty tuple) without asking, fails
here. Each render goes through the function triage itself calls; the templates it reaches are recorded,
and each template of the folder must be reached both with the full records and with the empty ones: a
new template is checked as soon as it is added.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.account_fixture import load_report
from tests.translate_helpers import case_of, fixture
from triage import paths
from triage.account.cost import hourly_burn, load_prices
from triage.account.recheck import Progress, compare, snapshot
from triage.account.records import Contact, Gap
from triage.account.region_names import load_region_names
from triage.account.remediation import left, load_remediation_rules
from triage.account.report import AccountNotChecked, AccountReport, AccountsReport, CheckResult
from triage.cases import Case
from triage.render import Texts, load_texts, render_progress, render_reminder, render_summary, render_unreadable
from triage.status import CaseStatus, StatusReport
from triage.stored import CaseRow, OutboxItem, PassRow, SentSummary
from triage.terminal import TerminalText
from triage.translate.records import MAIL_STATUSES, Line, MailTranslation, Translation
from triage.unreadable import UnreadableMail

ROOT = Path(__file__).parent.parent
TEMPLATES = ROOT / "templates"
RULES = load_remediation_rules(paths.rules_dir())
GOLDEN_ACCOUNT = ROOT / "tests" / "golden" / "compromise-re-case-action-required+attacked.account.json"
WHEN = datetime(2026, 3, 5, 6, 10, tzinfo=UTC)
EVERY_TEMPLATE = sorted(p.name for p in TEMPLATES.glob("*.j2"))


# --- the records, full and empty ------------------------------------------------------------------


def full_report() -> AccountReport:
    """A completed check that found something of everything: resources in several regions and in IAM,
    gaps, regions not swept, the root user, the contact, the month's cost and forecast."""
    report = load_report(GOLDEN_ACCOUNT)
    return dataclasses.replace(report, contact=Contact("Taro Yamada", "Example KK", "+81-3-0000-0000", "JP"),
                               gaps=(*report.gaps, Gap("global", "iam", "access-denied", "AccessDenied",
                                                       "iam:ListUsers")))


def empty_report() -> AccountReport:
    """A completed check that saw nothing at all, and knows nothing it could leave out."""
    rules = paths.rules_dir()
    return AccountReport(account_id="123456789012", caller_arn="", checked_at=WHEN, incident_start=None,
                         window_start=WHEN, home_regions=(), plan=None, resources=(), gaps=(), root=None, contact=None,
                         cost=None, forecast_usd=None, burn=hourly_burn((), load_prices(rules)), unswept_spend={},
                         prices_source="", jpy_per_usd=150.0, region_names=load_region_names(rules), seconds=0.0)


def full_translation() -> Translation:
    paragraphs = ((Line("アクセスキーが公開されていました。", True), Line("Kept in English.", False)),
                  (Line("[リンク]", True),))
    return Translation(mails=tuple(MailTranslation("Your AWS account", WHEN, status, paragraphs, truncated=True,
                                                   rejected=1) for status in MAIL_STATUSES),
                       problem="quota", billed_characters=1234)


def full_progress(report: AccountReport) -> Progress:
    """Something removed, something left, something new, and a gap: the resources of the check before
    and of this one overlap."""
    first, last = left(report, RULES)[0], left(report, RULES)[-1]
    before = dataclasses.replace(report, resources=tuple(r for r in report.resources if r is not first))
    now = dataclasses.replace(report, resources=tuple(r for r in report.resources if r is not last))
    progress = compare("case-1", snapshot(before, RULES), now, RULES)
    assert progress.removed and progress.left and progress.new and progress.gaps, "the progress is not full"
    return progress


def empty_progress(report: AccountReport) -> Progress:
    return compare("case-1", snapshot(report, RULES), report, RULES)


def sent(text: str, subject: str) -> SentSummary:
    return SentSummary("case-1", "compromised-account", "critical", subject, text, WHEN, WHEN, None)


def unreadable(full: bool) -> UnreadableMail:
    if full:
        return UnreadableMail("imap:INBOX #12", "MalformedMail: no body", "ab" * 32, "AWS <no-reply-aws@amazon.com>",
                              "Your AWS account is compromised", WHEN, "<x@amazon.com>")
    return UnreadableMail("", "", "0" * 64, "", "", None, "")


# --- rendering, and the templates each render reached --------------------------------------------------


class Recording:
    """A loader that remembers the name of every template it loads (the includes and imports too)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.loaded = inner, set[str]()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get_source(self, environment: Any, template: str) -> Any:
        self.loaded.add(template)
        return self.inner.get_source(environment, template)

    def load(self, environment: Any, name: str, globals: Any = None) -> Any:
        self.loaded.add(name)
        return self.inner.load(environment, name, globals)


def recorded_texts() -> tuple[Texts, Recording]:
    texts = load_texts(TEMPLATES)
    recording = Recording(texts.env.loader)
    texts.env.loader = recording
    return texts, recording


def compromise_case() -> Case:
    return case_of(fixture("01-compromised-account.eml"))


Render = Callable[[Texts], object]


def summaries(case: Case, accounts: tuple[CheckResult | None, ...], translations: tuple[Translation | None, ...],
              progresses: tuple[Progress | None, ...]) -> Iterator[Render]:
    for account in accounts:
        for translation in translations:
            for progress in progresses:
                for skipped in (False, True):
                    yield lambda texts, a=account, t=translation, p=progress, s=skipped: render_summary(
                        case, texts, account=a, translation=t, progress=p, remediation=RULES, jpy_per_usd=150.0,
                        options={"aws_skipped": s, "translation_skipped": s})


def full_renders() -> list[Render]:
    report, case = full_report(), compromise_case()
    many = AccountsReport(reports=(report, dataclasses.replace(empty_report(), account_id="210987654321"),
                                   AccountNotChecked("AccessDenied", account_id="333333333333",
                                                     missing_credentials=True, reached="123456789012",
                                                     via="organization")),
                          management_account="123456789012", organization_gap="AccessDenied")
    return [
        *summaries(case, (report, many), (full_translation(),), (full_progress(report),)),
        lambda texts: render_progress(full_progress(report), texts),
        lambda texts: render_reminder(sent("本文です。\n2 行目です。", "【緊急】AWS アカウント"), texts),
        lambda texts: render_unreadable(unreadable(True), texts),
        *terminal_renders(full=True),
    ]


def empty_renders() -> list[Render]:
    report, case = empty_report(), compromise_case()
    return [
        *summaries(case, (None, AccountNotChecked(""), report, AccountsReport(reports=())),
                   (None, Translation(mails=())), (None, empty_progress(report))),
        lambda texts: render_progress(empty_progress(report), texts),
        lambda texts: render_reminder(sent("", ""), texts),
        lambda texts: render_unreadable(unreadable(False), texts),
        *terminal_renders(full=False),
    ]


def terminal(texts: Texts) -> TerminalText:
    """The terminal's texts (triage.terminal), loading their templates through the recording loader."""
    text = TerminalText(TEMPLATES)
    text.env.loader = texts.env.loader
    return text


def scan_text(texts: Texts, full: bool) -> str:
    """`triage scan`'s terminal text: with a table row, a printed case, one that needed no summary and a
    printed alarm; or with an alarm only (nothing about AWS at all is told without a template)."""
    from triage.outcomes import CaseOutcome, Skipped
    from triage.pipeline import ScanTotals

    case = compromise_case()
    summary = render_summary(case, texts, account=None, translation=None, jpy_per_usd=150.0,
                             options={"aws_skipped": True, "translation_skipped": True})
    alarm = Skipped("INBOX uid 7", "unreadable", alarm=render_unreadable(unreadable(full), texts),
                    delivery="printed" if full else "sent")
    if not full:
        return terminal(texts).scan([], [], [alarm], ScanTotals())
    rows = [("2026-03-05 15:10", "critical", "compromised-account", "pass", "no-reply-aws@amazon.com", "件名")]
    outcomes = [CaseOutcome(case, "printed", summary), CaseOutcome(case, "skipped", reason="below the minimum")]
    return terminal(texts).scan(rows, outcomes, [alarm], ScanTotals(read=3, reported=1, skipped=1, cases=2))


def explained(texts: Texts, name: str) -> str:
    from triage.config import Config
    from triage.explain import explain_file

    path = ROOT / "tests" / "corpus" / name
    explanations = explain_file(path, Config(), rules_dir=paths.rules_dir(), offline=True)
    return "\n\n".join(terminal(texts).explanation(e) for e in explanations)


def status_report(full: bool) -> StatusReport:
    """`triage status` beside a running daemon: a case reminded and one acknowledged, a summary that failed
    once and a reminder not tried yet, two folders' passes; or a fresh state with nothing in it."""
    if not full:
        return StatusReport(None, (), (), ())
    row = CaseRow("17100200301", "compromised-account", "critical", WHEN, WHEN, 1, 2, WHEN, False)
    cases = (CaseStatus(row, WHEN), CaseStatus(dataclasses.replace(row, case_id="mail-0123456789ab",
                                                                   acknowledged=True, first_mail_at=None), None))
    outbox = (OutboxItem("17100200301", "d1", "summary", {}, WHEN, 2, "the SMTP server refused"),
              OutboxItem("17100200301", "d2", "reminder", {}, WHEN, 0, ""))
    passes = (PassRow("imap://taro@imap.example.jp:993/INBOX", WHEN, "ok"),
              PassRow("imap://taro@imap.example.jp:993/Junk", WHEN, "lost the IMAP connection"))
    return StatusReport(4242, cases, outbox, passes)


def terminal_renders(full: bool) -> list[Render]:
    report = full_report() if full else empty_report()
    many = [(report, False), (empty_report(), True), (AccountNotChecked("AccessDenied"), None)] if full else []
    mail = "phish-punycode-homoglyph-domain.eml" if full else "case-resolved.eml"
    return [
        lambda texts: scan_text(texts, full),
        lambda texts: terminal(texts).account(report, complete=not full),
        lambda texts: terminal(texts).accounts("123456789012", many),
        lambda texts: explained(texts, mail),
        lambda texts: terminal(texts).status(status_report(full)),
    ]


def reached(renders: list[Render]) -> set[str]:
    loaded: set[str] = set()
    for render in renders:
        texts, recording = recorded_texts()
        render(texts)
        loaded |= recording.loaded
    return loaded


@pytest.mark.parametrize("records", [full_renders, empty_renders], ids=["full", "empty"])
def test_every_template_renders_with_the_records(records):
    missing = sorted(set(EVERY_TEMPLATE) - reached(records()))
    assert missing == [], f"not rendered with the {records.__name__}: {missing}"


def test_a_field_a_record_lacks_fails_the_render(tmp_path):
    """The check above is only as good as StrictUndefined: a template reading a field the record does not
    have must fail, not print nothing."""
    import jinja2

    for p in TEMPLATES.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    account = (tmp_path / "_account.txt.j2").read_text(encoding="utf-8")
    (tmp_path / "_account.txt.j2").write_text(account.replace("{% if security %}",
                                                              "{{ account.no_such_field }}{% if security %}", 1),
                                              encoding="utf-8")
    texts = load_texts(tmp_path)
    with pytest.raises(jinja2.UndefinedError):
        render_summary(compromise_case(), texts, account=full_report(), translation=None, remediation=RULES,
                       options={"aws_skipped": False, "translation_skipped": False}, jpy_per_usd=150.0)
