"""OAuth2 logins for IMAP and SMTP: run the token command, speak SASL XOAUTH2 or OAUTHBEARER (RFC 7628).

triage runs no OAuth flow of its own and keeps no token: a well-kept tool (oama, mutt_oauth2.py, an MSAL
script) holds the refresh token, and its command is run for every login, since access tokens live about an
hour. A token is a password: it is never logged, never put in an error message, and the command's output
is never shown.

This module knows neither imapclient nor smtplib: the callers hand in one `authenticate` function.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from triage.errors import ConfigError, TokenCommandError

log = logging.getLogger(__name__)

MECHANISMS = ("OAUTHBEARER", "XOAUTH2")  # in order of preference: the standard one where offered
TOKEN_TIMEOUT = 30.0  # a refresh is one HTTPS request; a command that hangs must not hang triage
LOGIN_ATTEMPTS = 2  # a refused token is replaced once by running the command again


@dataclass(frozen=True)
class TokenCommand:
    """`[imap|smtp] oauth2_token_command`: a program (not a shell line) that prints an access token."""

    command: str
    section: str  # "imap" or "smtp", to name the setting in errors
    timeout: float = TOKEN_TIMEOUT

    @property
    def setting(self) -> str:
        return f"[{self.section}] oauth2_token_command"

    def argv(self) -> list[str]:
        try:
            argv = shlex.split(self.command)
        except ValueError as exc:
            raise ConfigError(f"{self.setting} {self.command!r} cannot be read as a command ({exc})") from None
        if not argv:
            raise ConfigError(f"{self.setting} is empty")
        return argv

    def check(self) -> None:
        """Fail now, not at the first login, if the program cannot be found."""
        program = self.argv()[0]
        if shutil.which(program) is None:
            raise ConfigError(f"{self.setting}: the program {program!r} is not found or not executable; "
                              f"install it or give its full path")

    def token(self) -> str:
        """Run the command once and return the token it prints (never logged)."""
        argv = self.argv()
        where = f"{self.setting} ({self.command})"
        log.debug("running %s for a fresh OAuth2 token", self.setting)
        try:
            done = _run_bounded(argv, self.timeout)
        except OSError as exc:
            raise TokenCommandError(f"{where} cannot be run: {exc.strerror or exc}") from None
        if done.returncode is None:
            raise TokenCommandError(f"{where} did not finish within {self.timeout:g} s; "
                                    f"run it by hand to see what it waits for")
        if done.too_much:
            raise TokenCommandError(f"{where} printed more than {TOKEN_MAX_BYTES // 1024} KiB, far more than "
                                    f"an access token; it must print the access token alone")
        if done.returncode != 0:
            said = _last_line(done.stderr.decode("utf-8", "replace"))
            raise TokenCommandError(f"{where} failed with exit status {done.returncode}"
                                    + (f": {said}" if said else "") + "; run it by hand to see why")
        token = done.stdout.decode("utf-8", "replace").strip()
        if not token:
            raise TokenCommandError(f"{where} printed no token; run it by hand to see why")
        if any(c.isspace() for c in token):
            raise TokenCommandError(f"{where} printed more than one token (spaces or several lines); "
                                    f"it must print the access token alone")
        if not (token.isascii() and token.isprintable()):
            # A control character would end the SASL field the token is sent in (^A is its separator).
            raise TokenCommandError(f"{where} printed characters no access token holds (control characters "
                                    f"or non-ASCII); it must print the access token alone")
        return token


TOKEN_MAX_BYTES = 64 * 1024  # Google's tokens are a few hundred bytes, Microsoft's JWTs a few KiB
_STDERR_KEPT = 4096  # the end of what the command says on stderr, for the error's last line


@dataclass(frozen=True)
class _Done:
    returncode: int | None  # None: still running at the time-out
    stdout: bytes
    stderr: bytes
    too_much: bool = False


def _run_bounded(argv: list[str], timeout: float) -> _Done:
    """Run the command in its own process group, reading at most TOKEN_MAX_BYTES of its output, for at most
    `timeout` seconds. It ends when the command has exited: a child it left in the background holding the
    pipes is not waited for. Whatever is still running of the group then is killed, so a hung pipeline
    (`sh -c 'curl … | jq …'`) leaves nothing behind, login after login."""
    deadline = time.monotonic() + timeout
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    assert process.stdout is not None and process.stderr is not None
    out, err = bytearray(), bytearray()
    buffers = {process.stdout.fileno(): out, process.stderr.fileno(): err}
    too_much = False
    try:
        with selectors.DefaultSelector() as selector:
            for fd in buffers:
                selector.register(fd, selectors.EVENT_READ)
            while selector.get_map():
                exited = process.poll() is not None
                left = deadline - time.monotonic()
                if left <= 0 and not exited:
                    break
                # Once the command has exited, only what is already in the pipes is read.
                ready = selector.select(0 if exited else min(left, 0.5))
                if not ready and exited:
                    break
                for key, _ in ready:
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fd)
                        continue
                    buffers[key.fd].extend(chunk)
                    if len(out) > TOKEN_MAX_BYTES:
                        too_much = True
                        break
                    del err[:-_STDERR_KEPT]
                if too_much:
                    break
        returncode = process.poll()
        if returncode is None and not too_much:
            returncode = _wait(process, deadline)
    finally:
        _kill_group(process)
        process.stdout.close()
        process.stderr.close()
    return _Done(returncode if not too_much else process.returncode, bytes(out), bytes(err), too_much)


def _wait(process: subprocess.Popen[bytes], deadline: float) -> int | None:
    try:
        return process.wait(max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        return None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def choose_mechanism(offered: Iterable[str]) -> str | None:
    """OAUTHBEARER where the server offers it, else XOAUTH2; None if it offers neither."""
    names = {m.upper() for m in offered}
    return next((m for m in MECHANISMS if m in names), None)


def initial_response(mechanism: str, user: str, token: str, *, host: str, port: int) -> str:
    """The client's first SASL message (before base64)."""
    if mechanism == "XOAUTH2":  # https://developers.google.com/gmail/imap/xoauth2-protocol
        return f"user={user}\x01auth=Bearer {token}\x01\x01"
    if mechanism == "OAUTHBEARER":  # RFC 7628 section 3.1, with the RFC 5801 gs2 header
        authzid = user.replace("=", "=3D").replace(",", "=2C")
        return f"n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    raise ValueError(f"not an OAuth2 SASL mechanism: {mechanism}")


