"""A case → the owner's Japanese summary (text and HTML) and an English reply draft for AWS support.

Every sentence a reader sees lives in `templates/` (jinja2 templates and `texts.toml`); this module only
loads them and supplies the facts. No link is copied from a mail: the templates build console links.
Every value a template prints passes `triage.inert` (the environment's `finalize`), unless it is a text
of texts.toml or a part triage already rendered: no template can forget it, and in the HTML only the
links triage built become links.
"""

from __future__ import annotations

import html
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.cases import Case
from triage.errors import DataError, RulesError
from triage.inert import Trusted, one_line
from triage.stored import SentSummary
from triage.unreadable import UnreadableMail
from triage.utc import JST

if TYPE_CHECKING:
    import jinja2

    from triage.account.recheck import AccountsProgress, Progress
    from triage.account.remediation import Plan, RemediationRules
    from triage.account.report import CheckResult
    from triage.translate.records import Translation

@dataclass(frozen=True)
class KindText:
    title: str
    what: str
    steps: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Formats:
    """How dates and money are written, from texts.toml's [formats]: the templates' jst/usd/yen filters."""

    weekdays: str
    morning: str
    afternoon: str
    date: str
    unknown_date: str
    usd_amount: str
    yen_amount: str
    yen_man: str
    yen_oku: str

    def jst(self, value: datetime | None) -> str:
        """2026年3月5日（木）午後3時10分（日本時間）: AWS writes UTC, the reader lives in Japan time."""
        try:
            t = value.astimezone(JST) if value is not None else None
        except (OverflowError, ValueError):  # a date at the edge of what datetime holds (year 9999)
            t = None
        if t is None:
            return self.unknown_date
        return self.date.format(year=t.year, month=t.month, day=t.day, weekday=self.weekdays[t.weekday()],
                                half=self.morning if t.hour < 12 else self.afternoon, hour=t.hour % 12,
                                minute=t.minute)

    def usd(self, value: float) -> str:
        return self.usd_amount.format(amount=f"{value:,.2f}" if value < 100 else f"{round(value):,}")

    def yen(self, usd_amount: float, jpy_per_usd: float) -> str:
        """約1,890万円 / 約4,500円: large sums in 万 and 億, as Japanese readers count them."""
        amount = usd_amount * jpy_per_usd
        if amount >= 100_000_000:
            return self.yen_oku.format(amount=f"{amount / 100_000_000:,.1f}")
        if amount >= 100_000:
            return self.yen_man.format(amount=f"{round(amount / 10_000):,}")
        return self.yen_amount.format(amount=f"{round(amount):,}")


@dataclass(frozen=True)
class Texts:
    kinds: dict[str, KindText]
    labels: dict[str, dict[str, str]]
    links: dict[str, str]
    templates_dir: Path
    formats: Formats = field(repr=False)
    inventory_csv: dict[str, Any] = field(default_factory=dict)  # texts.toml [inventory_csv]

    @cached_property
    def env(self) -> jinja2.Environment:
        """The templates, compiled on first use and kept for the process (a scan with no case needs none,
        and so does not import jinja2)."""
        from triage.templating import environment

        f = self.formats
        return environment(self.templates_dir, {"jst": f.jst, "yen": f.yen, "usd": f.usd})

    def kind(self, key: str, fallback: str) -> KindText:
        return self.kinds.get(key) or self.kinds[fallback]


@dataclass(frozen=True)
class Attachment:
    filename: str
    maintype: str
    subtype: str
    data: bytes


@dataclass(frozen=True)
class Summary:
    case_id: str
    digest: str
    kind: str
    severity: str
    subject: str
    text: str
    html: str  # "" for a summary printed instead of sent (render_summary with_html=False)
    reply: str  # English draft for the support case; "" when none is needed
    attachments: tuple[Attachment, ...] = ()  # sent after the text and HTML parts (the inventory CSV)
    # Addressing (triage.answer): who gets it ((): [notify] to) and the forward it answers ("": none).
    recipients: tuple[str, ...] = ()
    in_reply_to: str = ""
    tag: str = ""  # tells apart the deliveries of one summary (one reply per forwarder)

    @property
    def message_id(self) -> str:
        """The same summary always gets the same Message-ID, so a mail client can drop a repeat."""
        tag = f".{self.tag}" if self.tag else ""
        return f"<triage.{self.case_id}.{self.digest}{tag}@triage.invalid>"


# Every template this module renders by name (the summary, the reminder, the unreadable-mail alarm); what
# they include is found from them. tests/test_missing_data.py checks that no get_template name is left out.
ENTRY_TEMPLATES = ("subject.txt.j2", "reply.txt.j2", "reply_meaning.txt.j2", "summary.txt.j2", "summary.html.j2",
                   "_account_words.j2", "_progress.txt.j2", "reminder_subject.txt.j2", "reminder.txt.j2",
                   "unreadable_subject.txt.j2", "unreadable.txt.j2")


