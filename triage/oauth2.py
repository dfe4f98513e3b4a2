"""OAuth2 logins for IMAP and SMTP: run the token command, speak SASL XOAUTH2 or OAUTHBEARER (RFC 7628).

triage runs no OAuth flow of its own and keeps no token: a well-kept tool (oama, mutt_oauth2.py, an MSAL
script) holds the refresh token, and its command is run for every login, since access tokens live about an
hour. A token is a password: it is never logged, never put in an error message, and the command's output
is never shown.

This module knows neither imapclient nor smtplib: the callers hand in one `authenticate` function.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import subprocess
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
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout, check=False,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise TokenCommandError(f"{where} did not finish within {self.timeout:g} s; "
                                    f"run it by hand to see what it waits for") from None
        except OSError as exc:
            raise TokenCommandError(f"{where} cannot be run: {exc.strerror or exc}") from None
        if done.returncode != 0:
            said = _last_line(done.stderr)
            raise TokenCommandError(f"{where} failed with exit status {done.returncode}"
                                    + (f": {said}" if said else "") + "; run it by hand to see why")
        token = done.stdout.strip()
        if not token:
            raise TokenCommandError(f"{where} printed no token; run it by hand to see why")
        if any(c.isspace() for c in token) or not token.isascii():
            raise TokenCommandError(f"{where} printed more than one token (spaces or several lines); "
                                    f"it must print the access token alone")
        return token


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


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
