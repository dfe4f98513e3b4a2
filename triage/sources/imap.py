"""IMAP through imapclient: read-only, narrowed on the server, incremental by UID.

Folders are selected read-only and bodies fetched with BODY.PEEK, so no flag changes. A server-side SEARCH
on the sender and subject narrows each folder to candidate mail before any body is fetched; the caller's
`wanted` predicate then re-checks the decoded headers in Python (SEARCH FROM is a substring match over
the whole header). UIDVALIDITY and the last UID read are kept per folder, so the next scan asks only for
newer UIDs; a changed UIDVALIDITY means the UIDs mean nothing any more, and the folder is read again.

`watch()` is how the daemon waits for mail: one IDLE connection per folder, each on its own thread with its
own reconnect and backoff, re-issued well inside the 29 minutes RFC 2177 allows; a dead connection (a BYE,
an empty answer long before the timeout, imapclient issue #565) is dropped and made again. The watch only
says "something changed"; the next scan asks by UID, since EXISTS counts messages, not UIDs.

This module knows IMAP and nothing of AWS.
"""

from __future__ import annotations

import contextlib
import logging
import re
import ssl
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import JUNK

from triage.backoff import Backoff
from triage.errors import (
    ConfigError,
    ImapConnectError,
    ImapLoginError,
    SourceError,
    SourceLostError,
    TriageError,
)
from triage.headers import decode_header, split_addresses, unfold
from triage.mail import Origin, RawMail, normalize_message_id
from triage.sources.batches import Batch, Checkpoint, mailbox_changed
from triage.sources.narrowing import Headers, Narrowing

if TYPE_CHECKING:
    from triage.config import ImapSettings
    from triage.state import State

log = logging.getLogger(__name__)

HEADER_FIELDS = "FROM SENDER REPLY-TO RETURN-PATH SUBJECT MESSAGE-ID LIST-ID DKIM-SIGNATURE"
HEADER_CHUNK = 1000  # UIDs per FETCH of headers (Dovecot refuses command lines over ~64 KB)
BODY_CHUNK = 25  # bodies per FETCH: bounds memory and the work lost to a dropped connection
BODY_BYTES = 32 * 1024 * 1024  # and at most this much mail per FETCH (a single larger mail goes alone)
TIMEOUT = 60.0


