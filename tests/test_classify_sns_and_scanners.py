"""Whole mails, parsed and judged as `scan --offline` does: scams carried by SNS (a confirmation whose topic
is only in its HTML link, a stranger's topic whose message is the scam), mail speaking as AWS that asks to be
phoned, AWS Health events about keys and abuse routed through SNS, a sending pause that is not a suspension,
and leak alerts from any scanner."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.mails import passing_verdict
from triage.authenticate import authenticate
from triage.classify import Classification, classify, load_rules
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS
from triage.mail import Origin, RawMail
from triage.parse import parse_mail

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules")
SNS = "AWS Notifications <no-reply@sns.amazonaws.com>"


def judged(sender: str, subject: str, body: str, *, html: bool = False,
           owner_account_ids: tuple[str, ...] = ()) -> Classification:
    m = EmailMessage()
    m["Authentication-Results"] = passing_verdict(sender)
    m["From"], m["To"], m["Subject"] = sender, "owner@example.jp", subject
    m["Message-ID"] = "<t-1@example.net>"
    m.set_content(body, subtype="html" if html else "plain")
    mail = parse_mail(RawMail(m.as_bytes(), Origin("eml", "t.eml")))
    auth = authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True,
                        aws_domains=RULES.aws_domains)
    return classify(mail, auth, RULES, owner_account_ids=owner_account_ids)


def footer(arn: str) -> str:
    return ("\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link "
            f"below to unsubscribe:\nhttps://sns.eu-west-2.amazonaws.com/unsubscribe.html?SubscriptionArn={arn}:"
            "0d4c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d&Endpoint=owner@example.jp\n")


def test_an_html_confirmation_whose_callback_topic_is_only_in_its_link_is_phishing():
    topic = "arn:aws:sns:eu-west-2:827364519203:Bitdefender_Total_Security_GBP289_Renewed_Ring_44_20_5550_1942"
    body = ("<html><body><p>You have chosen to subscribe to the topic:</p>"
            f'<p><a href="https://sns.eu-west-2.amazonaws.com/confirmation.html?TopicArn={topic}&amp;Token=9f8e7d'
            '&amp;Endpoint=owner@example.jp">Confirm subscription</a></p></body></html>')
    c = judged(SNS, "AWS Notification - Subscription Confirmation", body, html=True)
    assert (c.kind, c.rule) == ("phishing", "phishing-sns-callback-scam")
    assert any("callback scam" in e and "Bitdefender" in e for e in c.evidence)


def test_a_stranger_topics_message_that_is_a_callback_scam_is_phishing():
    body = ("Hello,\nYour Kaspersky Premium licence was auto-renewed. Total debited: EUR 379,00.\n"
            "Not you? For a refund phone our billing line +44 20 5550 1288 today.\n")
    c = judged('"Licence Desk" <no-reply@sns.amazonaws.com>', "Receipt KP-55120", body
               + footer("arn:aws:sns:eu-west-2:440912876553:receipts"))
    assert (c.kind, c.rule) == ("phishing", "phishing-sns-callback-scam")


def test_the_owners_own_topic_with_an_amount_and_a_phone_is_not_a_scam():
    body = ("Budget ops-team: actual cost $212.40 is above $200.00. Reply-by-phone rota: +1 206 555 0100.\n"
            "To cancel this alert, edit the budget.\n")
    c = judged(SNS, "AWS Budgets: ops-team has exceeded your alert threshold",
               body + footer("arn:aws:sns:eu-west-2:440912876553:budgets"), owner_account_ids=("440912876553",))
    assert c.kind == "billing-alert"


def _health(detail_type: str, code: str, service: str, account: str) -> str:
    event = {"version": "0", "id": "e1", "detail-type": detail_type, "source": "aws.health", "account": account,
             "region": "eu-west-2", "detail": {"service": service, "eventTypeCode": code,
                                               "eventTypeCategory": "issue"}}
    return json.dumps(event, indent=2) + footer(f"arn:aws:sns:eu-west-2:{account}:health")


@pytest.mark.parametrize(("detail_type", "code", "service", "kind"), [
    ("AWS Health Event", "AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED", "RISK", "exposed-credentials"),
    ("AWS Health Event", "AWS_RISK_IAM_QUARANTINE", "RISK", "exposed-credentials"),
    ("AWS Health Abuse Event", "AWS_ABUSE_DOS_REPORT", "ABUSE", "abuse-report"),
    ("AWS Health Event", "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "EC2", "health-event"),
])
def test_a_health_event_routed_through_sns_takes_the_kind_it_is_about(detail_type, code, service, kind):
    c = judged(SNS, "AWS Notification Message", _health(detail_type, code, service, "660198273645"))
    assert c.kind == kind


def test_an_ses_sending_pause_written_in_japanese_is_an_abuse_case_not_a_suspension():
    c = judged("アマゾン ウェブ サービス <no-reply-aws@amazon.com>",
               "Amazon SES: アカウントの送信が一時停止されました (欧州 (フランクフルト))",
               "お客様のアカウントから送信されたメールのバウンス率が高いため、"
               "Amazon SES による送信を一時停止しました。\n")
    assert (c.kind, c.rule) == ("abuse-report", "aws-ses-enforcement")


@pytest.mark.parametrize(("sender", "subject", "body"), [
    ("Cyera DLP <noreply@alerts.cyera.example>", "Alert: AWS credentials detected in Google Drive",
     "Sensitive file 'prod-keys.txt' shared publicly contains aws_access_key_id and aws_secret_access_key.\n"),
    ("Push Guard <bot@pushguard.example.dev>", "Secrets pushed to public repo yuki/site",
     "Our scan found an AWS secret access key in commit 1f2e3d4 (file .github/workflows/deploy.yml).\n"),
    ("情報漏洩モニター <noreply@leakmon.example.jp>", "【検出】AWS アクセスキーの流出",
     "ペーストサイトに AWS のシークレットアクセスキーが掲載されていました。キーを無効化してください。\n"),
])
def test_a_leak_alert_from_any_scanner_that_names_an_aws_key_is_exposed_credentials(sender, subject, body):
    c = judged(sender, subject, body)
    assert (c.kind, c.severity) == ("exposed-credentials", "critical")


@pytest.mark.parametrize(("sender", "subject", "body"), [
    ("Push Guard <bot@pushguard.example.dev>", "Secrets pushed to public repo yuki/site",
     "Our scan found a Stripe live secret key in commit 1f2e3d4.\n"),
    ("Yuki <yuki@example.jp>", "Re: staging keys", "I found the old AWS access key notes, will rotate them Friday.\n"),
])
def test_a_leak_alert_about_something_else_or_a_chat_about_keys_is_not(sender, subject, body):
    assert judged(sender, subject, body).kind != "exposed-credentials"


def test_mail_speaking_as_aws_from_elsewhere_that_asks_to_be_phoned_is_a_callback_scam():
    c = judged("AWS Billing Department <billing@cloudpay-notice.example.net>", "Invoice INV-88213 paid",
               "Dear AWS Customer,\nWe debited USD 1,480.00 for your annual plan. To dispute or cancel, "
               "phone +61 2 5550 1734 now.\n")
    assert (c.kind, c.rule) == ("phishing", "phishing-callback-scam")


def test_genuine_aws_mail_about_a_refund_on_a_numbered_case_is_not_a_callback_scam():
    c = judged("Amazon Web Services <no-reply-aws@amazon.com>", "[CASE 17455501234] Refund request",
               "We reviewed the refund of $212.00 on case 17455501234. Reply in the Support Center.\n")
    assert c.kind != "phishing"
    assert "callback-scam" not in c.signals
