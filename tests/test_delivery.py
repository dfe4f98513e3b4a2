"""Summaries over a real SMTP server: sent once, sent again only when the case grows, never lost."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests import mails
from tests.scanning import run
from triage.config import Config, NotifySettings, SmtpSettings
from triage.notify import smtp_sender
from triage.pipeline import ScanOptions, Services
from triage.sources.files import open_path
from triage.state import open_state

SENDING = ScanOptions(no_aws=True, no_translate=True)


def config_for(smtp, min_severity: str = "medium") -> Config:
    return Config(smtp=SmtpSettings(host=smtp.host, port=smtp.port, tls="none", sender="triage@example.jp"),
                  notify=NotifySettings(to=("owner@example.jp",), min_severity=min_severity))


def services_for(config: Config) -> Services:
    assert config.smtp is not None
    return Services(send=smtp_sender(config.smtp, config.notify.to, {}))


def scan_folder(folder, state, config):
    return run(open_path(folder), state, config=config, options=SENDING, services=services_for(config))


def test_each_case_at_or_above_the_threshold_gets_one_summary(smtp, tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [*mails.aws_related(), mails.newsletter(1)])
    config = config_for(smtp)
    with open_state(tmp_path / "state") as state:
        _got, totals = scan_folder(folder, state, config)
    # The compromise case (two mails) and the budget alert; marketing and the newsletter are below "medium".
    assert totals.sent == 2
    subjects = sorted(m["Subject"] for m in smtp.inbox.messages)
    assert subjects == ["【緊急】AWS アカウントが第三者に使われている可能性があります（ケース 17100200301）",
                        "【重要】AWS の利用料金についての警告です"]
    message = next(m for m in smtp.inbox.messages if "17100200301" in m["Subject"])
    assert message["To"] == "owner@example.jp"
    assert message["Message-ID"].startswith("<triage.17100200301.")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "■ いますぐやること" in text and "<h2>いますぐやること</h2>" in html
    assert "Hello AWS Support," in text, "the English reply draft travels with the summary"


def test_no_summary_is_sent_twice(smtp, tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", mails.aws_related())
    config = config_for(smtp)
    with open_state(tmp_path / "state") as state:
        scan_folder(folder, state, config)
    with open_state(tmp_path / "state") as state:
        _, totals = scan_folder(folder, state, config)
    with open_state(tmp_path / "state") as state:  # --all re-reads the mail, still nothing is re-sent
        _, again = run(open_path(folder), state, config=config, options=replace(SENDING, all_mail=True),
                       services=services_for(config))
    assert (totals.sent, again.sent) == (0, 0)
    assert len(smtp.inbox.messages) == 2


def test_a_new_mail_in_the_case_sends_an_updated_summary(smtp, tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [mails.compromise_notice(1)])
    config = config_for(smtp)
    with open_state(tmp_path / "state") as state:
        scan_folder(folder, state, config)
    (folder / "zz-reply.eml").write_bytes(mails.compromise_notice(2))
    with open_state(tmp_path / "state") as state:
        got, totals = scan_folder(folder, state, config)
    assert totals.sent == 1
    assert [len(o.case.keys) for o in got.cases] == [2]
    updated = smtp.inbox.messages[-1].get_body(("plain",)).get_content()
    assert "以前に届いたメールがほかに 1 通あります" in updated


def test_phishing_is_always_summarised(smtp, tmp_path):
    phish = mails.build('"AWS Billing" <billing@aws-account-verify.example>',
                        "Your AWS account is suspended - verify your payment", "Click here to verify.",
                        message_id="<p1@aws-account-verify.example>",
                        auth="mx.google.com; dkim=none; spf=softfail; dmarc=fail")
    folder = mails.write_eml_folder(tmp_path / "in", [phish])
    with open_state(tmp_path / "state") as state:
        _, totals = scan_folder(folder, state, config_for(smtp, min_severity="critical"))
    assert totals.sent == 1
    assert "フィッシング" in smtp.inbox.messages[0]["Subject"]
    text = smtp.inbox.messages[0].get_body(("plain",)).get_content()
    assert "aws-account-verify.example/" not in text, "no link from a mail is ever copied into a summary"
    assert "AWS から届いたことを確認しました" not in text
    assert "Hello AWS Support" not in text, "a phish gets no reply draft"


def test_below_threshold_sends_nothing(smtp, tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [mails.budget_alert()])
    with open_state(tmp_path / "state") as state:
        got, totals = scan_folder(folder, state, config_for(smtp, min_severity="critical"))
    assert totals.sent == 0 and smtp.inbox.messages == []
    assert got.cases[0].delivery == "skipped"


def test_failed_delivery_loses_nothing(smtp, tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [mails.compromise_notice(1)])
    config = config_for(smtp)
    smtp.inbox.refuse = True
    with open_state(tmp_path / "state") as state:
        _got, totals = scan_folder(folder, state, config)
        assert not state.is_seen("<case-17100200301-1@support.amazon.com>")
    assert totals.sent == 0 and totals.errors and "refused the recipients" in totals.errors[0]
    smtp.inbox.refuse = False
    with open_state(tmp_path / "state") as state:
        _, totals = scan_folder(folder, state, config)
    assert totals.sent == 1 and len(smtp.inbox.messages) == 1


def test_smtp_configured_without_recipients_is_a_config_error(smtp):
    from triage.errors import ConfigError

    config = Config(smtp=SmtpSettings(host=smtp.host, port=smtp.port, tls="none", sender="t@example.jp"))
    with pytest.raises(ConfigError, match="notify\\] to is empty"):
        services_for(config)
