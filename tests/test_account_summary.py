"""The account check inside `triage scan`: run once per security case, its findings in the summary,
and a check that cannot run said plainly in the summary instead of ending the scan."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from tests.aws_server import AwsProxy, aws_environment, json_reply
from tests.scanning import Collected
from triage import paths
from triage.account import AccountNotChecked
from triage.cli import Environment, main
from triage.config import AwsSettings, Config
from triage.outcomes import CaseOutcome
from triage.pipeline import ScanOptions, Services, load_context, scan
from triage.services import services_from_config
from triage.sources import open_source
from triage.state import open_state

INBOX = Path(__file__).resolve().parent.parent / "examples" / "inbox.mbox"
CASE = "17100200301"  # the compromised-account case of the example inbox


def scan_example(config: Config, services: Services) -> dict[str, CaseOutcome]:
    options = ScanOptions(no_send=True, no_translate=True)
    ctx = load_context(config, paths.rules_dir(), paths.templates_dir(), options, services)
    source = open_source(str(INBOX), None, max_bytes=config.mail.max_bytes, rules_dir=paths.rules_dir(), env={})
    outcomes = Collected()
    with open_state(":memory:") as state:
        scan(ctx, source, state, outcomes)
    return {o.case.case_id: o for o in outcomes.cases}


def render_case_summary(account: object) -> str:
    """The summary text of the example's compromised-account case, with `account` as the check's result."""
    outcomes = scan_example(Config(), Services(check_account=lambda case: account))
    summary = outcomes[CASE].summary
    assert summary is not None
    return summary.text


def test_scan_checks_the_account_once_per_security_case(moto_server: Any) -> None:
    proxy = AwsProxy(moto_server.url, canned={"lightsail:GetInstances": lambda c: json_reply({"instances": []})})
    config = Config(aws=AwsSettings(regions=("ap-northeast-1", "us-east-1"), home_regions=("ap-northeast-1",)))
    try:
        with aws_environment(proxy.url), open_state(":memory:") as state:
            services = services_from_config(config, ScanOptions(no_send=True, no_translate=True), {}, state=state)
            outcomes = scan_example(config, services)
    finally:
        proxy.stop()
    security = [o for o in outcomes.values() if o.summary is not None and o.case.kind != "phishing"]
    assert len(security) == 2  # the compromised-account case (two mails) and the budget alert
    assert sum(c.action == "sts:GetCallerIdentity" for c in proxy.calls) == len(security)
    text = outcomes[CASE].summary.text  # type: ignore[union-attr]
    assert "■ AWS アカウントの中でわかったこと" in text
    assert "AWS アカウント 123456789012 の中を確認しました" in text
    assert "まだ分からないこと" not in text
    assert "設定（[aws] regions）で確認の対象から外しています" in text


def test_a_check_that_cannot_run_is_said_in_the_summary_and_the_scan_goes_on(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with aws_environment("http://127.0.0.1:9", AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY=""):
        status = main(["scan", "--source", str(INBOX), "--state", ":memory:", "--no-send", "--no-translate",
                       "--config", str(_empty_config(tmp_path))], Environment(stdout=out, stderr=err))
    assert status == 0
    text = out.getvalue()
    # The mails name account 123456789012, and no credentials work: that account is said to be unchecked.
    assert "メールに書かれた AWS アカウント 123456789012 の中は、確認していません。" in text
    assert "no AWS credentials found" in text


def test_summary_when_the_check_was_skipped_keeps_the_console_pointers() -> None:
    text = render_case_summary(None)
    assert "■ まだ分からないこと" in text and "https://console.aws.amazon.com/ec2globalview/home" in text


def _empty_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("")
    path.chmod(0o600)
    return path


def test_summary_says_the_account_was_not_checked_and_why() -> None:
    text = render_case_summary(AccountNotChecked("no AWS credentials found: set [aws] profile or --profile"))
    assert "AWS アカウントの中を確認しようとしましたが、確認できませんでした。" in text
    assert "理由（英語）: no AWS credentials found" in text
    assert "■ お金のこと" not in text


def test_the_contact_line_says_what_is_missing_and_shows_the_name_inert() -> None:
    from dataclasses import replace

    from tests.account_fixture import load_report
    from triage.account.records import Contact

    report = load_report(Path(__file__).parent / "golden" / "compromise-re-case-action-required+attacked.account.json")
    blank = render_case_summary(replace(report, contact=Contact(full_name="", company="", phone="", country="")))
    line = next(x for x in blank.splitlines() if x.startswith("アカウントの連絡先情報"))
    assert line == "アカウントの連絡先情報: 名前 なし、電話 なし、国 なし"
    taken = render_case_summary(replace(report, contact=Contact(
        full_name="Evil Corp\u202e", company="evil.example", phone="+1-555-0100", country="US")))
    line = next(x for x in taken.splitlines() if x.startswith("アカウントの連絡先情報"))
    assert line == "アカウントの連絡先情報: 名前 Evil Corp⟨U+202E⟩（evil[.]example）、電話 +1-555-0100、国 US"