class ImapSource:
    name = "imap"

    def __init__(
        self,
        settings: ImapSettings,
        *,
        narrowing: Narrowing,
        max_bytes: int,
        env: Mapping[str, str],
        since: date | None = None,
    ) -> None:
        self.settings = settings
        self.narrowing = narrowing
        self.max_bytes = max_bytes
        self.env = env
        self.since = since  # only mail the server received from that day on (SEARCH SINCE)
        self.folders: list[str] = []  # what the last scan read: the folders a watch idles on
        self._context: ssl.SSLContext | None = None

    def mailbox_name(self, folder: str) -> str:
        s = self.settings
        return f"imap://{s.user}@{s.host}:{s.port}/{folder}"

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        client = self.connect()
        handed = 0  # mails handed over so far: the running total counts the folders read before
        try:
            self.folders = self._folders(client)
            for folder in self.folders:
                before = handed
                for batch in self._read_folder(client, folder, state, rescan=rescan):
                    handed += len(batch.mails) + len(batch.unreadable)
                    yield replace(batch, total=before + (batch.total or 0))
        except (IMAPClientError, OSError) as exc:
            raise SourceLostError(f"lost the IMAP connection to {self.settings.host}: {exc}; "
                                  f"mail read so far is kept") from None
        finally:
            _logout(client)

    def watch(self, timing: WatchTiming) -> Watch:
        """Start IDLE on every folder the last scan read; the daemon waits on the result between passes."""
        return Watch(self, self.folders or ["INBOX"], timing)

    # --- connection ---

    def connect(self) -> IMAPClient:
        s = self.settings
        context = self._tls_context()
        try:
            client = IMAPClient(s.host, port=s.port, ssl=s.tls == "ssl", ssl_context=context, timeout=TIMEOUT)
            if s.tls == "starttls":
                client.starttls(context)
        except ssl.SSLError as exc:
            raise ImapConnectError(
                f"TLS with the IMAP server {s.host}:{s.port} failed ({exc.reason or exc}); check [imap] tls and "
                f"port (993 is TLS, 143 is STARTTLS) and that the server's certificate is trusted"
            ) from None
        except (OSError, IMAPClientError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            raise ImapConnectError(f"cannot reach the IMAP server {s.host}:{s.port} ({reason}); "
                                   f"check [imap] host and port and the network") from None
        client.normalise_times = False
        try:
            if s.oauth2_token_command:
                self._oauth2_login(client)
            else:
                client.login(s.user, self._password())
        except LoginError:
            _logout(client)
            if s.oauth2_token_command:
                from triage import oauth2

                raise ImapLoginError(
                    f"the IMAP server {s.host} refused the OAuth2 token for {s.user} ({oauth2.LOGIN_ATTEMPTS} "
                    f"fresh tokens from [imap] oauth2_token_command); check [imap] user and that the token "
                    f"is for this account with IMAP access") from None
            raise ImapLoginError(f"the IMAP server {s.host} refused the login for {s.user}; "
                                 f"check [imap] user and ${s.password_env}") from None
        except (IMAPClientError, OSError) as exc:
            _logout(client)
            raise ImapConnectError(f"the IMAP server {s.host} failed during login: {exc}") from None
        except BaseException:
            _logout(client)
            raise
        return client

    def _tls_context(self) -> ssl.SSLContext | None:
        """Made once per source and only for TLS: loading the trust store costs a noticeable part of a
        push's latency when done for every connection."""
        if self.settings.tls == "none":
            return None
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _password(self) -> str:
        name = self.settings.password_env or ""
        value = self.env.get(name)
        if not value:
            raise ConfigError(f"the IMAP password variable ${name} is not set; export it or fix "
                              f"[imap] password_env")
        return value

    def _oauth2_login(self, client: IMAPClient) -> None:
        from triage import oauth2  # only a mailbox that logs in with OAuth2 pays for it

        s = self.settings
        offered = [c.decode("ascii", "replace")[5:] for c in client.capabilities() if c.upper().startswith(b"AUTH=")]
        mechanism = oauth2.choose_mechanism(offered)
        if mechanism is None:
            raise ImapLoginError(f"the IMAP server {s.host} offers no OAuth2 login (neither OAUTHBEARER nor "
                                 f"XOAUTH2; it offers {', '.join(offered) or 'no SASL mechanism'}); "
                                 f"use [imap] password_env instead")
        oauth2.login(client.sasl_login, LoginError, command=oauth2.TokenCommand(s.oauth2_token_command or "", "imap"),
                     mechanism=mechanism, user=s.user, host=s.host, port=s.port)

    def _folders(self, client: IMAPClient) -> list[str]:
        if self.settings.folders is not None:
            return list(self.settings.folders)
        folders = ["INBOX"]
        junk = client.find_special_folder(JUNK)
        if junk and junk not in folders:
            folders.append(junk)
        return folders

    # --- one folder ---

    def _read_folder(self, client: IMAPClient, folder: str, state: State, *, rescan: bool) -> Iterator[Batch]:
        try:
            info = client.select_folder(folder, readonly=True)
        except IMAPClientError as exc:
            raise SourceError(f"cannot open IMAP folder {folder!r} on {self.settings.host}: {exc}; "
                              f"check [imap] folders") from None
        uidvalidity = int(info[b"UIDVALIDITY"])
        name = self.mailbox_name(folder)
        stored = state.mailbox(name)
        if stored is not None and stored.uidvalidity != uidvalidity:
            log.warning("%s: UIDVALIDITY changed (%d → %d); reading the whole folder again",
                        name, stored.uidvalidity, uidvalidity)
        start = 1 if rescan or stored is None or mailbox_changed(stored, uidvalidity) else stored.last_uid + 1
        highest = max(int(info.get(b"UIDNEXT", 1)) - 1, start - 1)

        since = ["SINCE", self.since] if self.since else []
        candidates = [u for u in client.search(["UID", f"{start}:*", *since, *search_criteria(self.narrowing)])
                      if u >= start]
        highest = max([highest, *candidates])
        wanted = self._wanted(client, sorted(candidates), state, skip_seen=not rescan)
        log.info("%s: %d new candidate(s) of interest, %d to fetch", name, len(candidates), len(wanted))

        for i in range(0, len(wanted), BODY_CHUNK):
            chunk = wanted[i:i + BODY_CHUNK]
            following = wanted[i + BODY_CHUNK] - 1 if i + BODY_CHUNK < len(wanted) else highest
            for batch in self._fetch_bodies(client, folder, uidvalidity, chunk,
                                            Checkpoint(name, uidvalidity, following)):
                yield replace(batch, total=len(wanted))
        if not wanted:
            yield Batch((), Checkpoint(name, uidvalidity, highest))

    def _wanted(self, client: IMAPClient, uids: Sequence[int], state: State, *, skip_seen: bool) -> list[int]:
        """Candidate UIDs whose decoded headers pass `wanted` (and, unless re-reading, were not seen)."""
        keep: list[int] = []
        for i in range(0, len(uids), HEADER_CHUNK):
            chunk = list(uids[i:i + HEADER_CHUNK])
            response = client.fetch(chunk, [f"BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]", "RFC822.SIZE"])
            for uid in chunk:
                try:
                    headers = _headers(response.get(uid, {}))
                    wanted = self.narrowing.wanted(headers)
                except Exception as exc:  # one mail's headers must not end the scan: fetch it and let the
                    # pipeline's per-mail guard read it (or report it and raise the alarm)
                    log.warning("UID %d: the header pre-check failed (%s: %s); the mail is fetched anyway",
                                uid, type(exc).__name__, " ".join(str(exc).split())[:200])
                    keep.append(uid)
                    continue
                if not wanted:
                    continue
                if skip_seen and headers.message_id and state.is_seen(headers.message_id):
                    continue
                keep.append(uid)
        return keep

    def _fetch_bodies(
        self, client: IMAPClient, folder: str, uidvalidity: int, uids: list[int], checkpoint: Checkpoint
    ) -> Iterator[Batch]:
        """The bodies of `uids`, in batches of at most BODY_BYTES (one mail may be larger): memory stays
        bounded whatever the mails weigh. Each batch's checkpoint lies just before the next batch."""
        sizes = client.fetch(uids, ["RFC822.SIZE"])
        size = {u: int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) for u in uids}
        small = [u for u in uids if size[u] <= self.max_bytes]
        unreadable = [(str(Origin("imap", folder, u, uidvalidity)),
                       f"over the {self.max_bytes}-byte limit ([mail] max_bytes)") for u in uids if u not in small]
        groups: list[list[int]] = [[]]
        for uid in small:
            if groups[-1] and sum(size[u] for u in groups[-1]) + size[uid] > BODY_BYTES:
                groups.append([])
            groups[-1].append(uid)
        for n, group in enumerate(groups):
            last = n == len(groups) - 1
            response = client.fetch(group, ["BODY.PEEK[]"]) if group else {}
            mails = []
            for uid in group:
                data = response.get(uid, {}).get(b"BODY[]")
                origin = Origin("imap", folder, uid, uidvalidity)
                if isinstance(data, bytes):
                    mails.append(RawMail(data, origin))
                else:
                    unreadable.append((str(origin), "the server returned no body (deleted meanwhile?)"))
            del response
            at = checkpoint if last else Checkpoint(checkpoint.mailbox, uidvalidity, groups[n + 1][0] - 1)
            yield Batch(tuple(mails), at, tuple(unreadable) if last else ())


