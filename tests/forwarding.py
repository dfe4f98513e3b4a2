"""Forwards the tests write: an original mail forwarded as an attachment, as an .eml file, or inline in the
block each common mail client writes (text or HTML, English or Japanese client)."""

from __future__ import annotations

import base64
import email
import email.policy
import html
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime

from tests.mails import passing_verdict
from triage.mail import Origin, RawMail
from triage.parse import parse_mail

FORWARDER = "me@example.jp"
JST = timezone(timedelta(hours=9))
FORWARDED_AT = datetime(2026, 11, 12, 1, 30, tzinfo=UTC)
FORGED = ("mx.google.com; dkim=fail header.d=example.jp; spf=fail smtp.mailfrom=example.jp; "
          "dmarc=fail header.from=example.jp")

_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_JA_DAYS = "月火水木金土日"


def _gmail_date(t: datetime) -> str:
    return f"{_EN_DAYS[t.weekday()][:3]}, {_EN_MONTHS[t.month - 1][:3]} {t.day}, {t.year} at {_ampm(t)}"


def _ampm(t: datetime) -> str:
    return f"{(t.hour % 12) or 12}:{t.minute:02d} {'PM' if t.hour >= 12 else 'AM'}"


def _ja_date(t: datetime) -> str:
    return f"{t.year}年{t.month}月{t.day}日({_JA_DAYS[t.weekday()]}) {t.hour}:{t.minute:02d}"


def _block(client: str, sender: str, to: str, subject: str, date: datetime | None) -> list[str]:
    """The lines a client writes above the forwarded body; dates in the forwarder's zone (JST)."""
    t = (date or FORWARDED_AT).astimezone(JST)
    if client == "gmail":
        return ["---------- Forwarded message ---------", f"From: {sender}", f"Date: {_gmail_date(t)}",
                f"Subject: {subject}", f"To: <{to}>", "", ""]
    if client == "outlook":
        day = f"{_EN_DAYS[t.weekday()]}, {_EN_MONTHS[t.month - 1]} {t.day}, {t.year} {_ampm(t)}"
        return ["________________________________", f"From: {sender}", f"Sent: {day}", f"To: {to}",
                f"Subject: {subject}", ""]
    if client == "outlook-ja":
        return ["________________________________", f"差出人: {sender}", f"送信日時: {t.year}年{t.month}月{t.day}日 "
                f"{t.hour}:{t.minute:02d}", f"宛先: {to}", f"件名: {subject}", ""]
    if client == "apple-mail":
        day = f"{_EN_MONTHS[t.month - 1]} {t.day}, {t.year} at {t.hour}:{t.minute:02d}:00 GMT+9"
        return ["Begin forwarded message:", "", f"From: {sender}", f"Subject: {subject}", f"Date: {day}",
                f"To: {to}", ""]
    if client == "apple-mail-ja":
        return ["転送されたメッセージ:", "", f"差出人: {sender}", f"件名: {subject}",
                f"日付: {t.year}年{t.month}月{t.day}日 {t.hour}:{t.minute:02d}:00 JST", f"宛先: {to}", ""]
    if client == "thunderbird":
        return ["-------- Forwarded Message --------", f"Subject: \t{subject}", f"Date: \t{format_datetime(t)}",
                f"From: \t{sender}", f"To: \t{to}", "", "", ""]
    if client == "thunderbird-ja":
        return ["-------- 転送メッセージ --------", f"件名: \t{subject}", f"日付: \t{format_datetime(t)}",
                f"差出人: \t{sender}", f"宛先: \t{to}", "", ""]
    if client == "original-message":
        name, _, addr = sender.rpartition(" <")
        day = f"{_EN_DAYS[t.weekday()]}, {_EN_MONTHS[t.month - 1]} {t.day:02d}, {t.year} {_ampm(t)}"
        return ["-----Original Message-----", f"From: {name} [mailto:{addr.rstrip('>')}]", f"Sent: {day}",
                f"To: {to}", f"Subject: {subject}", ""]
    raise ValueError(client)


INLINE_CLIENTS = ("gmail", "outlook", "outlook-ja", "apple-mail", "apple-mail-ja", "thunderbird", "thunderbird-ja",
                  "original-message")


