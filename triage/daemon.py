"""`triage daemon`: the scan pipeline forever, woken by IMAP IDLE, with reminders for unanswered cases.

One pass = one scan (the same pipeline as `triage scan`) followed by due reminders. Between passes the
daemon waits on IDLE in INBOX, and polls anyway every few minutes: IDLE watches one folder only (AWS's
fraud notices often land in Junk), and some providers drop or silently break IDLE. A dead connection
(an empty IDLE answer long before the timeout, a BYE, an OSError) is dropped and made again with
exponential backoff. Login and configuration errors end the daemon: retrying cannot fix them. The one
exception is OAuth2: every login runs the token command for a fresh token (tokens live about an hour), and
a refused token or a failed command is tried again with backoff, since the tool behind the command may
need a moment to refresh; only OAUTH2_REFUSALS in a row end the daemon.

The state stays open (and locked) for the daemon's whole life, so a `triage scan` on the same state
waits its turn instead of racing it.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from triage import paths
from triage.cases import ClassifiedMail
from triage.config import Config
from triage.errors import ConfigError, ExitStatus, ImapLoginError, NotifyError, SourceError, TokenCommandError
from triage.kinds import Kinds
from triage.pipeline import CaseOutcome, Context, ScanOptions, load_context, scan
from triage.relevance import load_narrowing
from triage.render import render_reminder
from triage.sources.imap import ImapSource
from triage.state import SentSummary, State, open_state

log = logging.getLogger(__name__)

REMIND_FOR_DAYS = 7  # reminders stop a week after the newest mail of a case
OAUTH2_REFUSALS = 3  # OAuth2 logins refused (or token commands failed) in a row before the daemon gives up


@dataclass(frozen=True)
class Timing:
    """How long to wait for what; tests shorten these."""

    idle_seconds: float = 10 * 60  # IDLE is re-issued well inside the 29 minutes RFC 2177 allows
    poll_seconds: float = 5 * 60  # a full pass at least this often, IDLE or not
    check_seconds: float = 5.0  # how often a wait looks at the stop flag
    backoff_first: float = 2.0
    backoff_max: float = 300.0


@dataclass
class Backoff:
    first: float
    maximum: float
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        self._next = min(self.maximum, self._next * 2 if self._next else self.first)
        return self._next * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = 0.0


class LogReporter:
    """The daemon prints nothing: what it finds goes to the log."""

    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None:
        log.info("mail %s: %s (%s)", record["message_id"], record["kind"], record["severity"])

    def skipped(self, where: str, reason: str) -> None:
        pass  # already logged by the pipeline

    def case(self, outcome: CaseOutcome) -> None:
        log.info("case %s: %s, summary %s", outcome.case.case_id, outcome.case.kind, outcome.delivery)

    def progress(self, done: int, total: int | None) -> None:
        pass


def run_daemon(config: Config, options: ScanOptions, state_path: str, env: Mapping[str, str], *,
               stop: threading.Event | None = None, timing: Timing | None = None) -> int:
    from triage.services import services_from_config

    if config.imap is None:
        raise ConfigError("the daemon needs an [imap] section in the config file")
    if config.smtp is None or not config.notify.to:
        raise ConfigError("the daemon needs [smtp] and [notify] to: it has no one to tell")
    rules_dir = paths.rules_dir(env)
    narrowing = load_narrowing(rules_dir, config.notify.allowed_forwarders)
    source = ImapSource(config.imap, narrowing=narrowing, max_bytes=config.mail.max_bytes, env=env)
    with open_state(state_path) as state:

        def context() -> Context:
            # Built anew for each pass: a stage that gave up "for this run" (DeepL's quota, say) tries again.
            services = services_from_config(config, options, env, state=state)
            return load_context(config, rules_dir, paths.templates_dir(env), options, services)

        context()  # a configuration error shows now, not after the first mail
        Daemon(context, source, state, stop or threading.Event(), timing or Timing()).run()
    return int(ExitStatus.OK)


class Daemon:
    def __init__(self, context: Callable[[], Context], source: ImapSource, state: State, stop: threading.Event,
                 timing: Timing) -> None:
        self.context, self.source, self.state, self.stop, self.timing = context, source, state, stop, timing
        self.backoff = Backoff(timing.backoff_first, timing.backoff_max)
        self.watcher: IMAPClient | None = None
        self.refusals = 0

    def run(self) -> None:
        log.info("daemon started for %s", self.source.mailbox_name("INBOX"))
        while not self.stop.is_set():
            try:
                self.one_pass()
                self.refusals = 0
                self.wait_for_mail()
                self.backoff.reset()
            except (ImapLoginError, TokenCommandError) as exc:
                self.refusals += 1
                oauth = isinstance(exc, TokenCommandError) or bool(self.source.settings.oauth2_token_command)
                if not oauth or self.refusals >= OAUTH2_REFUSALS:
                    raise
                self._try_again(exc)
            except ConfigError:
                raise
            except (SourceError, IMAPClientError, OSError) as exc:
                self._try_again(exc)
        self._drop_watcher()
        log.info("daemon stopped")

    def _try_again(self, exc: Exception) -> None:
        self._drop_watcher()
        delay = self.backoff.delay()
        log.warning("%s; trying again in %.0f s", exc, delay)
        self.stop.wait(delay)

    def one_pass(self) -> None:
        ctx = self.context()
        totals = scan(ctx, self.source, self.state, LogReporter())
        for error in totals.errors:
            log.error("%s", error)
        self.send_reminders(ctx, datetime.now(UTC))
        if totals.interrupted:
            raise SourceError(totals.interrupted)

    def send_reminders(self, ctx: Context, now: datetime) -> None:
        every = ctx.config.notify.remind_every_hours
        send = ctx.services.send
        if every <= 0 or send is None:
            return
        for sent in self.state.sent_summaries():
            if not reminder_due(sent, now, every, ctx.rules.kinds):
                continue
            reminder = render_reminder(sent, ctx.texts)
            try:
                send(reminder)
            except NotifyError as exc:
                log.error("reminder for case %s: %s", sent.case_id, exc)
                return
            self.state.record_summary(sent.case_id, reminder.digest, "reminder", subject=reminder.subject)
            log.info("reminder sent for case %s", sent.case_id)

    # --- waiting ---

    def wait_for_mail(self) -> None:
        """Return when INBOX reports new mail, the poll interval is over, or the daemon is stopped."""
        deadline = time.monotonic() + self.timing.poll_seconds
        if self.watcher is None and self._open_watcher():
            log.debug("INBOX got mail after the pass read it: another pass now")
            return
        watcher = self.watcher
        assert watcher is not None
        watcher.idle()
        idle_until = time.monotonic() + self.timing.idle_seconds
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                if time.monotonic() >= idle_until:  # re-issue IDLE before the server gives up on it
                    watcher.idle_done()
                    watcher.idle()
                    idle_until = time.monotonic() + self.timing.idle_seconds
                asked = time.monotonic()
                responses = watcher.idle_check(timeout=self.timing.check_seconds)
                if any(_is_bye(r) for r in responses):
                    raise SourceError("the IMAP server closed the IDLE connection")
                if not responses and time.monotonic() - asked < self.timing.check_seconds / 2:
                    # imapclient answers [] at once, forever, once the server has gone (issue #565).
                    raise SourceError("the IMAP IDLE connection is dead")
                if any(_is_new_mail(r) for r in responses):
                    log.debug("IDLE: new mail")
                    break
        finally:
            if self.watcher is not None:
                self._end_idle(watcher)

    def _open_watcher(self) -> bool:
        """Connect and select INBOX. True when INBOX already holds mail the last pass did not read: IDLE
        reports only what arrives after SELECT, so mail that came in between would wait for the next poll."""
        self.watcher = self.source.connect()
        info = self.watcher.select_folder("INBOX", readonly=True)
        stored = self.state.mailbox(self.source.mailbox_name("INBOX"))
        if stored is None:  # the pass kept no checkpoint (a delivery failed): the poll retries, no hurry
            return False
        if stored.uidvalidity != int(info[b"UIDVALIDITY"]):
            return True
        return int(info.get(b"UIDNEXT", 0)) - 1 > stored.last_uid

    def _end_idle(self, watcher: IMAPClient) -> None:
        try:
            for response in watcher.idle_done()[1]:
                if _is_bye(response):
                    self._drop_watcher()
        except (IMAPClientError, OSError):
            self._drop_watcher()

    def _drop_watcher(self) -> None:
        if self.watcher is not None:
            with contextlib.suppress(IMAPClientError, OSError):
                self.watcher.logout()
            self.watcher = None


def reminder_due(sent: SentSummary, now: datetime, every_hours: float, kinds: Kinds) -> bool:
    """A critical case of a `reminded` kind (rules/kinds.toml) is reminded every `every_hours` until a week
    after its newest mail. A rule that makes a kind's mail less than critical (a declined card is high, not
    a suspension yet) makes it less pressing too; a kind the table no longer holds is not reminded."""
    kind = kinds.get(sent.kind)
    if kind is None or not kind.reminded or sent.severity != "critical":
        return False
    if now - sent.last_sent_at < timedelta(hours=every_hours):
        return False
    newest = sent.last_mail_at or sent.sent_at
    return now - newest <= timedelta(days=REMIND_FOR_DAYS)


def _is_new_mail(response: object) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def _is_bye(response: object) -> bool:
    return isinstance(response, tuple) and len(response) >= 1 and response[0] == b"BYE"

