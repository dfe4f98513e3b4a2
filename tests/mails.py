"""Mails the tests write: a builder for realistic AWS and non-AWS messages, and ways to store them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

TRUSTED_PASS = "trusted-pass"  # build() fills in a passing verdict aligned with the sender's own domain


def passing_verdict(sender: str) -> str:
    """What mx.google.com writes for a mail its signer really sent: DKIM, SPF and DMARC aligned with From."""
    domain = sender.rpartition("@")[2].rstrip(">").lower()
    return (f"mx.google.com; dkim=pass header.i=@{domain} header.s=sel1; spf=pass smtp.mailfrom={domain}; "
            f"dmarc=pass header.from={domain}")


def build(
    sender: str,
    subject: str,
    body: str,
    *,
    message_id: str | None,
    date: datetime = datetime(2026, 11, 10, 6, 0, tzinfo=UTC),
    auth: str | None = TRUSTED_PASS,
    to: str = "owner@example.jp",
) -> bytes:
    m = EmailMessage()
    if auth:
        m["Authentication-Results"] = passing_verdict(sender) if auth == TRUSTED_PASS else auth
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = format_datetime(date)
    if message_id:
        m["Message-ID"] = message_id
    m.set_content(body)
    return m.as_bytes()


def compromise_notice(n: int = 1, case: str = "17100200301") -> bytes:
    prefix = "" if n == 1 else "RE:"
    return build(
        '"Amazon Web Services" <no-reply-aws@amazon.com>',
        f"{prefix}[CASE {case}] [ACTION REQUIRED] Your AWS account 123456789012 may be compromised",
        "We detected activity in your AWS account 123456789012 that suggests a third party has access.\n"
        "Please change the root password, delete unknown IAM users and enable MFA.\n",
        message_id=f"<case-{case}-{n}@support.amazon.com>",
        date=datetime(2026, 11, 10 + n, 6, 0, tzinfo=UTC),
    )


def budget_alert() -> bytes:
    return build('"AWS Budgets" <no-reply@budgets.amazonaws.com>',
                 "AWS Budgets: Monthly budget has exceeded your alert threshold",
                 "Account 123456789012. Budgeted $20.00, actual $4,812.55.\n",
                 message_id="<budget-1@budgets.amazonaws.com>")


def marketing() -> bytes:
    return build('"Amazon Web Services" <aws-marketing-email-replies@amazon.com>', "AWS Summit Tokyo: register now",
                 "Join us at the summit.\nTo unsubscribe, update your preferences.\n", message_id="<mkt-1@amazon.com>")


def newsletter(n: int) -> bytes:
    return build(f'"Tech Weekly" <news{n}@techweekly.example>', f"Ten laptop tips, part {n}",
                 "Nothing about clouds here.\n", message_id=f"<tw-{n}@techweekly.example>", auth=None)


def lookalike_sender() -> bytes:
    """Substring matches for a naive SEARCH ("laws", "jaws"), but not about AWS at all."""
    return build('"Jaws Fan Club" <laws@lawsuits.example>', "Weekly film night", "See you there.\n",
                 message_id="<jaws-1@lawsuits.example>", auth=None)


def aws_related() -> list[bytes]:
    return [compromise_notice(1), budget_alert(), marketing(), compromise_notice(2)]


def unrelated() -> list[bytes]:
    return [newsletter(1), newsletter(2), lookalike_sender()]


def write_mbox(path: Path, mails: list[bytes]) -> Path:
    with path.open("wb") as f:
        for m in mails:
            f.write(b"From MAILER-DAEMON Mon Nov  9 00:00:00 2026\n")
            body = b"\n".join((b">" + line if line.startswith(b"From ") else line) for line in m.split(b"\n"))
            f.write(body.rstrip(b"\n") + b"\n\n")
    return path


def write_maildir(root: Path, mails: list[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, m in enumerate(mails):
        (root / "cur" / f"{1700000000 + i}.M{i}P1.host:2,").write_bytes(m)
    return root


def write_eml_folder(folder: Path, mails: list[bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, m in enumerate(mails):
        (folder / f"{i:03d}.eml").write_bytes(m)
    return folder