def load_texts(templates_dir: Path) -> Texts:
    if not templates_dir.is_dir():
        raise DataError(f"the templates folder {templates_dir} does not exist; reinstall triage, or point "
                        f"TRIAGE_DATA_DIR at a folder holding rules/ and templates/")
    path = templates_dir / "texts.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"cannot read the Japanese texts {path}: {exc}") from None
    kinds = {}
    for key, entry in data.get("kind", {}).items():
        try:
            kinds[key] = KindText(title=Trusted(entry["title"]), what=Trusted(entry["what"]),
                                  steps=tuple(Trusted(s) for s in entry.get("steps", ())),
                                  note=Trusted(entry.get("note", "")))
        except (KeyError, TypeError) as exc:
            raise RulesError(f"{path}: [kind.{key}] needs title and what ({exc})") from None
    if "other" not in kinds:
        raise RulesError(f"{path}: [kind.other] is missing; it is the fallback for every kind")
    try:
        f = data["formats"]
        formats = Formats(weekdays=f["weekdays"], morning=f["morning"], afternoon=f["afternoon"], date=f["date"],
                          unknown_date=f["unknown_date"], usd_amount=f["usd"], yen_amount=f["yen"],
                          yen_man=f["yen_man"], yen_oku=f["yen_oku"])
    except (KeyError, TypeError) as exc:
        raise RulesError(f"{path}: [formats] needs weekdays, morning, afternoon, date, unknown_date, usd, yen, "
                         f"yen_man and yen_oku ({exc})") from None
    return Texts(kinds=kinds, labels=_trusted(data.get("labels", {})), links=_trusted(data.get("links", {})),
                 templates_dir=templates_dir, formats=formats, inventory_csv=data.get("inventory_csv", {}))


def _trusted(table: dict[str, Any]) -> dict[str, Any]:
    """texts.toml's strings marked as triage's own, at any depth."""
    return {k: _trusted(v) if isinstance(v, dict) else Trusted(v) if isinstance(v, str) else v
            for k, v in table.items()}


def _markup(html_text: str) -> Any:
    """HTML that the template must not escape again (markupsafe comes with jinja2, imported with it)."""
    import markupsafe

    return markupsafe.Markup(html_text)


# `{% include "x" %}`, `{% import "x" as y %}`, `{% from "x" import y %}`, `{% extends "x" %}`.
_REFERENCE = re.compile(r"""{%-?\s*(?:include|import|from|extends)\s+["']([^"']+)["']""")


def check_templates(templates_dir: Path, entries: tuple[str, ...] = ENTRY_TEMPLATES) -> frozenset[str]:
    """Every entry template and everything it includes or imports is there: a missing one is an error when
    a command starts, not in the middle of a scan with a compromise case in hand. `entries`: the templates
    to start from (the summaries', or the terminal's: triage.terminal.TEMPLATES). The references are
    followed in the text, so the check costs a few file reads and does not load jinja2 (a scan with no
    case to summarise needs no template); a syntax error shows when the templates are compiled. Returns
    the names found: the templates rendered from `entries`, in their own environment."""
    pending, checked = list(entries), set()
    while pending:
        name = pending.pop()
        if name in checked:
            continue
        checked.add(name)
        try:
            source = (templates_dir / name).read_text(encoding="utf-8")
        except OSError:
            raise DataError(f"the template {templates_dir / name} is missing; reinstall triage") from None
        pending.extend(_REFERENCE.findall(source))
    return frozenset(checked)


