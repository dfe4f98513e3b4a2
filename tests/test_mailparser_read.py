"""What triage reads of mail-parser (triage.mailparser_read) is what `mailparser.parse_from_bytes` gives: the
same date and the same defects, or the same failure, on every mail of the tests, the corpus and the hostile
set, on crafted mails with each kind of defect, and on mails hypothesis puts together. And the user still
sees each kind of defect, and each attachment, in the `Mail` that parse makes."""

from __future__ import annotations

import logging
from pathlib import Path

import mailparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage import mailparser_read
from triage.mail import Origin, RawMail
from triage.parse import MalformedMail, parse_mail

TESTS = Path(__file__).parent
MAILS = sorted(p for p in TESTS.rglob("*.eml") if ".venv" not in p.parts)

HEAD = (b"From: AWS <no-reply-aws@amazon.com>\r\nTo: owner@example.com\r\nSubject: x\r\n"
        b"Date: Mon, 1 Dec 2025 10:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n")
MIME = b"MIME-Version: 1.0\r\n"
# Each crafted mail, and the defect the user must still see for it.
CRAFTED = {
    "received": (b"Received: from [[[ by ;;; with\r\n" + HEAD + b"\r\nbody\r\n",
                 "ReceivedHeaderDefect: received[0]: unclosed-domain-literal"),
    "received-date": (b"Received: from a.example (a.example [192.0.2.1]) by b.example with SMTP; "
                      b"Mon, 99 Foo 2025 99:99:99 +9999\r\n" + HEAD + b"\r\nbody\r\n",
                      "DateHeaderDefect: received[0]: invalid-date-syntax"),
    "date": (HEAD.replace(b"Mon, 1 Dec 2025 10:00:00 +0000", b"yesterday at noon") + b"\r\nbody\r\n",
             "DateHeaderDefect: date[0]: invalid-date-syntax"),
    "resent-date": (HEAD + b"Resent-Date: not a date\r\n\r\nbody\r\n",
                    "DateHeaderDefect: resent-date[0]: invalid-date-syntax"),
    "address": (HEAD.replace(b"From: AWS", b"From: =?utf-8?q?" + b"A" * 200 + b"?=") + b"\r\nbody\r\n",
                "AddressHeaderDefect: from[0]: overlong-encoded-word"),
    "mime-header": (HEAD + MIME + b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain"
                    b"\r\n\r\nhi\r\n--XX\r\nContent-Type: application/pdf; name=\"\xff\xfe.pdf\"\r\n"
                    b"Content-Disposition: attachment; filename=\"\xff\xfe.pdf\"\r\n"
                    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
                    b"--XX--\r\n", "MimeHeaderDefect: part 2, content-type[0]: invalid UTF-8"),
    "charset": (HEAD + MIME + b"Content-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: base64\r\n"
                b"\r\ngIGCg4SFhoeI\r\n", "CharsetDecodeDefect: part 0, charset 'shift_jis' failed"),
    "charset-inline": (HEAD + MIME + b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: "
                       b"text/plain; charset=bogus-cs\r\nContent-Disposition: inline; filename=a.txt\r\n\r\nhi \xff\r\n"
                       b"--XX\r\nContent-Type: image/png\r\nContent-ID: <i1>\r\nContent-Transfer-Encoding: base64\r\n"
                       b"\r\niVBORw==\r\n--XX--\r\n", "CharsetDecodeDefect: part 1, charset 'bogus-cs' failed"),
    "start-boundary": (HEAD + MIME + b"Content-Type: multipart/mixed; boundary=XX\r\n\r\nno start\r\n--XX--\r\n",
                       "StartBoundaryNotFoundDefect: The claimed start boundary was never found."),
    "separator": (HEAD + b"X-Broken header without colon\r\n\r\nbody\r\n", "MissingHeaderBodySeparatorDefect: "),
    "mail-parser-fails": (HEAD + MIME + b"Content-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; "
                          b"boundary=YY\r\n\r\nnothing\r\n", "mail-parser could not read it (TypeError"),
}


def full(data: bytes) -> tuple[object, ...]:
    """mail-parser's whole parse: the date and the defects triage used to take from it, or its failure."""
    try:
        parsed = mailparser.parse_from_bytes(data)
    except Exception as exc:
        return ("raises", type(exc).__name__)
    return parsed.date, [str(d) for entry in parsed.defects for items in entry.values() for d in items]


