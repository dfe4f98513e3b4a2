"""Inline blocks of more mail clients: Outlook for Mac and for phones (From/Date/To, no "Sent"; 差出人/日付/宛先),
mutt's "Forwarded message from …", a forward whose original is quoted with ">", and a block that writes the
sender without angle brackets and the day as an ordinal (Proton Mail)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from tests.test_forward import FORMATS, mail_of
from triage.forward import find_originals

SUBJECT = "AWS Notification - Your Amazon EC2 Spot quota"
BODY = "Hello,\n\nWe increased the quota for account 330129847561 in eu-north-1.\n"


def forward(block: str) -> bytes:
    text = "見てください。\n\n" + block
    return ("From: Kenta <kenta@example.jp>\nTo: triage@example.jp\nSubject: FW: x\n"
            "Date: Fri, 20 Nov 2026 07:30:00 +0900\nMessage-ID: <more-1@example.jp>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(text.encode()).decode()).encode()


@pytest.mark.parametrize(("client", "block"), [
    ("outlook-mac", f"From: AWS <no-reply-aws@amazon.com>\nDate: Thursday, 19 November 2026 at 22:05\n"
                    f"To: Kenta <kenta@example.jp>\nSubject: {SUBJECT}\n\n{BODY}"),
    ("outlook-mac-ja", f"差出人: AWS <no-reply-aws@amazon.com>\n日付: 2026年11月19日 木曜日 22:05\n"
                       f"宛先: Kenta <kenta@example.jp>\n件名: {SUBJECT}\n\n{BODY}"),
    ("mutt", "----- Forwarded message from AWS <no-reply-aws@amazon.com> -----\n\n"
             "Date: Thu, 19 Nov 2026 13:05:00 +0000\n"
             f"From: AWS <no-reply-aws@amazon.com>\nTo: kenta@example.jp\nSubject: {SUBJECT}\n\n{BODY}\n"
             "----- End forwarded message -----\n"),
    ("apple-mail", "Begin forwarded message:\n\n" + "".join(
        f"> {line}\n" for line in (f"From: AWS <no-reply-aws@amazon.com>\nSubject: {SUBJECT}\n"
                                   "Date: November 19, 2026 at 22:05:00 GMT+9\nTo: kenta@example.jp\n\n"
                                   f"{BODY}").split("\n"))),
    ("thunderbird", f"------- Forwarded Message -------\nFrom: AWS no-reply-aws@amazon.com\n"
                    f"Date: On Thursday, November 19th, 2026 at 10:05 PM\nSubject: {SUBJECT}\n"
                    f"To: kenta@example.jp\n\n\n{BODY}"),
])
def test_the_block_gives_the_originals_sender_date_subject_and_words(client, block):
    [(original, how, named)] = find_originals(mail_of(forward(block)), FORMATS)
    assert (how, named) == ("inline", client)
    assert (original.sender.address, original.subject) == ("no-reply-aws@amazon.com", SUBJECT)
    assert original.date == datetime(2026, 11, 19, 13, 5, tzinfo=UTC)
    assert original.text.startswith("Hello,\n\nWe increased the quota")
