"""A real SMTP server (aiosmtpd) on loopback that lets a client in by OAuth2 only.

AUTH XOAUTH2 and AUTH OAUTHBEARER (RFC 7628) are aiosmtpd `auth_MECHANISM` methods on the handler; each
asks the token-introspection server of tests/token_server.py whether the bearer token is live and for the
user who claims it. A refused token gets the error challenge real servers send (a JSON status), then
535. PLAIN and LOGIN are not offered, and `mechanisms` chooses which of the two OAuth2 ones are. AUTH
lines are allowed up to 16 KB, since real tokens run to a few thousand characters.
"""

from __future__ import annotations

import base64
import collections
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult

from tests.dovecot import free_port
from tests.smtp import Inbox, SmtpServer
from tests.token_server import TokenServer

ERROR_CHALLENGE = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"})


@dataclass
class OAuth2Inbox(Inbox):
    tokens: TokenServer | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)  # (mechanism, user) of each accepted login
    refusals: int = 0

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        blob = await _initial_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        fields = dict(part.split("=", 1) for part in blob.split("\x01") if "=" in part)
        return await self._verdict(server, "XOAUTH2", fields.get("user", ""), fields.get("auth", ""))

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        blob = await _initial_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        gs2, _, rest = blob.partition("\x01")
        authzid = next((p[2:] for p in gs2.split(",") if p.startswith("a=")), "")
        user = authzid.replace("=2C", ",").replace("=3D", "=")
        fields = dict(part.split("=", 1) for part in rest.split("\x01") if "=" in part)
        return await self._verdict(server, "OAUTHBEARER", user, fields.get("auth", ""))

    async def _verdict(self, server: SMTP, mechanism: str, user: str, auth: str) -> AuthResult:
        assert self.tokens is not None
        scheme, _, token = auth.partition(" ")
        answer = self.tokens.introspect(token) if scheme.lower() == "bearer" else {"active": False}
        if answer["active"] and answer.get("username") == user:
            self.logins.append((mechanism, user))
            return AuthResult(success=True, auth_data=user)
        self.refusals += 1
        await server.challenge_auth(ERROR_CHALLENGE)  # the client acknowledges; then the refusal
        return AuthResult(success=False, handled=False)


async def _initial_response(server: SMTP, args: list[str]) -> str | None:
    if len(args) > 1:
        return base64.b64decode(args[1]).decode()
    blob = await server.challenge_auth("")
    return None if blob is MISSING else bytes(blob).decode()  # type: ignore[arg-type]


class _LongAuthSmtp(SMTP):
    line_length_limit = 16384
    command_size_limits: ClassVar[collections.defaultdict[str, int]] = collections.defaultdict(lambda: 16384)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _LongAuthSmtp(self.handler, **self.SMTP_kwargs)


def start(tokens: TokenServer, mechanisms: tuple[str, ...] = ("XOAUTH2", "OAUTHBEARER")) -> Iterator[SmtpServer]:
    inbox = OAuth2Inbox(tokens=tokens)
    excluded: Any = ["PLAIN", "LOGIN", *({"XOAUTH2", "OAUTHBEARER"} - set(mechanisms))]
    port = free_port()
    controller = _Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False,
                             auth_exclude_mechanism=excluded)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()