def _envelope(subject: str, *, sender: str, auth: str | None, message_id: str, to: str) -> list[str]:
    lines = []
    if auth is not None:
        lines.append(f"Authentication-Results: {auth}")
    lines += [f"From: Taro Yamada <{sender}>", f"To: {to}", f"Subject: {Header(subject, 'utf-8').encode()}",
              f"Date: {format_datetime(FORWARDED_AT.astimezone(JST))}", f"Message-ID: {message_id}",
              "MIME-Version: 1.0"]
    return lines


def inline(original: bytes, client: str, *, as_html: bool = False, sender: str = FORWARDER,
           auth: str | None = "pass", message_id: str = "<fwd-1@mail.example.jp>",
           to: str = "triage@example.jp", note: str = "これは本物？どうすればいいですか。",
           subject: str | None = None) -> bytes:
    """`original` forwarded inline by `client`: its From, Date, Subject in the block, its text below."""
    mail = parse_mail(RawMail(original, Origin("eml", "original")))
    lines = [note, "", *_block(client, str(mail.sender), mail.to[0].address if mail.to else "owner@example.jp",
                                 mail.subject, mail.date), *mail.text.split("\n")]
    verdict = passing_verdict(sender) if auth == "pass" else auth
    head = _envelope(f"Fwd: {mail.subject}" if subject is None else subject, sender=sender, auth=verdict,
                     message_id=message_id, to=to)
    if as_html:
        body = "".join(f"{html.escape(line)}<br>\n" for line in lines)
        part = f'<html><body><div dir="ltr">{body}</div></body></html>'
        text_part = ["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64"]
    else:
        part = "\n".join(lines) + "\n"
        text_part = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"]
    encoded = base64.encodebytes(part.encode("utf-8")).decode("ascii")
    files = _files(original)
    if not files:
        return ("\n".join([*head, *text_part]) + "\n\n" + encoded).encode("ascii")
    # The clients keep the original's attachments on an inline forward.
    boundary = "fwd-inline-7"
    out = "\n".join([*head, f'Content-Type: multipart/mixed; boundary="{boundary}"']) + "\n\n"
    out += f"--{boundary}\n" + "\n".join(text_part) + "\n\n" + encoded + "\n"
    for part_bytes in files:
        out += f"--{boundary}\n" + part_bytes.decode("ascii") + "\n"
    return (out + f"--{boundary}--\n").encode("ascii")


def _files(original: bytes) -> list[bytes]:
    """The original's attached files, as MIME parts."""
    message = email.message_from_bytes(original, policy=email.policy.default)
    out = []
    for part in message.walk():
        name = part.get_filename()
        if part.is_multipart() or not name:
            continue
        data = base64.encodebytes(part.get_payload(decode=True) or b"").decode("ascii")
        encoded = Header(name, "utf-8").encode()
        out.append((f'Content-Type: {part.get_content_type()}; name="{encoded}"\n'
                    f'Content-Disposition: attachment; filename="{encoded}"\n'
                    f"Content-Transfer-Encoding: base64\n\n{data}").encode("ascii"))
    return out


def attached(*originals: bytes, eml_files: bool = False, sender: str = FORWARDER, auth: str | None = "pass",
             message_id: str = "<fwd-att-1@mail.example.jp>", to: str = "triage@example.jp") -> bytes:
    """`originals` forwarded as attachments: message/rfc822 parts holding their bytes unchanged, or .eml files."""
    first = parse_mail(RawMail(originals[0], Origin("eml", "original")))
    verdict = passing_verdict(sender) if auth == "pass" else auth
    boundary = "fwd-boundary-42"
    head = _envelope(f"Fwd: {first.subject}", sender=sender, auth=verdict, message_id=message_id, to=to)
    head.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    out = "\n".join(head).encode("utf-8") + b"\n\n"
    out += (f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n"
            "Is this real? What should I do?\n\n").encode()
    for i, original in enumerate(originals):
        out += f"--{boundary}\n".encode()
        if eml_files:
            encoded = base64.encodebytes(original)
            out += (f'Content-Type: application/octet-stream; name="notice-{i}.eml"\n'
                    f'Content-Disposition: attachment; filename="notice-{i}.eml"\n'
                    "Content-Transfer-Encoding: base64\n\n").encode() + encoded + b"\n"
        else:
            out += (f'Content-Type: message/rfc822\nContent-Disposition: attachment; filename="notice-{i}.eml"\n\n'
                    ).encode() + original.rstrip(b"\n") + b"\n\n"
    out += f"--{boundary}--\n".encode()
    return out
