"""A TCP proxy in front of the test Dovecot that writes down every IMAP command the client sends.

Tests use it to see what triage asks the server for (which bodies it fetches), without touching the
client library: the proxy only copies bytes both ways and keeps the client's command lines.
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
                    with self._lock:
                        self.commands += [line.decode("latin-1") for line in lines]
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

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
