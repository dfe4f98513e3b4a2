"""The whole inventory as a CSV attachment of the sent summary, received by a real SMTP server (aiosmtpd).

The account is the fixed report of the golden summary (tests/golden/*+attacked.account.json): 248
resources over three regions and IAM, one instance name an intruder chose to be a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.account_fixture import load_report
from tests.scanning import run
from tests.test_delivery import config_for
from triage.account import AccountReport
from triage.inert import inert
from triage.notify import smtp_sender
from triage.pipeline import ScanOptions, Services
from triage.sources.files import open_path
from triage.state import open_state

ROOT = Path(__file__).parent
MAIL = ROOT / "corpus" / "compromise-re-case-action-required.eml"
REPORT = ROOT / "golden" / "compromise-re-case-action-required+attacked.account.json"


def _send(smtp: Any, tmp_path: Path, report: object | None) -> EmailMessage:
    config = config_for(smtp)
    assert config.smtp is not None
    services = Services(send=smtp_sender(config.smtp, config.notify.to, {}),
                        check_account=(lambda case: report) if report is not None else None)
    options = ScanOptions(no_translate=True, no_aws=report is None)
    with open_state(tmp_path / "state") as state:
        _, totals = run(open_path(MAIL), state, config=config, options=options, services=services)
    assert totals.sent == 1
    [message] = smtp.inbox.messages
    return message


def _csv_parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.iter_attachments() if part.get_content_type() == "text/csv"]


def _rows(message: EmailMessage) -> list[list[str]]:
    [part] = _csv_parts(message)
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel reads the Japanese"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_sent_summary_carries_the_inventory_one_row_per_resource(smtp: Any, tmp_path: Path) -> None:
    report = load_report(REPORT)
    message = _send(smtp, tmp_path, report)
    [part] = _csv_parts(message)
    assert part.get_filename() == "triage-17412093581-inventory.csv"
    # the text and HTML parts are still there for the reader
    assert "■ いますぐやること" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    rows = _rows(message)
    header, body = rows[0], rows[1:]
    assert header == ["リージョンコード", "リージョン", "種類", "ID", "名前", "状態", "作成日時（日本時間）", "怪しい",
                      "怪しい理由", "コンソールのリンク"]
    assert len(body) == len(report.resources) == 248
    assert all(len(row) == 10 for row in body)
    assert sorted(row[3] for row in body) == sorted(r.id for r in report.resources)
    assert Counter(row[0] for row in body) == Counter(r.region for r in report.resources)


def test_each_row_says_where_what_and_why_in_japanese(smtp: Any, tmp_path: Path) -> None:
    rows = _rows(_send(smtp, tmp_path, load_report(REPORT)))
    mumbai = next(row for row in rows if row[3] == "i-0ap50000000000001")
    assert mumbai == ["ap-south-1", "アジアパシフィック (ムンバイ)（インド）", "EC2 インスタンス",
                      "i-0ap50000000000001", "worker", "running", "2026-12-01 03:20", "はい",
                      "最近作られた、普段使っていないリージョンにある、暗号資産のマイニングによく使われる種類",
                      "https://ap-south-1.console.aws.amazon.com/ec2/home?region=ap-south-1#Instances:"]
    reader = next(row for row in rows if row[3] == "triage-readonly")
    assert reader[0] == "global" and reader[1] == "アカウント全体（IAM など）" and reader[7] == "いいえ"
    # the most suspicious region first, as in the summary; the account-wide ones last
    assert rows[1][0] == "us-east-1" and rows[-1][0] == "global"


def test_an_intruders_name_is_neither_a_formula_nor_a_live_link(smtp: Any, tmp_path: Path) -> None:
    rows = _rows(_send(smtp, tmp_path, load_report(REPORT)))
    named = [row for row in rows if row[3].startswith("i-0use1")]
    assert len(named) == 60
    for row in named:
        assert row[4] == "'" + inert('=HYPERLINK("http://evil.example/x","click")'), row[4]  # defanged, no formula
        assert "http://" not in row[4] and "evil.example" not in row[4]
    cells = [cell for row in rows for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)
    assert not any("http://" in cell for cell in cells)


def test_a_summary_without_a_check_has_no_attachment(smtp: Any, tmp_path: Path) -> None:
    message = _send(smtp, tmp_path, None)
    assert _csv_parts(message) == []
    assert message.get_body(("html",)) is not None


def test_an_account_with_nothing_found_sends_no_empty_file(smtp: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    report: AccountReport = replace(load_report(REPORT), resources=())
    assert _csv_parts(_send(smtp, tmp_path, report)) == []


def test_the_reasons_are_joined_as_texts_toml_says(tmp_path: Path) -> None:
    """The separator between a resource's reasons is a Japanese text like the others: data, in texts.toml."""
    import shutil

    from tests.test_template_records import compromise_case
    from triage import paths
    from triage.render import load_texts, render_summary

    templates = tmp_path / "templates"
    shutil.copytree(paths.templates_dir(), templates)
    toml = templates / "texts.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('reason_separator = "、"', 'reason_separator = " / "'),
                    encoding="utf-8")
    summary = render_summary(compromise_case(), load_texts(templates), account=load_report(REPORT), translation=None,
                             jpy_per_usd=150.0, options={"aws_skipped": False, "translation_skipped": True})
    [attachment] = summary.attachments
    rows = list(csv.reader(io.StringIO(attachment.data.decode("utf-8-sig"), newline="")))
    mumbai = next(row for row in rows if row[3] == "i-0ap50000000000001")
    assert mumbai[8] == "最近作られた / 普段使っていないリージョンにある / 暗号資産のマイニングによく使われる種類"
