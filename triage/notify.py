"""Delivering a summary: by SMTP to `[notify] to`. (Printing is the CLI's job.)

Each summary carries a Message-ID derived from its case and the mails it covers, so even a repeat after
a crash between sending and recording is recognisable as the same message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate

from triage.config import SmtpSettings
from triage.errors import ConfigError, NotifyError, NotifyLoginError
from triage.inert import one_line
from triage.render import Summary

TIMEOUT = 30.0


def build_message(summary: Summary, *, sender: str, to: tuple[str, ...]) -> EmailMessage:
    """The summary as a mail. Every header value is one line: nothing from a mail can add a header."""
    message = EmailMessage()
    message["From"] = one_line(sender)
    message["To"] = one_line(", ".join(to))
    message["Subject"] = one_line(summary.subject)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = one_line(summary.message_id)
    message["X-Triage-Case"] = one_line(summary.case_id)
    message["X-Triage-Severity"] = one_line(summary.severity)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(summary.text, charset="utf-8")
    message.add_alternative(summary.html, subtype="html", charset="utf-8")
    return message


def smtp_sender(settings: SmtpSettings, to: tuple[str, ...], env: Mapping[str, str]) -> Callable[[Summary], None]:
    """A `send` function for the pipeline. Credentials are read now, so a missing one fails early."""
    if not to:
        raise ConfigError("[smtp] is configured but [notify] to is empty; add the owner's address")
    password = None
    if settings.user:
        name = settings.password_env or ""
        password = env.get(name)
        if not password:
            raise ConfigError(f"the SMTP password variable ${name} is not set; export it or fix [smtp] password_env")

    def send(summary: Summary) -> None:
        message = build_message(summary, sender=settings.sender, to=to)
        where = f"{settings.host}:{settings.port}"
        try:
            with _connect(settings) as smtp:
                if settings.user and password:
                    smtp.login(settings.user, password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError:
            # One refusal ends delivery for the run (the pipeline stops sending): retrying the same
            # password for every case only stalls the scan.
            raise NotifyLoginError(f"the SMTP server {where} refused the login for {settings.user}; "
                                   f"check [smtp] user and ${settings.password_env}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifyError(f"the SMTP server {where} refused the recipients "
                              f"{', '.join(exc.recipients)}; check [notify] to") from None
        except ssl.SSLError as exc:
            raise NotifyError(f"TLS with the SMTP server {where} failed ({exc.reason or exc}); "
                              f"check [smtp] tls and port") from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"cannot deliver the summary through {where} ({exc}); it will be retried "
                              f"on the next scan") from None

    return send


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.tls == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT, context=context)
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
    if settings.tls == "starttls":
        smtp.starttls(context=context)
    return smtp
