"""What a person reads on the terminal: the scan's table and cases, the account's tables, the explanation of
one mail, `triage status`, the progress line.

The texts are templates (templates/terminal_*.txt.j2) rendered in triage.templating's environment, so every
value from a mail or from the AWS account (a Subject, a sender, a resource's name, an error AWS sent) is
shown inert: a link defanged, a bidi override or zero-width space shown as ⟨U+202E⟩, a control character (an
ANSI escape, CR, LF) a space. A text triage or the owner wrote (a path, why a case needed no summary) keeps
its dots, with its hidden characters made visible. A summary triage rendered is shown as it is: its values
were made inert when it was rendered.

Pure: every function returns text, and cli.py prints it. A scan that found nothing about AWS is told in two
fixed lines without loading jinja2 (a quiet cron run must stay light).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.inert import Trusted, visible
from triage.utc import JST

if TYPE_CHECKING:
    import jinja2

    from triage.account.records import Resource
    from triage.account.report import AccountReport
    from triage.cases import ClassifiedMail
    from triage.explain import Explanation
    from triage.outcomes import CaseOutcome, Skipped
    from triage.pipeline import ScanTotals
    from triage.render import Summary
    from triage.status import StatusReport

Row = tuple[object, ...]

NOTHING_ABOUT_AWS = "No new mail about AWS."
TEMPLATES = ("terminal_scan.txt.j2", "terminal_account.txt.j2", "terminal_accounts.txt.j2", "terminal_explain.txt.j2",
             "terminal_status.txt.j2")


class TerminalText:
    """The terminal's texts, rendered from the templates in `templates_dir` (compiled on first use)."""

    def __init__(self, templates_dir: Path) -> None:
        self.templates_dir = templates_dir

    @cached_property
    def env(self) -> jinja2.Environment:
        from triage.templating import environment

        return environment(self.templates_dir, {"table": table, "resource_rows": resource_rows, "jst": jst_minute,
                                                "own": _own})

    def _render(self, name: str, **values: Any) -> str:
        return self.env.get_template(name).render(**values).rstrip("\n")

    def scan(self, rows: Sequence[Row], outcomes: Sequence[CaseOutcome], alarms: Sequence[Skipped],
             totals: ScanTotals) -> str:
        """The table of the mails about AWS (`scan_row`), each case with the summary printed for it, the
        alarms for unreadable mail, the cases that needed no summary, the totals."""
        if not (rows or outcomes or alarms):
            return f"{NOTHING_ABOUT_AWS}\n\n{totals_line(totals)}"
        cases = [(o, _own(o.reason), _printed(o.delivery, o.summary)) for o in outcomes if o.delivery != "skipped"]
        unreadable = [(a, _own(a.where), _printed(a.delivery, a.alarm)) for a in alarms]
        quiet = [(o, _own(o.reason)) for o in outcomes if o.delivery == "skipped"]
        return self._render("terminal_scan.txt.j2", rows=list(rows), nothing=Trusted(NOTHING_ABOUT_AWS),
                            cases=cases, unreadable=unreadable, quiet=quiet, totals=Trusted(totals_line(totals)))

    def account(self, report: AccountReport, *, complete: bool) -> str:
        """One account: one table per region (with its Japanese name), cost, and a closing line that says
        plainly whether every region was checked (`complete`: nothing at all was left out)."""
        return self._render("terminal_account.txt.j2", report=report, complete=complete)

    def accounts(self, management_account: str, reports: Sequence[tuple[Any, bool | None]]) -> str:
        """Every account of an Organization: each report with whether it is complete, or an account that
        could not be checked (None) with its reason."""
        return self._render("terminal_accounts.txt.j2", management_account=management_account, reports=reports)

    def explanation(self, e: Explanation) -> str:
        """The verdict with its reasons, every matched rule (the chosen one marked), the signals, the
        entities."""
        rules = {r.name: r for r in e.matched_rules}
        sources = {name: _own(str(r.source)) for name, r in rules.items() if r.source}
        return self._render("terminal_explain.txt.j2", e=e, c=e.classification, path=_own(str(e.path)),
                            rules=rules, sources=sources)

    def status(self, report: StatusReport) -> str:
        """`triage status`: whether the daemon runs, the cases with their next reminder, the outbox, the last
        pass per folder."""
        return self._render("terminal_status.txt.j2", report=report)