def lean(data: bytes) -> tuple[object, ...]:
    try:
        _, date, defects = mailparser_read.read(data)
    except Exception as exc:
        return ("raises", type(exc).__name__)
    return date, defects


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.getLogger("mailparser").setLevel(logging.CRITICAL)


def test_the_test_mails_are_found() -> None:
    assert len(MAILS) > 200
    assert any("hostile" in p.parts for p in MAILS) and any("corpus" in p.parts for p in MAILS)


@pytest.mark.parametrize("path", MAILS, ids=lambda p: str(p.relative_to(TESTS)))
def test_same_date_and_defects_as_mail_parser(path: Path) -> None:
    data = path.read_bytes()
    assert lean(data) == full(data)


@pytest.mark.parametrize("name", CRAFTED)
def test_each_kind_of_defect_is_still_reported(name: str) -> None:
    data, defect = CRAFTED[name]
    assert lean(data) == full(data)
    mail = parse_mail(RawMail(data, Origin("eml", name)))
    assert any(d.startswith(defect) for d in mail.defects), mail.defects


def test_an_attachment_is_still_listed_and_the_date_read() -> None:
    mail = parse_mail(RawMail(CRAFTED["mime-header"][0], Origin("eml", "a")))
    assert [(a.content_type, a.size) for a in mail.attachments] == [("application/pdf", 5)]
    assert mail.date is not None and mail.date.isoformat() == "2025-12-01T10:00:00+00:00"


def test_too_deep_a_mail_fails_as_with_mail_parser() -> None:
    data = HEAD + MIME + b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                                  for i in range(2000)) + b"\r\nx\r\n"
    assert lean(data) == full(data) == ("raises", "MailParserRecursionError")
    with pytest.raises(MalformedMail):
        parse_mail(RawMail(data, Origin("eml", "deep")))


HEADERS = st.sampled_from([
    b"Received: from a.example (a.example [192.0.2.1]) by b.example; Mon, 1 Dec 2025 10:00:00 +0000",
    b"Received: from [[[ by ;;; with", b"Received: by x; 99 Foo", b"Date: not a date", b"Resent-Date: 1 Dec 2025",
    b"Date: Mon, 1 Dec 2025 10:00:00 +0900", b"From: =?utf-8?b?A?= <a@example.com>", b"To: \"a, b\" <c@d>, e@",
    b"Cc: =?iso-2022-jp?b?GyRCJUYlOSVIGyhC?= <x@y>", b"Reply-To: <<>>", b"From: \xe3\x81\x82 <a@b.example>",
    b"Bcc: =?utf-8?q?" + b"A" * 120 + b"?= <z@z>", b"X-Junk \x00 no colon", b"Subject: =?x-bad?q?hi?=",
])
PARTS = st.sampled_from([
    b"Content-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: base64\r\n\r\ngIGCg4SFhoeI",
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xe3\x81\x82\xff",
    b"Content-Type: text/html; charset=iso-2022-jp\r\n\r\n\x1b$B$\"\x1b(B",
    b"Content-Type: application/pdf; name=\"\xff.pdf\"\r\nContent-Disposition: attachment\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=",
    b"Content-Type: image/png\r\nContent-ID: <i>\r\n\r\n\x89PNG", b"Content-Type: text/rtf\r\n\r\n{\\rtf1}",
    b"Content-Type: text/plain; charset=rot13\r\nContent-Disposition: inline; filename=a.txt\r\n\r\nhi",
    b"Content-Type: multipart/alternative; boundary=IN\r\n\r\n--IN\r\nContent-Type: text/plain\r\n\r\nx\r\n--IN--",
    b"Content-Type: message/rfc822\r\n\r\nFrom: a@b\r\nSubject: inner\r\n\r\nhi", b"Content-Type: text/",
])


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HEADERS, max_size=6), st.lists(PARTS, max_size=4), st.booleans())
def test_same_as_mail_parser_on_mails_put_together(headers: list[bytes], parts: list[bytes], closed: bool) -> None:
    body = b"".join(b"--XX\r\n" + p + b"\r\n" for p in parts) + (b"--XX--\r\n" if closed else b"")
    data = b"\r\n".join(headers) + b"\r\n" + HEAD + MIME + b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n" + body
    assert lean(data) == full(data)