class SaslExchange:
    """The client side of one XOAUTH2/OAUTHBEARER exchange, as imaplib and smtplib call it.

    The first call returns the initial response. A later call means the server refused the token and
    sent an error challenge (JSON): the client answers with an empty message (XOAUTH2) or a lone ^A
    (OAUTHBEARER, RFC 7628 section 3.2.3), and the server then ends the exchange with its refusal.
    """

    def __init__(self, mechanism: str, response: str) -> None:
        self.mechanism, self._response, self._calls = mechanism, response, 0

    def __call__(self, challenge: bytes | None = None) -> str:
        self._calls += 1
        if self._calls == 1:
            return self._response
        return "\x01" if self.mechanism == "OAUTHBEARER" else ""

    def __repr__(self) -> str:  # a traceback or a debug log shows this, never the token
        return f"SaslExchange({self.mechanism})"


Authenticate = Callable[[str, SaslExchange], None]  # (mechanism, exchange); raises `refused` if refused


def login(authenticate: Authenticate, refused: type[Exception] | tuple[type[Exception], ...], *,
          command: TokenCommand, mechanism: str, user: str, host: str, port: int) -> None:
    """Log in with a fresh token; if it is refused, once more with another.

    The command is run for each attempt: a token the server refuses has most often just expired, and the
    tool behind the command replaces an expired token when it is run again. The last refusal is raised.
    """
    for attempt in range(1, LOGIN_ATTEMPTS + 1):
        token = command.token()
        try:
            authenticate(mechanism, SaslExchange(mechanism, initial_response(mechanism, user, token,
                                                                              host=host, port=port)))
            log.debug("logged in to %s:%d as %s with %s", host, port, user, mechanism)
            return
        except refused:
            if attempt == LOGIN_ATTEMPTS:
                raise
            log.info("the server %s:%d refused the OAuth2 token for %s; running %s again for a fresh one",
                     host, port, user, command.setting)


# What an access or refresh token looks like inside a line of text: a long run of base64url (and JWT dots)
# with letters and digits in it. Paths and words are cut short by their slashes and spaces.
_TOKEN_LIKE = re.compile(r"(?<![A-Za-z0-9._~+=-])(?=[A-Za-z0-9._~+=-]*[0-9])(?=[A-Za-z0-9._~+=-]*[A-Za-z])"
                         r"[A-Za-z0-9._~+=-]{20,}")


def _last_line(text: str) -> str:
    """The command's last word on stderr, for the error: with whatever looks like a token masked, since the
    error is logged (by the daemon at every retry) and a token must never be."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _TOKEN_LIKE.sub("[token]", lines[-1])[:200] if lines else ""