def search_criteria(narrowing: Narrowing) -> list[Any]:
    """`OR OR FROM a SUBJECT a … (FROM s NOT OR FROM "@d>" …)`: any term in From (address or name) or
    Subject, any sender term in a From that is not at a quiet domain. SEARCH FROM is a substring match
    over the address as "name <local@domain>" (Dovecot, RFC 3501 servers alike), so "@d>" names the
    domain itself, never a look-alike such as d.example; a server that reads it otherwise leaves out
    less, never more."""
    keys: list[list[Any]] = []
    for term in narrowing.terms:
        keys.append(["FROM", term])
        keys.append(["SUBJECT", term])
    quiet = _any([["FROM", f"@{d}>"] for d in narrowing.quiet_domains])
    for term in narrowing.sender_terms:
        keys.append([["FROM", term, "NOT", *quiet]] if quiet else ["FROM", term])
    return _any(keys)


def _any(keys: Sequence[list[Any]]) -> list[Any]:
    """One search key that holds when any of `keys` does (OR nests two at a time)."""
    if not keys:
        return []
    criteria = keys[-1]
    for key in reversed(keys[:-1]):
        criteria = ["OR", *key, *criteria]
    return criteria


def _headers(data: Mapping[bytes, Any]) -> Headers:
    raw = next((v for k, v in data.items() if k.upper().startswith(b"BODY[HEADER")), b"")
    fields = _fields(raw if isinstance(raw, bytes) else b"")
    senders = fields.get("from", []) + fields.get("sender", [])
    return Headers(sender=" ".join(decode_header(v) for v in senders),
                   subject=decode_header(next(iter(fields.get("subject", [])), "")),
                   message_id=normalize_message_id(next(iter(fields.get("message-id", [])), "")),
                   addresses=_bare(senders), reply_to=_bare(fields.get("reply-to", [])),
                   return_path=next(iter(_bare(fields.get("return-path", [])[:1])), ""),
                   list_id=unfold(next(iter(fields.get("list-id", [])), "")),
                   dkim_domains=tuple(_dkim_domain(v) for v in fields.get("dkim-signature", [])))