def render_summary(
    case: Case,
    texts: Texts,
    *,
    account: CheckResult | None,
    translation: Translation | None,
    options: dict[str, bool],
    jpy_per_usd: float,
    remediation: RemediationRules | None = None,
    progress: Progress | AccountsProgress | None = None,
    with_html: bool = True,
) -> Summary:
    """The case's summary. `with_html`: False for a summary that is printed, not sent (its HTML part is
    read by no one, and building it costs a third of rendering); its `html` is then ""."""
    # The texts of the mail that gave the case its kind (a rule may name texts more precise than the kind's).
    deciding = [m for m in case.mails if m.kind == case.kind]
    kind = case.meaning  # what the kind implies: rules/kinds.toml
    text_key = deciding[-1].classification.text if deciding else kind.text
    context: dict[str, Any] = {
        "case": case,
        "kind_text": texts.kind(text_key, kind.text if kind.text in texts.kinds else "other"),
        "security": kind.security,
        # A reply goes to an AWS support case: only when AWS itself wrote (not a scanner, not a phish).
        "reply_needed": kind.reply and any("aws-genuine" in m.classification.signals for m in case.mails),
        "labels": texts.labels,
        "links": texts.links,
        "account": account,
        "translation": translation,
        "stages": options,
        "jpy_per_usd": jpy_per_usd,
        "account_ids": _account_ids(case),
        "regions": _regions(case),
        "plan": _plan(case, kind.security, account, remediation),
        "progress": progress if progress is not None and not progress.first else None,
    }
    subject = texts.env.get_template("subject.txt.j2").render(context).strip()
    reply = texts.env.get_template("reply.txt.j2").render(context).strip()
    meaning = texts.env.get_template("reply_meaning.txt.j2").render(context).strip()
    context.update(subject=Trusted(subject), reply=Trusted(reply),
                   reply_meaning=Trusted(re.sub(r"\n{2,}", "\n", meaning)))
    text = texts.env.get_template("summary.txt.j2").render(context)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    html = ""
    if with_html:
        context["body"] = _markup(text_to_html(text))
        context["intro"], context["sections"] = html_sections(text, reply)
        html = texts.env.get_template("summary.html.j2").render(context)
    return Summary(
        case_id=case.case_id,
        digest=case.digest,
        kind=case.kind,
        severity=case.severity,
        subject=subject,
        text=text,
        html=html,
        reply=reply,
        attachments=_inventory_attachment(case, account, texts),
    )


def _inventory_attachment(case: Case, account: CheckResult | None, texts: Texts) -> tuple[Attachment, ...]:
    """The whole inventory as CSV, for a completed check that found anything."""
    if account is None or not account.checked:  # no completed check: do not load the account modules (boto)
        return ()
    from triage.account.report import AccountReport
    from triage.inventory_csv import CsvWords, inventory_csv

    if not isinstance(account, AccountReport) or not account.resources:
        return ()
    t = texts.inventory_csv
    words_module: Any = texts.env.get_template("_account_words.j2").module  # its {% set %} names
    try:
        words = CsvWords(columns=tuple(t["columns"]), yes=t["yes"], no=t["no"], account_wide=t["account_wide"],
                         reason_separator=t["reason_separator"], type_names=words_module.type_names,
                         reason_names=words_module.reason_names)
        filename = str(t["filename"]).format(case_id=case.case_id)
    except (KeyError, TypeError, AttributeError) as exc:
        raise RulesError("texts.toml: [inventory_csv] needs filename, columns, yes, no, account_wide, "
                         f"reason_separator ({exc})") from None
    return (Attachment(filename, "text", "csv", inventory_csv(account, words)),)


def _plan(case: Case, security: bool, account: CheckResult | None, rules: RemediationRules | None) -> Plan | None:
    """The clean-up plan built from a completed check; None keeps the kind's generic steps."""
    if not security or account is None:
        return None
    from triage.account.report import AccountReport, AccountsReport  # only once a check ran (AWS libraries)

    if not isinstance(account, AccountReport | AccountsReport):
        return None
    from triage import paths
    from triage.account.remediation import build_accounts_plan, build_plan, load_remediation_rules

    rules = rules or load_remediation_rules(paths.rules_dir())
    recovery = any(rule in rules.recovery_rules for m in case.mails for rule in m.classification.matched)
    if isinstance(account, AccountsReport) and not any(isinstance(r, AccountReport) for r in account.reports):
        return None  # no account could be read: the kind's steps, said to fit any account
    if isinstance(account, AccountsReport):  # the root login the mail says was taken: the account it names
        named = _account_ids(case) or [account.management_account or next(iter(account.account_ids), "")]
        return build_accounts_plan(account, rules, recovery_accounts=named if recovery else (), case_id=case.case_id)
    return build_plan(account, rules, root_recovery=recovery, case_id=case.case_id)


def render_progress(progress: Progress | AccountsProgress, texts: Texts) -> str:
    """The comparison with the case's last check, in Japanese (`check-account --case`)."""
    text = texts.env.get_template("_progress.txt.j2").render(progress=progress, labels=texts.labels,
                                                             links=texts.links)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _account_ids(case: Case) -> list[str]:
    ids: dict[str, None] = {}
    for m in case.mails:
        ids.update(dict.fromkeys(m.classification.entities.account_ids))
    return list(ids)


def _regions(case: Case) -> list[str]:
    regions: dict[str, None] = {}
    for m in case.mails:
        regions.update(dict.fromkeys(m.classification.entities.regions))
    return list(regions)


