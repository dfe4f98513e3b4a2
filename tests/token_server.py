"""A small OAuth2 token-introspection server (RFC 7662) on loopback, for Dovecot's `oauth2` passdb.

Tests issue tokens for a user (valid, already expired, or later revoked); Dovecot POSTs `token=…` to
/introspect and gets `{"active": true, "username": …}` for a live token and `{"active": false}` for
anything else, as a real authorisation server answers. Every token asked about is counted, so a test
can see that the server was really asked.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Grant:
    user: str
    expires_at: float
    revoked: bool = False


@dataclass
class TokenServer:
    url: str
    grants: dict[str, Grant] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)  # every token introspected, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, user: str, *, lifetime: float = 3600.0) -> str:
        """A new access token for `user`; a negative lifetime gives one that has already expired."""
        # Long like a real provider's token (Microsoft's are well over 1,000 characters).
        token = "ya29." + secrets.token_urlsafe(900)
        with self.lock:
            self.grants[token] = Grant(user, time.time() + lifetime)
        return token

    def revoke(self, token: str) -> None:
        with self.lock:
            self.grants[token].revoked = True

    def introspect(self, token: str) -> dict[str, object]:
        with self.lock:
            self.asked.append(token)
            grant = self.grants.get(token)
        if grant is None or grant.revoked or grant.expires_at <= time.time():
            return {"active": False}
        return {"active": True, "username": grant.user, "exp": int(grant.expires_at), "token_type": "Bearer",
                "scope": "https://mail.google.com/"}


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Introspection(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            if self.path != "/introspect" or "token" not in form:
                self.send_error(400)
                return
            body = json.dumps(server.introspect(form["token"][0])).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Introspection


def start() -> Iterator[TokenServer]:
    server = TokenServer("")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/introspect"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
