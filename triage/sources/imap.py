"""IMAP through imapclient: read-only, narrowed on the server, incremental by UID.

Folders are selected read-only and bodies fetched with BODY.PEEK, so no flag changes. A server-side SEARCH
on the sender and subject narrows each folder to candidate mail before any body is fetched; the caller's
`wanted` predicate then re-checks the decoded headers in Python (SEARCH FROM is a substring match over
the whole header). UIDVALIDITY and the last UID read are kept per folder, so the next scan asks only for
newer UIDs; a changed UIDVALIDITY means the UIDs mean nothing any more, and the folder is read again.

This module knows IMAP and nothing of AWS.
"""

from __future__ import annotations

import contextlib
import email
import email.utils
import logging
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import JUNK

from triage import oauth2
from triage.charsets import decode_header
from triage.errors import ConfigError, ImapConnectError, ImapLoginError, SourceError
from triage.mail import Origin, RawMail, normalize_message_id
from triage.sources import Batch, Checkpoint, mailbox_changed

if TYPE_CHECKING:
    from triage.config import ImapSettings
    from triage.state import State

log = logging.getLogger(__name__)

HEADER_FIELDS = "FROM SENDER SUBJECT MESSAGE-ID"
HEADER_CHUNK = 1000  # UIDs per FETCH of headers (Dovecot refuses command lines over ~64 KB)
BODY_CHUNK = 25  # bodies per FETCH: bounds memory and the work lost to a dropped connection
TIMEOUT = 60.0


@dataclass(frozen=True)
class Headers:
    """The decoded headers a `wanted` predicate sees before a body is fetched."""

    sender: str  # From, display name and address
    subject: str
    message_id: str
    addresses: tuple[str, ...] = ()  # the bare addresses in From and Sender


@dataclass(frozen=True)
class Narrowing:
    """What to look for: SEARCH terms (ASCII, matched in From and Subject) and the exact re-check."""

    terms: tuple[str, ...]
    wanted: Callable[[Headers], bool]


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

    def mailbox_name(self, folder: str) -> str:
        s = self.settings
        return f"imap://{s.user}@{s.host}:{s.port}/{folder}"

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        client = self.connect()
        handed = 0  # mails handed over so far: the running total counts the folders read before
        try:
            for folder in self._folders(client):
                before = handed
                for batch in self._read_folder(client, folder, state, rescan=rescan):
                    handed += len(batch.mails) + len(batch.unreadable)
                    yield replace(batch, total=before + (batch.total or 0))
        except (IMAPClientError, OSError) as exc:
            raise SourceError(f"lost the IMAP connection to {self.settings.host}: {exc}; "
                              f"mail read so far is kept, run the scan again") from None
        finally:
            _logout(client)

    # --- connection ---

    def connect(self) -> IMAPClient:
        s = self.settings
        context = ssl.create_default_context() if s.tls != "none" else None  # loading the CA store takes 0.1 s
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

    def _password(self) -> str:
        name = self.settings.password_env or ""
        value = self.env.get(name)
        if not value:
            raise ConfigError(f"the IMAP password variable ${name} is not set; export it or fix "
                              f"[imap] password_env")
        return value

    def _oauth2_login(self, client: IMAPClient) -> None:
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
        candidates = [u for u in client.search(["UID", f"{start}:*", *since, *_search_terms(self.narrowing.terms)])
                      if u >= start]
        highest = max([highest, *candidates])
        wanted = self._wanted(client, sorted(candidates), state, skip_seen=not rescan)
        log.info("%s: %d new candidate(s) of interest, %d to fetch", name, len(candidates), len(wanted))

        for i in range(0, len(wanted), BODY_CHUNK):
            chunk = wanted[i:i + BODY_CHUNK]
            following = wanted[i + BODY_CHUNK] - 1 if i + BODY_CHUNK < len(wanted) else highest
            batch = self._fetch_bodies(client, folder, uidvalidity, chunk, Checkpoint(name, uidvalidity, following))
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
                headers = _headers(response.get(uid, {}))
                if not self.narrowing.wanted(headers):
                    continue
                if skip_seen and headers.message_id and state.is_seen(headers.message_id):
                    continue
                keep.append(uid)
        return keep

    def _fetch_bodies(
        self, client: IMAPClient, folder: str, uidvalidity: int, uids: list[int], checkpoint: Checkpoint
    ) -> Batch:
        sizes = client.fetch(uids, ["RFC822.SIZE"])
        small = [u for u in uids if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= self.max_bytes]
        unreadable = [(str(Origin("imap", folder, u, uidvalidity)),
                       f"over the {self.max_bytes}-byte limit ([mail] max_bytes)") for u in uids if u not in small]
        response = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        mails = []
        for uid in small:
            data = response.get(uid, {}).get(b"BODY[]")
            origin = Origin("imap", folder, uid, uidvalidity)
            if isinstance(data, bytes):
                mails.append(RawMail(data, origin))
            else:
                unreadable.append((str(origin), "the server returned no body (deleted meanwhile?)"))
        return Batch(tuple(mails), checkpoint, tuple(unreadable))


def _search_terms(terms: Sequence[str]) -> list[str]:
    """`OR OR FROM a SUBJECT a …`: any term in From (address or name) or Subject."""
    keys: list[list[str]] = []
    for term in terms:
        keys.append(["FROM", term])
        keys.append(["SUBJECT", term])
    criteria = keys[-1]
    for key in reversed(keys[:-1]):
        criteria = ["OR", *key, *criteria]
    return criteria


def _headers(data: Mapping[bytes, Any]) -> Headers:
    raw = next((v for k, v in data.items() if k.upper().startswith(b"BODY[HEADER")), b"")
    message = email.message_from_bytes(raw if isinstance(raw, bytes) else b"")
    fields = message.get_all("From", []) + message.get_all("Sender", [])
    sender = " ".join(decode_header(v) for v in fields)
    addresses = tuple(a for _, a in email.utils.getaddresses([str(v) for v in fields]) if a)
    message_id = normalize_message_id(message.get("Message-ID"))
    return Headers(sender=sender, subject=decode_header(message.get("Subject")), message_id=message_id,
                   addresses=addresses)


def _logout(client: IMAPClient) -> None:
    with contextlib.suppress(TimeoutError, IMAPClientError, OSError):
        client.logout()
