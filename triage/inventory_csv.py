"""The whole inventory of an account check as a CSV file, attached to the summary.

UTF-8 with a byte order mark, so Excel opens the Japanese as Japanese; one row per resource, region by
region (the most suspicious first, as in the summary), then the account-wide ones. The column titles and
the Japanese words come from templates/ (texts.toml [inventory_csv], _account_words.j2): this module
only lays them out. Pure: a report and the words in, bytes out.

Names, tags and ids were chosen by whoever created the resource (the intruder): they go through
`triage.inert.inert` (the console link is triage's own and stays as built), and any cell a spreadsheet
would read as a formula (starting with = + - @, a tab or a carriage return) gets a leading apostrophe,
which Excel shows as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from triage.account import console
from triage.account.records import GLOBAL, Resource
from triage.account.report import AccountReport
from triage.inert import inert

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_JST = timezone(timedelta(hours=9), "JST")


@dataclass(frozen=True)
class CsvWords:
    columns: tuple[str, ...]  # the ten column titles, in order
    yes: str
    no: str
    account_wide: str  # the region name of IAM and other account-wide things
    reason_separator: str  # between the reasons of one resource
    type_names: Mapping[str, str]
    reason_names: Mapping[str, str]


def safe_cell(text: str) -> str:
    """A cell's text, never read as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def inventory_rows(report: AccountReport, words: CsvWords) -> list[list[str]]:
    """The title row, then one row per resource."""
    rows = [list(words.columns)]
    codes = [view.code for view in report.by_region]
    codes += sorted({r.region for r in report.resources} - {*codes, GLOBAL})
    for code in (*codes, GLOBAL):
        name = words.account_wide if code == GLOBAL else report.region_name(code).full
        rows += [_row(r, name, words) for r in report.in_region(code)]
    return rows


def _row(r: Resource, region_name: str, words: CsvWords) -> list[str]:
    cells = [
        r.region, region_name, words.type_names.get(r.resource_type, r.resource_type), inert(r.id), inert(r.name),
        inert(r.state or ""), _when(r.created), words.yes if r.suspicious else words.no,
        words.reason_separator.join(words.reason_names.get(reason, reason) for reason in r.reasons),
        console.resource_url(r.region, r.resource_type),
    ]
    return [safe_cell(cell) for cell in cells]


def _when(value: datetime | None) -> str:
    return value.astimezone(_JST).strftime("%Y-%m-%d %H:%M") if value else ""


def inventory_csv(report: AccountReport, words: CsvWords) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(inventory_rows(report, words))
    return (BOM + out.getvalue()).encode("utf-8")