_FIELD_START = re.compile(rb"\r?\n(?![ \t])")
# One plain address, with or without a display name; fullmatch only. The repeats are possessive: the name
# stops at "<" anyway, and a long run of spaces is walked once, not once per split between the repeats.
_SIMPLE_ADDRESS = re.compile(r'\s*+(?:(?:"[^"\\]*+"|[^"<>,;:()\\@]*+)\s*<([^<>\s"(),;:\\@]+@[^<>\s"(),;:\\@]+)>'
                             r'|([^<>\s"(),;:\\@]+@[^<>\s"(),;:\\@]+))\s*')


def _fields(block: bytes) -> dict[str, list[str]]:
    """The header block IMAP returned (HEADER.FIELDS), as lower-case name → values in order. Read by hand:
    the email package's parser costs several times more, and this runs for every candidate mail. Raw
    8-bit bytes are read as UTF-8; a line without a colon is skipped."""
    out: dict[str, list[str]] = {}
    for line in _FIELD_START.split(block):
        name, colon, value = line.partition(b":")
        if colon and name.strip():
            out.setdefault(name.strip().decode("ascii", "replace").lower(), []).append(
                value.decode("utf-8", "replace").strip())
    return out


def _bare(values: Sequence[str]) -> tuple[str, ...]:
    """The bare addresses in address headers: a single plain address is read at once, anything else by
    the bounded reader of `triage.headers`."""
    out: list[str] = []
    for value in values:
        simple = _SIMPLE_ADDRESS.fullmatch(value)
        if simple:
            out.append((simple.group(1) or simple.group(2)).lower())
        else:
            out.extend(a.strip().lower() for _, a in split_addresses([value]) if a.strip())
    return tuple(out)


def _dkim_domain(signature: str) -> str:
    """The signing domain (the d= tag) a DKIM-Signature claims; "" when it names none."""
    found = re.search(r"(?:^|;)\s*d\s*=\s*([^;\s]+)", unfold(signature))
    return found.group(1).lower().rstrip(".") if found else ""


def _logout(client: IMAPClient) -> None:
    with contextlib.suppress(TimeoutError, IMAPClientError, OSError):
        client.logout()


# --- waiting for changes: one IDLE connection per folder ---