def render_reminder(sent: SentSummary, texts: Texts) -> Summary:
    """A reminder repeats the case's last summary under a short note saying it is a reminder."""
    stamp = datetime.now(UTC)
    # The text and subject are triage's own summary, made inert when it was first rendered.
    shown = replace(sent, subject=Trusted(sent.subject), text=Trusted(sent.text))
    context: dict[str, Any] = {"sent": shown, "labels": texts.labels, "links": texts.links}
    subject = texts.env.get_template("reminder_subject.txt.j2").render(context).strip()
    text = re.sub(r"\n{3,}", "\n\n", texts.env.get_template("reminder.txt.j2").render(context)).strip() + "\n"
    context.update(subject=Trusted(subject), body=_markup(text_to_html(text)))
    return Summary(
        case_id=sent.case_id,
        digest="reminder-" + stamp.strftime("%Y%m%dT%H%M%S"),
        kind=sent.kind,
        severity=sent.severity,
        subject=subject,
        text=text,
        html=texts.env.get_template("summary.html.j2").render(context),
        reply="",
    )


def render_unreadable(mail: UnreadableMail, texts: Texts) -> Summary:
    """The short alarm for an AWS-looking mail that could not be read: what its headers still tell, and
    where to look (the mailbox, the console, the support center)."""
    context: dict[str, Any] = {"mail": mail, "where": Trusted(one_line(mail.where)), "labels": texts.labels,
                               "links": texts.links}
    subject = texts.env.get_template("unreadable_subject.txt.j2").render(context).strip()
    context["subject"] = Trusted(subject)
    text = re.sub(r"\n{3,}", "\n\n", texts.env.get_template("unreadable.txt.j2").render(context)).strip() + "\n"
    context["body"] = _markup(text_to_html(text))
    return Summary(
        case_id="unreadable-" + mail.content_hash[:12],
        digest=mail.content_hash[:16],
        kind="unreadable",
        severity="high",
        subject=subject,
        text=text,
        html=texts.env.get_template("summary.html.j2").render(context),
        reply="",
    )


# The pages triage links to: AWS's own consoles (a region's included). A mail's URLs never reach this far
# clickable (triage.inert), and should one slip through, it stays text: only these hosts become <a>.
_URL = re.compile(r"https://(?:[a-z0-9-]+\.)*aws\.amazon\.com(?:/[^\s<>\"]*)?(?![^\s<>\"])")


def _linked(line: str) -> str:
    """`line` escaped for HTML, with its console URLs (built by triage, never a mail's) made links."""
    return _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', html.escape(line, quote=False))


@dataclass(frozen=True)
class HtmlSection:
    """One "■ " section of the text summary, for the HTML part: its title, and its text as HTML. The
    reply's section also holds the HTML before and after the English draft, which the template sets apart."""

    title: str
    html: Any  # markupsafe.Markup: HTML the template does not escape again
    before_reply: Any = None
    after_reply: Any = None


def html_sections(text: str, reply: str) -> tuple[Any, tuple[HtmlSection, ...]]:
    """The text summary cut at its "■ " headings: the lines under the subject (as HTML), then each section."""
    lines = text.split("\n")[1:]  # the first line is the subject: the template sets it as the title
    chunks: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        if line.startswith("■ "):
            chunks.append((line[2:].strip(), []))
        else:
            chunks[-1][1].append(line)
    intro = _markup(text_to_html("\n".join(chunks[0][1])))
    sections = []
    for title, body in chunks[1:]:
        joined = "\n".join(body)
        if reply and reply in joined:
            before, after = joined.split(reply, 1)
            sections.append(HtmlSection(title, _markup(text_to_html(joined)), _markup(text_to_html(before)),
                                        _markup(text_to_html(after))))
        else:
            sections.append(HtmlSection(title, _markup(text_to_html(joined))))
    return intro, tuple(sections)


def text_to_html(text: str) -> str:
    """The text summary as simple HTML: ■ lines become headings, numbered lines an ordered list, "- " lines
    a bulleted list (a line indented under one continues its item), URLs links."""
    out: list[str] = []
    open_list = ""  # "ol", "ul" or ""
    for line in text.split("\n"):
        numbered = re.match(r"(\d+)\. (.*)", line)
        bullet = re.match(r"- (.*)", line)
        if open_list == "ul" and line.startswith("  ") and line.strip():
            out[-1] = out[-1].removesuffix("</li>") + f"<br>{_linked(line.strip())}</li>"
            continue
        wanted = "ol" if numbered else "ul" if bullet else ""
        if open_list and open_list != wanted:
            out.append(f"</{open_list}>")
            open_list = ""
        if wanted and not open_list:
            out.append(f"<{wanted}>")
            open_list = wanted
        if numbered:
            out.append(f"<li>{_linked(numbered.group(2))}</li>")
        elif bullet:
            out.append(f"<li>{_linked(bullet.group(1))}</li>")
        elif line.startswith("■ "):
            out.append(f"<h2>{_linked(line)[2:]}</h2>")
        elif line.strip():
            out.append(f"<p>{_linked(line)}</p>")
    if open_list:
        out.append(f"</{open_list}>")
    return "\n".join(out)
