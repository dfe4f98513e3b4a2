"""`triage daemon`: the scan pipeline forever, woken by IMAP IDLE in every watched folder, with an outbox
that retries deliveries in seconds and reminders for critical cases until the owner acknowledges them.

One pass = one scan (the same pipeline as `triage scan`). Between passes the daemon waits on the source's
watch (triage.sources.imap: one IDLE connection per folder, INBOX and Junk by default, each with its own
reconnect and backoff) and polls anyway every few minutes, since some providers drop or silently break
IDLE. Summaries go through the outbox (triage.outbox), which is tried again every few seconds while the
SMTP server is away, independent of new mail. Reminders and acknowledgements are looked at every few
seconds, so a `triage ack` from another shell takes effect at once.

Nothing that goes wrong in one pass ends the daemon: a lost connection or an unexpected error is logged
and the pass is tried again with backoff. Login and configuration errors end it (exit 2): retrying
cannot fix them. The one exception is OAuth2: every login runs the token command for a fresh token
(tokens live about an hour), and a refused token or a failed command is tried again with backoff, since
the tool behind the command may need a moment to refresh; only OAUTH2_REFUSALS in a row end the daemon.

SIGHUP (`reload`) reads the config, rules and templates again; a new config that does not load is refused
with one log line and the old one kept. The IDLE connections are made again only when [imap] changed,
the SMTP connection only when [smtp] changed.

The state's lock is held for the daemon's whole life, so a `triage scan` on the same state is refused
instead of racing it; `triage status` and `triage ack` open it beside the daemon (see triage.state).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jinja2
from imapclient.exceptions import IMAPClientError

from triage import paths
from triage.backoff import Backoff
from triage.cases import ClassifiedMail
from triage.config import Config, SmtpSettings
from triage.errors import (
    ConfigError,
    ExitStatus,
    ImapLoginError,
    RulesError,
    TokenCommandError,
    TriageError,
)
from triage.kinds import Kinds
from triage.outbox import Outbox
from triage.outcomes import CaseOutcome, Skipped
from triage.pipeline import Context, ScanOptions, Services, load_context, scan
from triage.relevance import load_narrowing
from triage.render import check_templates, render_reminder
from triage.sources.imap import ImapSource, Watch, WatchTiming
from triage.state import SentSummary, State, open_state

log = logging.getLogger(__name__)

OAUTH2_REFUSALS = 3  # OAuth2 logins refused (or token commands failed) in a row before the daemon gives up


@dataclass(frozen=True)
class Timing:
    """How long to wait for what; tests shorten these."""

    idle_seconds: float = 10 * 60  # IDLE is re-issued well inside the 29 minutes RFC 2177 allows
    poll_seconds: float = 5 * 60  # a full pass at least this often, IDLE or not
    check_seconds: float = 5.0  # how often the daemon looks at the stop flag, the outbox, reminders, acks
    backoff_first: float = 2.0
    backoff_max: float = 300.0
    outbox_first: float = 3.0  # the first retry of an undelivered summary
    outbox_max: float = 60.0  # and the longest wait between two

    def watch(self) -> WatchTiming:
        return WatchTiming(idle_seconds=self.idle_seconds, check_seconds=self.check_seconds,
                           backoff_first=self.backoff_first, backoff_max=self.backoff_max)


class LogReporter:
    """The daemon prints nothing: what it finds goes to the log."""

    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None:
        log.info("mail %s: %s (%s)", record["message_id"], record["kind"], record["severity"])

    def skipped(self, item: Skipped) -> None:
        if item.alarm is not None:
            log.info("unreadable AWS-looking mail %s: alarm %s", item.where, item.delivery)

    def case(self, outcome: CaseOutcome) -> None:
        # "sent" to the daemon's outbox: the outbox says "delivered" once the server took it
        delivery = "queued" if outcome.delivery == "sent" else outcome.delivery
        log.info("case %s: %s, summary %s", outcome.case.case_id, outcome.case.kind, delivery)

    def progress(self, done: int, total: int | None) -> None:
        pass


def run_daemon(config: Config, options: ScanOptions, state_path: str, env: Mapping[str, str], *,
               stop: threading.Event | None = None, timing: Timing | None = None,
               reload: Callable[[], Config] | None = None, reload_asked: threading.Event | None = None) -> int:
    """`reload` reads the config again; it is called when `reload_asked` is set (by SIGHUP)."""
    _needs(config)
    with open_state(state_path) as state:
        daemon = Daemon(config, options, env, state, stop or threading.Event(), timing or Timing())
        daemon.reload, daemon.reload_asked = reload, reload_asked or threading.Event()
        daemon.run()
    return int(ExitStatus.OK)


def _needs(config: Config) -> SmtpSettings:
    if config.imap is None:
        raise ConfigError("the daemon needs an [imap] section in the config file")
    if config.smtp is None or not config.notify.to:
        raise ConfigError("the daemon needs [smtp] and [notify] to: it has no one to tell")
    return config.smtp


@dataclass(frozen=True)
class Loaded:
    """What a config makes: the rules and templates (the Jinja environment is built once here) and the
    source. Services are made anew for each pass: a stage that gave up "for this run" tries again."""

    config: Config
    context: Context
    source: ImapSource


class Daemon:
    def __init__(self, config: Config, options: ScanOptions, env: Mapping[str, str], state: State,
                 stop: threading.Event, timing: Timing) -> None:
        self.options, self.env, self.state, self.stop, self.timing = options, env, state, stop, timing
        self.reload: Callable[[], Config] | None = None
        self.reload_asked = threading.Event()
        self.loaded = self._load(config)  # a configuration error shows now, not after the first mail
        self.outbox = Outbox(state, _needs(config), config.notify.to, env,
                             Backoff(timing.outbox_first, timing.outbox_max))
        self.backoff = Backoff(timing.backoff_first, timing.backoff_max)
        self.watch: Watch | None = None
        self.refusals = 0

    @property
    def source(self) -> ImapSource:
        return self.loaded.source

    def _load(self, config: Config) -> Loaded:
        _needs(config)
        assert config.imap is not None
        rules_dir = paths.rules_dir(self.env)
        narrowing = load_narrowing(rules_dir, config.notify.allowed_forwarders)
        source = ImapSource(config.imap, narrowing=narrowing, max_bytes=config.mail.max_bytes, env=self.env)
        context = load_context(config, rules_dir, paths.templates_dir(self.env), self.options, self._services(config))
        _compile_templates(context)
        return Loaded(config, context, source)

    def _services(self, config: Config) -> Services:
        from triage.services import services_from_config

        return services_from_config(config, self.options, self.env, state=self.state)

    # --- the loop ---

    def run(self) -> None:
        log.info("daemon started for %s", self.source.mailbox_name("INBOX"))
        next_pass = time.monotonic()
        changed = True
        try:
            while not self.stop.is_set():
                self._reload_if_asked()
                if changed or time.monotonic() >= next_pass:
                    delay = self._pass()
                    next_pass = time.monotonic() + (self.timing.poll_seconds if delay is None else delay)
                self._guarded(self.outbox.deliver_due)
                self._guarded(lambda: self.send_reminders(datetime.now(UTC)))
                changed = self._wait(next_pass)
        finally:
            if self.watch is not None:
                self.watch.close()
            self.outbox.close()
        log.info("daemon stopped")

    def _guarded(self, step: Callable[[], object]) -> None:
        """Deliveries and reminders: what goes wrong is logged and tried again on the next round."""
        try:
            step()
        except Exception:
            log.exception("unexpected error; the daemon goes on and tries again")

    def _wait(self, next_pass: float) -> bool:
        """Wait until the next pass is due, or something to look at: True when a folder reported a change."""
        until = min(next_pass, time.monotonic() + self.timing.check_seconds)
        retry = self.outbox.seconds_to_next()
        if retry is not None:
            until = min(until, time.monotonic() + retry)
        timeout = until - time.monotonic()
        if self.watch is None:
            self.stop.wait(max(0.0, timeout))
            return False
        return self.watch.wait(timeout)

    def _pass(self) -> float | None:
        """One pass; None when it went through, else how long to wait before the next try."""
        try:
            self.one_pass()
            self.refusals = 0
            self.backoff.reset()
            if self.watch is None:  # after the first pass: its login showed the credentials work
                self.watch = self.source.watch(self.timing.watch())
            self._record_passes("ok")
            return None
        except (ImapLoginError, TokenCommandError) as exc:
            self.refusals += 1
            oauth = isinstance(exc, TokenCommandError) or bool(self.source.settings.oauth2_token_command)
            if not oauth or self.refusals >= OAUTH2_REFUSALS:
                raise
            return self._try_again(exc)
        except ConfigError:
            raise
        except (TriageError, IMAPClientError, OSError) as exc:
            return self._try_again(exc)
        except Exception as exc:  # a bug, a locked state, a stage gone wrong: logged, and the daemon goes on
            log.exception("the pass failed unexpectedly; the daemon goes on")
            return self._try_again(exc)

    def _try_again(self, exc: Exception) -> float:
        delay = self.backoff.delay()
        log.warning("%s; trying again in %.0f s", exc, delay)
        self._guarded(lambda: self._record_passes(str(exc) or type(exc).__name__))
        return delay

    def _record_passes(self, outcome: str) -> None:
        folders = self.watch.folders if self.watch is not None else ("INBOX",)
        for folder in folders:
            self.state.record_pass(self.source.mailbox_name(folder), outcome)

    def one_pass(self) -> None:
        ctx = dataclasses.replace(self.loaded.context, services=dataclasses.replace(
            self._services(self.loaded.config), send=self.outbox.send))
        totals = scan(ctx, self.source, self.state, LogReporter())
        for error in totals.errors:
            log.error("%s", error)
        if totals.interrupted is not None:
            raise totals.interrupted

    def send_reminders(self, now: datetime) -> None:
        every = self.loaded.config.notify.remind_every_hours
        if every <= 0:
            return
        waiting = {item.case_id for item in self.state.outbox_pending()}
        for sent in self.state.sent_summaries():
            if sent.case_id in waiting or not reminder_due(sent, now, every, self.loaded.context.rules.kinds):
                continue
            reminder = render_reminder(sent, self.loaded.context.texts)
            self.state.record_summary(sent.case_id, reminder.digest, "reminder", subject=reminder.subject)
            self.outbox.queue(reminder, "reminder")

    # --- SIGHUP ---

    def _reload_if_asked(self) -> None:
        if not self.reload_asked.is_set() or self.reload is None:
            return
        self.reload_asked.clear()
        try:
            config = self.reload()
            loaded = self._load(config)
        except TriageError as exc:
            log.error("the new configuration is refused, the old one stays in use: %s", exc)
            return
        if config.imap != self.loaded.config.imap and self.watch is not None:
            self.watch.close()  # the next pass makes the IDLE connections again, with the new settings
            self.watch = None
        self.outbox.configure(_needs(config), config.notify.to)
        self.loaded = loaded
        log.warning("configuration reloaded")


def _compile_templates(context: Context) -> None:
    """Every template a summary, a reminder or an alarm is made of, compiled now: one that does not compile
    is refused at start and at SIGHUP, not at the next case, and the first summary does not wait for the
    compiler. The terminal's templates are not among them: they use the terminal's own filters."""
    env = context.texts.env
    for name in sorted(check_templates(context.texts.templates_dir)):
        try:
            env.get_template(name)
        except jinja2.TemplateError as exc:
            raise RulesError(f"template {name} does not compile: {exc}") from None


def reminder_due(sent: SentSummary, now: datetime, every_hours: float, kinds: Kinds) -> bool:
    """A critical case of a `reminded` kind (rules/kinds.toml) is reminded every `every_hours` until the
    owner acknowledges it (`triage ack`); a newer mail on the case re-opens it. A rule that makes a kind's
    mail less than critical (a declined card is high, not a suspension yet) makes it less pressing too; a
    kind the table no longer holds is not reminded."""
    kind = kinds.get(sent.kind)
    if kind is None or not kind.reminded or sent.severity != "critical" or sent.acknowledged:
        return False
    return now - sent.last_sent_at >= timedelta(hours=every_hours)
