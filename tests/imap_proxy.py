"""A TCP proxy in front of the test Dovecot that writes down every IMAP command the client sends.

Tests use it to see what triage asks the server for (which bodies it fetches), without touching the
client library: the proxy only copies bytes both ways and keeps the client's command lines. `cut_at` makes
it drop the connection, as a network would, when the client sends a given command.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.dovecot import Dovecot


class CountingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.commands: list[str] = []
        self._lock = threading.Lock()
        self._cut: tuple[re.Pattern[str], int] | None = None  # (command, how many to let through)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        pending = b""
        try:
            while data := source.recv(65536):
                if from_client:
                    pending += data
                    *lines, pending = pending.split(b"\r\n")
                    decoded = [line.decode("latin-1") for line in lines]
                    with self._lock:
                        self.commands += decoded
                        if self._cutting(decoded):
                            return  # the connection drops before the command reaches the server
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut_at(self, command: str, *, skip: int = 0) -> None:
        """Drop the connection once, when the client sends a command matching `command` (the first `skip`
        such commands still go through)."""
        with self._lock:
            self._cut = (re.compile(command, re.I), skip)

    def _cutting(self, lines: list[str]) -> bool:
        if self._cut is None:
            return False
        pattern, skip = self._cut
        matches = sum(1 for line in lines if pattern.search(line))
        if not matches:
            return False
        self._cut = None if matches > skip else (pattern, skip - matches)
        return matches > skip

    def body_fetches(self) -> list[int]:
        """Every UID whose whole message (BODY[] / BODY.PEEK[] / RFC822) the client asked for."""
        uids: list[int] = []
        for line in self.commands:
            m = re.match(r"\S+ UID FETCH (\S+) \((.*)\)$", line, re.I)
            if m and re.search(r"BODY(\.PEEK)?\[\]|RFC822(?![.\w])", m.group(2), re.I):
                uids += _uid_set(m.group(1))
        return uids

    def close(self) -> None:
        self.listener.close()


def _uid_set(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        out += range(int(low), int(high or low) + 1)
    return out


@contextmanager
def counting_proxy(server: Dovecot) -> Iterator[CountingProxy]:
    proxy = CountingProxy(server.port)
    try:
        yield proxy
    finally:
        proxy.close()