@dataclass(frozen=True)
class WatchTiming:
    idle_seconds: float = 10 * 60  # IDLE is re-issued well inside the 29 minutes RFC 2177 allows
    check_seconds: float = 5.0  # how long one idle_check waits (and how soon a stop is noticed)
    backoff_first: float = 2.0
    backoff_max: float = 300.0


class Watch:
    """IDLE on every watched folder, each on its own connection and thread with its own reconnect and
    backoff. `wait()` returns once any folder reported new mail, or had just (re)connected: mail that
    arrived while a folder was not idling is found by the pass that follows, so nothing waits for the poll.
    """

    def __init__(self, source: ImapSource, folders: Sequence[str], timing: WatchTiming) -> None:
        self.folders = tuple(folders)
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=_FolderWatch(source, f, timing, self._changed, self._stop).run,
                                          name=f"idle {f}", daemon=True) for f in self.folders]
        for thread in self._threads:
            thread.start()

    def wait(self, timeout: float) -> bool:
        """True when something changed (the flag is cleared for the next wait)."""
        changed = self._changed.wait(max(0.0, timeout))
        self._changed.clear()
        return changed

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


class _FolderWatch:
    def __init__(self, source: ImapSource, folder: str, timing: WatchTiming, changed: threading.Event,
                 stop: threading.Event) -> None:
        self.source, self.folder, self.timing, self.changed, self.stop = source, folder, timing, changed, stop
        self.backoff = Backoff(timing.backoff_first, timing.backoff_max)
        self.name = source.mailbox_name(folder)
        self.reported = False  # the current outage was logged

    def run(self) -> None:
        while not self.stop.is_set():
            client = None
            try:
                client = self.source.connect()
                client.select_folder(self.folder, readonly=True)
                client.idle()
                if self.reported:
                    log.warning("%s: the IDLE connection is back", self.name)
                self.reported = False
                self.backoff.reset()
                self.changed.set()  # look for mail that came while this folder was not idling
                self._idle(client)
            except (TriageError, IMAPClientError, OSError) as exc:
                delay = self.backoff.delay()
                if not self.reported:  # one line per outage, not one per attempt
                    log.warning("%s: lost the IDLE connection (%s); reconnecting with backoff", self.name, exc)
                    self.reported = True
                log.debug("%s: next IDLE connection in %.1f s", self.name, delay)
                self.stop.wait(delay)
            finally:
                if client is not None:
                    _end_idle(client)
        log.debug("%s: IDLE watch stopped", self.name)

    def _idle(self, client: IMAPClient) -> None:
        idle_until = time.monotonic() + self.timing.idle_seconds
        while not self.stop.is_set():
            if time.monotonic() >= idle_until:  # re-issue IDLE before the server gives up on it
                self._responses(client.idle_done()[1])
                client.idle()
                idle_until = time.monotonic() + self.timing.idle_seconds
            asked = time.monotonic()
            responses = client.idle_check(timeout=self.timing.check_seconds)
            if not responses and time.monotonic() - asked < self.timing.check_seconds / 2:
                # imapclient answers [] at once, forever, once the server has gone (issue #565).
                raise SourceError("the IMAP IDLE connection is dead")
            self._responses(responses)

    def _responses(self, responses: Sequence[object]) -> None:
        if any(_is_bye(r) for r in responses):
            raise SourceError("the IMAP server closed the IDLE connection")
        if any(_is_new_mail(r) for r in responses):  # EXISTS counts messages, not UIDs: the pass asks by UID
            log.debug("%s: IDLE: new mail", self.name)
            self.changed.set()


def _end_idle(client: IMAPClient) -> None:
    if getattr(client, "_idle_tag", None) is not None:  # in IDLE: end it before saying goodbye
        with contextlib.suppress(TimeoutError, IMAPClientError, OSError):
            client.idle_done()
    _logout(client)


def _is_new_mail(response: object) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def _is_bye(response: object) -> bool:
    return isinstance(response, tuple) and len(response) >= 1 and response[0] == b"BYE"
