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

from triage import oauth2
from triage.config import SmtpSettings
from triage.errors import ConfigError, NotifyError, NotifyLoginError
from triage.inert import one_line
from triage.render import Summary

TIMEOUT = 30.0


def build_message(summary: Summary, *, sender: str, to: tuple[str, ...]) -> EmailMessage:
    """The summary as a mail. Every header value is one line: nothing from a mail can add a header."""
    message = EmailMessage()
    message["From"] = one_line(sender)
    message["To"] = one_line(", ".join(summary.recipients or to))
    message["Subject"] = one_line(summary.subject)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = one_line(summary.message_id)
    if summary.in_reply_to:  # a reply to a forward: its Message-ID, validated in triage.forward
        message["In-Reply-To"] = one_line(summary.in_reply_to)
        message["References"] = one_line(summary.in_reply_to)
    message["X-Triage-Case"] = one_line(summary.case_id)
    message["X-Triage-Severity"] = one_line(summary.severity)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(summary.text, charset="utf-8")
    message.add_alternative(summary.html, subtype="html", charset="utf-8")
    for attachment in summary.attachments:  # the text and HTML stay one multipart/alternative inside
        message.add_attachment(attachment.data, maintype=attachment.maintype, subtype=attachment.subtype,
                               filename=attachment.filename)
    return message


def smtp_sender(settings: SmtpSettings, to: tuple[str, ...], env: Mapping[str, str]) -> Callable[[Summary], None]:
    """A `send` function for the pipeline. Credentials are read now, so a missing one fails early."""
    if not to:
        raise ConfigError("[smtp] is configured but [notify] to is empty; add the owner's address")
    password = None
    if settings.oauth2_token_command:
        _token_command(settings).check()
    elif settings.user:
        name = settings.password_env or ""
        password = env.get(name)
        if not password:
            raise ConfigError(f"the SMTP password variable ${name} is not set; export it or fix [smtp] password_env")

    def send(summary: Summary) -> None:
        message = build_message(summary, sender=settings.sender, to=to)
        where = f"{settings.host}:{settings.port}"
        try:
            with _connect(settings) as smtp:
                if settings.oauth2_token_command:
                    _oauth2_login(smtp, settings)
                elif settings.user and password:
                    smtp.login(settings.user, password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError:
            # One refusal ends delivery for the run (the pipeline stops sending): retrying the same
            # credentials for every case only stalls the scan.
            if settings.oauth2_token_command:
                raise NotifyLoginError(f"the SMTP server {where} refused the OAuth2 token for {settings.user} "
                                       f"({oauth2.LOGIN_ATTEMPTS} fresh tokens from [smtp] oauth2_token_command); "
                                       f"check [smtp] user and that the token allows sending mail") from None
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


def _token_command(settings: SmtpSettings) -> oauth2.TokenCommand:
    return oauth2.TokenCommand(settings.oauth2_token_command or "", "smtp")


def _oauth2_login(smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
    smtp.ehlo_or_helo_if_needed()
    offered = smtp.esmtp_features.get("auth", "").split()
    mechanism = oauth2.choose_mechanism(offered)
    if mechanism is None:
        raise NotifyError(f"the SMTP server {settings.host}:{settings.port} offers no OAuth2 login (neither "
                          f"OAUTHBEARER nor XOAUTH2; it offers {', '.join(offered) or 'no AUTH'}); "
                          f"use [smtp] password_env instead")

    def authenticate(mech: str, exchange: oauth2.SaslExchange) -> None:
        smtp.auth(mech, exchange)

    oauth2.login(authenticate, smtplib.SMTPAuthenticationError, command=_token_command(settings),
                 mechanism=mechanism, user=settings.user or "", host=settings.host, port=settings.port)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """A connection, with TLS as configured. The TLS context (it loads the system's CA certificates, a fifth
    of a second and a few MB each time) is made only when TLS is used."""
    if settings.tls == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT, context=ssl.create_default_context())
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
    if settings.tls == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp


def open_smtp(settings: SmtpSettings, env: Mapping[str, str]) -> smtplib.SMTP:
    """A connection that is logged in and ready to send, for a caller that keeps it (the daemon's outbox)."""
    smtp = _connect(settings)
    try:
        if settings.oauth2_token_command:
            _oauth2_login(smtp, settings)
        elif settings.user:
            smtp.login(settings.user, env.get(settings.password_env or "", ""))
    except BaseException:
        smtp.close()
        raise
    return smtp
