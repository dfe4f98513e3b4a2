"""The daemon's outbox: a summary is queued in the state, and delivered by SMTP until the server takes it.

Queued first, then sent: a summary the server cannot take now stays in the outbox and is retried with
backoff (a few seconds at first, at most a minute apart), whether or not new mail comes. An outage is one
log line when it begins and one when it ends, not a line per attempt.

Exactly once where SMTP allows it: the moment the server answers 250 to the DATA, the outbox row is marked
delivered and committed, before anything else happens; a summary already delivered is never queued again,
and a resend (after a failure) is the same mail with the same Message-ID. The one window SMTP leaves open
is a kill after the message went out but before the server's 250 arrived: the server may have the mail,
triage cannot know, and it sends it again (a mail client drops the repeat by its Message-ID).

The SMTP connection is kept between summaries and made again when the server has dropped it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import smtplib
import time
from collections.abc import Mapping

from triage.backoff import Backoff
from triage.config import SmtpSettings
from triage.errors import TriageError
from triage.notify import build_message, open_smtp
from triage.render import Summary
from triage.state import OutboxItem, State

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, state: State, settings: SmtpSettings, to: tuple[str, ...], env: Mapping[str, str],
                 backoff: Backoff) -> None:
        self.state, self.settings, self.to, self.env, self.backoff = state, settings, to, env, backoff
        self._smtp: smtplib.SMTP | None = None
        self._next_attempt = 0.0  # time.monotonic() of the next delivery attempt
        self._outage = ""  # what went wrong, while an outage lasts

    def configure(self, settings: SmtpSettings, to: tuple[str, ...]) -> None:
        """A reloaded config: a changed server means a new connection."""
        if settings != self.settings:
            self.close()
        self.settings, self.to = settings, to

    def send(self, summary: Summary) -> None:
        """The pipeline's `send`: queue the case's summary and deliver it now unless an outage is on."""
        self.queue(summary, "smtp")

    def queue(self, summary: Summary, channel: str) -> None:
        if self.state.outbox_put(summary.case_id, summary.digest, channel, dataclasses.asdict(summary)):
            self.deliver_due()

    def seconds_to_next(self) -> float | None:
        """How long until the next retry, when summaries wait; None when the outbox is empty."""
        if not self._outage:
            return None
        return max(0.0, self._next_attempt - time.monotonic())

    def deliver_due(self) -> int:
        """Deliver what waits, unless the backoff says not yet; returns how many were delivered."""
        if time.monotonic() < self._next_attempt:
            return 0
        delivered = 0
        pending = self.state.outbox_pending()
        for item in pending:
            try:
                self._deliver(item)
            except (TriageError, smtplib.SMTPException, OSError) as exc:
                self._failed(item, exc, waiting=len(pending) - delivered)
                return delivered
            delivered += 1
        if self._outage:
            log.warning("the SMTP server %s takes mail again; %d summaries delivered from the outbox",
                        self._where(), delivered)
        self._outage = ""
        self.backoff.reset()
        return delivered

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None

    def _deliver(self, item: OutboxItem) -> None:
        message = build_message(Summary(**item.summary), sender=self.settings.sender, to=self.to)
        reused = self._smtp is not None
        try:
            self._connection().send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            if not reused:
                raise
            # The server dropped the kept connection while it sat idle: try once on a new one.
            self._connection().send_message(message)
        except BaseException:
            self._drop()
            raise
        self.state.outbox_delivered(item)  # the 250 is in: commit it before anything else
        log.info("case %s: %s delivered", item.case_id, "reminder" if item.channel == "reminder" else "summary")

    def _failed(self, item: OutboxItem, exc: BaseException, *, waiting: int) -> None:
        reason = str(exc) or type(exc).__name__
        self.state.outbox_failed(item, reason)
        delay = self.backoff.delay()
        self._next_attempt = time.monotonic() + delay
        if not self._outage:
            log.error("cannot deliver through the SMTP server %s (%s); %d summaries wait in the outbox and are "
                      "retried every few seconds, at most a minute apart", self._where(), reason, waiting)
        self._outage = reason

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = open_smtp(self.settings, self.env)
        return self._smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"
