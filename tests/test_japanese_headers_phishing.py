"""Japanese phishing as it arrives: headers in raw 8-bit (UTF-8, which RFC 6532 allows and phishing kits
write, or a Japanese mailer's Shift_JIS), and a display name in katakana that claims to be AWS."""

from __future__ import annotations

from email.header import Header
from pathlib import Path

import pytest

from triage.authenticate import authenticate
from triage.classify import classify, load_rules
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS
from triage.lookalike import skeleton
from triage.mail import Origin, RawMail
from triage.parse import parse_mail

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules")
NAME = "アマゾンウェブサービス 請求窓口"
SUBJECT = "【緊急】ご利用中のAWSアカウントが凍結されました"


def raw(name: str, subject: str, charset: str, *, encoded: bool) -> bytes:
    def head(value: str) -> bytes:
        return Header(value, "utf-8").encode().encode("ascii") if encoded else value.encode(charset)
    domain = "billing.kaiun-trade.example.jp"
    return (b"Authentication-Results: mx.google.com; dkim=pass header.i=@" + domain.encode() +
            b"; spf=pass smtp.mailfrom=" + domain.encode() + b"; dmarc=pass header.from=" + domain.encode() + b"\n"
            b"From: " + head(name) + b" <info@" + domain.encode() + b">\n"
            b"To: owner@example.jp\nSubject: " + head(subject) + b"\n"
            b"Date: Thu, 19 Nov 2026 08:00:00 +0900\nMessage-ID: <jp-1@" + domain.encode() + b">\n"
            b"MIME-Version: 1.0\nContent-Type: text/plain; charset=" + charset.encode() + b"\n"
            b"Content-Transfer-Encoding: 8bit\n\n" + "本人確認のうえ、利用を再開してください。\n".encode(charset))


@pytest.mark.parametrize("charset", ["utf-8", "shift_jis"])
def test_raw_8bit_headers_read_as_the_text_they_are(charset):
    mail = parse_mail(RawMail(raw(NAME, SUBJECT, charset, encoded=False), Origin("eml", "t.eml")))
    assert (mail.sender.name, mail.subject) == (NAME, SUBJECT)
    assert "\ufffd" not in " ".join(v for _, v in mail.headers)


@pytest.mark.parametrize("encoded", [True, False])
def test_a_katakana_display_name_claiming_aws_from_elsewhere_is_phishing(encoded):
    mail = parse_mail(RawMail(raw(NAME, SUBJECT, "utf-8", encoded=encoded), Origin("eml", "t.eml")))
    auth = authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True,
                        aws_domains=RULES.aws_domains)
    c = classify(mail, auth, RULES)
    assert (c.kind, c.rule) == ("phishing", "phishing-display-name")


def test_the_skeleton_keeps_kana_voicing_and_still_drops_accents():
    assert skeleton("ゾブビ パピ", pairs=False) == "ゾブビ パピ"
    assert skeleton("Amázon", pairs=False) == "amazon"


@pytest.mark.parametrize(("name", "phishing"), [
    ("AWSサポート窓口", True), ("Amazon Web Services セキュリティ", True), ("AWS 請求センター", True),
    ("AWS請求代行サービス", False),  # what resellers in Japan call their invoicing
])
def test_a_japanese_job_title_after_aws_in_the_display_name_claims_aws(name, phishing):
    mail = parse_mail(RawMail(raw(name, "ご請求金額の確認", "utf-8", encoded=True), Origin("eml", "t.eml")))
    auth = authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True,
                        aws_domains=RULES.aws_domains)
    assert (classify(mail, auth, RULES).rule == "phishing-display-name") is phishing
