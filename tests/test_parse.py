"""Parsing: one plain record per mail, whatever charset or shape the mail comes in."""

import base64
from datetime import UTC, datetime

import pytest

from triage.mail import Origin, RawMail
from triage.parse import MalformedMail, parse_mail

ORIGIN = Origin("eml", "test.eml")


def mail(headers: str, body: bytes) -> RawMail:
    return RawMail(headers.replace("\n", "\r\n").encode("ascii") + b"\r\n" + body, ORIGIN)


HEAD = """From: =?ISO-2022-JP?B?GyRCJSIlXiUzJXMbKEI=?= <No-Reply@Example.JP>
To: owner@example.jp
Subject: {subject}
Date: Tue, 3 Mar 2026 10:00:00 +0900
Message-ID: <abc123@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset={charset}
Content-Transfer-Encoding: {cte}
"""


def test_7bit_iso2022jp_body_is_decoded():
    # mail-parser 4.x returns this body undecoded (ESC $ B …); the record must hold Japanese text.
    body = "ルートユーザーのパスワードを変更してください。\r\n".encode("iso2022_jp")
    m = parse_mail(mail(HEAD.format(subject="=?ISO-2022-JP?B?GyRCJSIlKyUmJXMlSBsoQg==?=", charset="ISO-2022-JP",
                                    cte="7bit"), body))
    assert m.text.strip() == "ルートユーザーのパスワードを変更してください。"
    assert m.subject == "アカウント"
    assert m.sender.name == "アマコン"
    assert m.sender.address == "no-reply@example.jp"


def test_iso2022jp_ms_body_keeps_windows_characters():
    body = b"\x1b$B\x2d\x21\x7c\x62\x1b(B\r\n"  # ① 髙, as Outlook writes them
    m = parse_mail(mail(HEAD.format(subject="x", charset="ISO-2022-JP", cte="7bit"), body))
    assert m.text.strip() == "①髙"


def test_base64_utf8_body():
    body = base64.encodebytes("請求額は 1,234 ドルです。".encode())
    m = parse_mail(mail(HEAD.format(subject="x", charset="UTF-8", cte="base64"), body))
    assert m.text.strip() == "請求額は 1,234 ドルです。"


def test_shift_jis_label_with_cp932_characters():
    body = base64.encodebytes("株式会社髙橋① からのお知らせ".encode("cp932"))
    m = parse_mail(mail(HEAD.format(subject="x", charset="Shift_JIS", cte="base64"), body))
    assert m.text.strip() == "株式会社髙橋① からのお知らせ"


def test_euc_jp_8bit_body():
    m = parse_mail(mail(HEAD.format(subject="x", charset="EUC-JP", cte="8bit"), "東京リージョン".encode("euc_jp")))
    assert m.text.strip() == "東京リージョン"


def test_metadata():
    m = parse_mail(mail(HEAD.format(subject="hello", charset="us-ascii", cte="7bit"), b"hi\r\n"))
    assert m.message_id == "<abc123@example.jp>"
    assert m.key == "<abc123@example.jp>"
    assert m.date == datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    assert [a.address for a in m.to] == ["owner@example.jp"]
    assert m.header("Content-Type").startswith("text/plain")


def test_html_only_mail_becomes_readable_text_and_links():
    html = (b"<html><head><style>p{color:red}</style></head><body><div style='display:none'>preheader</div>"
            b"<p>Your bill is <b>$12.00</b>.</p><a href='https://example.com/bill'>View bill</a></body></html>")
    m = parse_mail(mail(HEAD.format(subject="x", charset="utf-8", cte="8bit").replace("text/plain", "text/html"),
                        html))
    assert "Your bill is $12.00." in m.text
    assert "View bill" in m.text
    assert "color:red" not in m.text and "preheader" not in m.text
    assert m.links == ("https://example.com/bill",)


def test_attachments_listed_with_names_and_types():
    raw = RawMail(b"""From: a@example.com\r
Subject: files\r
Message-ID: <att@example.com>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary="XX"\r
\r
--XX\r
Content-Type: text/plain; charset=utf-8\r
\r
see attached\r
--XX\r
Content-Type: application/octet-stream; name="invoice.pdf.exe"\r
Content-Disposition: attachment; filename="invoice.pdf.exe"\r
Content-Transfer-Encoding: base64\r
\r
TVqQAAMAAAAEAAAA\r
--XX--\r
""", ORIGIN)
    m = parse_mail(raw)
    assert m.text.strip() == "see attached"
    assert [(a.filename, a.content_type) for a in m.attachments] == [("invoice.pdf.exe", "application/octet-stream")]
    assert m.attachments[0].size == 12


def test_all_authentication_headers_kept_in_order():
    raw = RawMail(b"Authentication-Results: mx.example.net; dkim=pass\r\nAuthentication-Results: other; dkim=fail\r\n"
                  b"DKIM-Signature: v=1; a=rsa-sha256; d=amazon.com; s=x; b=abc\r\nFrom: a@b.c\r\n\r\nbody", ORIGIN)
    m = parse_mail(raw)
    assert m.header_values("authentication-results") == ["mx.example.net; dkim=pass", "other; dkim=fail"]
    assert m.header("DKIM-Signature").startswith("v=1;")


def test_mail_without_message_id_is_keyed_by_content():
    m = parse_mail(RawMail(b"From: a@b.c\r\nSubject: x\r\n\r\nbody", ORIGIN))
    assert m.message_id == ""
    assert m.key == f"sha256:{m.content_hash}"


def test_broken_header_is_a_defect_not_an_exception():
    m = parse_mail(RawMail(b"From: a@b.c\r\nThis line has no colon\r\nSubject: lost\r\n\r\nbody", ORIGIN))
    assert m.defects, "the missing header/body separator must be reported"
    assert m.subject == ""


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"\r\n\r\n", "empty"),
    (bytes(range(256)) * 8, "not an e-mail"),
    (b"\x00\x01\x02 binary", "not an e-mail"),
])
def test_malformed_mail_raises_one_clear_error(data, reason):
    with pytest.raises(MalformedMail, match=reason):
        parse_mail(RawMail(data, ORIGIN))


def test_mail_over_the_size_limit_is_refused():
    with pytest.raises(MalformedMail, match="over the 1024-byte limit"):
        parse_mail(RawMail(b"From: a@b.c\r\n\r\n" + b"x" * 2000, ORIGIN), max_bytes=1024)


def test_binary_junk_body_is_malformed():
    junk = bytes(b for b in range(1, 32) if b not in (9, 10, 13, 27)) * 20
    with pytest.raises(MalformedMail, match="binary junk"):
        parse_mail(RawMail(b"From: aws@amazon.com\r\nSubject: aws\r\n\r\n" + junk, ORIGIN))


def test_broken_mime_is_read_with_its_defects():
    # A compromise notice with a broken multipart must still be read: missing it is the worst failure.
    raw = RawMail(b"From: no-reply-aws@amazon.com\r\nSubject: [ACTION REQUIRED] account compromised\r\n"
                  b"Content-Type: multipart/mixed; boundary=\"NOPE\"\r\n\r\nYour account may be compromised.\r\n",
                  ORIGIN)
    m = parse_mail(raw)
    assert m.subject == "[ACTION REQUIRED] account compromised"
    assert m.defects
    assert m.text.strip() == "Your account may be compromised."


def test_unknown_charset_is_read():
    raw = RawMail(b"From: a@amazon.com\r\nSubject: x\r\nContent-Type: text/plain; charset=x-bogus\r\n\r\nhello\r\n",
                  ORIGIN)
    assert parse_mail(raw).text.strip() == "hello"