def scan_row(item: ClassifiedMail) -> Row:
    """A mail's row in the scan table; the date in Japan time, as in the summaries (the column says so)."""
    mail = item.mail
    date = mail.date.astimezone(JST).strftime("%Y-%m-%d %H:%M") if mail.date else "-"
    return (date, item.severity, item.kind, item.authenticity.verdict, mail.sender.address or "-", mail.subject or "-")


def jst_minute(value: datetime | None) -> str:
    """`{{ when|jst }}`: a time as the terminal shows it, in Japan time ("-" for none)."""
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M JST") if value else "-"


def totals_line(t: ScanTotals) -> str:
    parts = [f"{t.read} mail(s) read", f"{t.reported} about AWS"]
    if t.already_seen:
        parts.append(f"{t.already_seen} seen before")
    if t.skipped:
        parts.append(f"{t.skipped} skipped (unreadable or malformed, see the log)")
    if t.defective:
        parts.append(f"{t.defective} read despite defects")
    parts.append(f"{t.cases} case(s)")
    parts.append(f"{t.sent} summary(ies) sent, {t.printed} printed")
    return ", ".join(parts)


def progress_line(done: int, total: int | None, what: str) -> str:
    """`[####......] 1200 of 5000 mails read`; a source's count is an estimate, never shown below done."""
    if not total:
        return f"{done} {what}"
    total = max(total, done)
    filled = 20 * done // total
    return f"[{'#' * filled}{'.' * (20 - filled)}] {done} of {total} {what}"


def table(rows: Sequence[Row], limits: Sequence[int], indent: str = "") -> Trusted:
    """`{{ rows|table(limits) }}`: the rows (the header first) in aligned columns. Each cell is shown as the
    template would show it (inert unless triage wrote it) before it is measured, then cut to its column's
    limit in terminal columns (a wide character counts two)."""
    from triage.templating import shown

    cells = [[" ".join(str(shown(v)).split()) for v in row] for row in rows]
    widths = [min(limit, max(_width(r[i]) for r in cells)) for i, limit in enumerate(limits)]
    return Trusted("\n".join((indent + "  ".join(_fit(v, w) for v, w in zip(row, widths, strict=True))).rstrip()
                             for row in cells))


def resource_rows(resources: Sequence[Resource]) -> list[Row]:
    """`{{ report.in_region(code)|resource_rows }}`: one row per resource, for `table`."""
    from triage.templating import instance_type

    def row(r: Resource) -> Row:
        created = r.created.strftime("%Y-%m-%d %H:%M") if r.created else "-"
        return (r.resource_type, r.id, r.name or "-", r.state or "-", _detail_cell(r, instance_type), created,
                ", ".join(r.reasons) if r.suspicious else "-")

    return [row(r) for r in resources]


def _detail_cell(r: Resource, instance_type: Any) -> object:
    d = r.detail
    if d.get("instance_type"):
        return instance_type(d["instance_type"])  # g4dn.xlarge is AWS's name, not a host to defang
    if d.get("size_gb"):
        return f"{d['size_gb']} GB"
    if r.resource_type == "security-group":
        return "open: " + ",".join(d.get("open_to_internet") or ["-"])
    if r.resource_type == "access-key":
        return f"user {d.get('user')}"
    if r.resource_type == "iam-user":
        return "admin" if d.get("admin") else "-"
    return "-"


def _own(text: str) -> Trusted:
    """A text triage or the owner wrote (why a case needed no summary, a path they gave, a mail's place in
    the source): its dots stay, so `notify.min_severity` or `rules.toml` is not taken for a host; a hidden
    or control character is still made visible."""
    return Trusted(visible(text))


def _printed(delivery: str, summary: Summary | None) -> Trusted | None:
    """The text of a summary or alarm printed instead of sent, shown as it is: triage rendered it, and its
    values were made inert in its template."""
    return Trusted(summary.text.rstrip()) if delivery == "printed" and summary is not None else None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """Cut `text` to `width` terminal columns and pad it."""
    if _width(text) > width:
        out, used = "", 0
        for ch in text:
            w = _width(ch)
            if used + w > width - 1:
                break
            out, used = out + ch, used + w
        text = out + "…"
    return text + " " * (width - _width(text))
