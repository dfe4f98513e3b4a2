"""A DeepL-API-compatible HTTP server for the tests, written from DeepL's public API documentation.

Real HTTP on loopback, so the real `deepl` client talks to it through `server_url`. It implements what
triage uses, as documented:

- POST /v2/translate (JSON): `text` (≤ 50, request ≤ 128 KiB, else 400/413), `source_lang`, `target_lang`,
  `formality`, `context`, `glossary_id` (needs `source_lang`), `tag_handling` ("xml": every text must be
  well-formed XML), `show_billed_characters`. Answer: `translations[]` with `detected_source_language`,
  `text`, `billed_characters` (characters of the source text; tags are not billed). 456 when the
  character limit would be passed.
- GET /v2/usage: `character_count`, `character_limit`.
- POST /v3/glossaries, GET /v3/glossaries, GET and DELETE /v3/glossaries/{id} (multilingual glossaries,
  TSV entries).
- 403 for a wrong `Authorization: DeepL-Auth-Key …` header; any status on demand with `fail()`.

The "translation" is a marker, the glossary's terms applied, and the text otherwise unchanged, so tests
can see which glossary was used and that placeholders came back; `placeholders = "drop" | "duplicate"`
makes it lose or double the first placeholder. Every request is recorded in `requests`.
"""

from __future__ import annotations

import html
import json
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

MARK = "【訳】"
MAX_TEXTS = 50
MAX_REQUEST_BYTES = 128 * 1024
_TAG = re.compile(r"(<[^>]*>)")
_PLACEHOLDER = re.compile(r'<x id="\d+"/>')


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def decoded_body(self) -> str:
        """The body as text with JSON's \\u escapes undone, to search for what was really sent."""
        text = self.body.decode("utf-8", "replace")
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text


@dataclass
class Glossary:
    glossary_id: str
    name: str
    entries: dict[str, str]
    created: str

    def info(self) -> dict[str, Any]:
        return {"glossary_id": self.glossary_id, "name": self.name, "creation_time": self.created,
                "dictionaries": [{"source_lang": "en", "target_lang": "ja", "entry_count": len(self.entries)}]}


@dataclass
class FakeDeepL:
    auth_key: str = "test-key-0000:fx"
    character_limit: int = 500_000
    character_count: int = 0
    placeholders: str = "keep"  # keep | drop | duplicate
    requests: list[Request] = field(default_factory=list)
    glossaries: dict[str, Glossary] = field(default_factory=dict)
    _failures: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- control ---

    def fail(self, path: str, status: int, times: int = 1) -> None:
        """Answer the next `times` requests whose path starts with `path` with `status`."""
        with self._lock:
            self._failures.extend([(path, status)] * times)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeDeepL:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]

    def translate_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/v2/translate"]

    def billed(self) -> int:
        return self.character_count

    # --- the API ---

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(Request(method, path, headers, body))
            for i, (prefix, status) in enumerate(self._failures):
                if path.startswith(prefix):
                    del self._failures[i]
                    return status, {"message": f"injected {status}"}
            if headers.get("authorization") != f"DeepL-Auth-Key {self.auth_key}":
                return 403, {"message": "Wrong auth key"}
            route = path.split("?", 1)[0]
            if route == "/v2/translate" and method == "POST":
                return self._translate(body)
            if route == "/v2/usage" and method == "GET":
                return 200, {"character_count": self.character_count, "character_limit": self.character_limit}
            if route == "/v3/glossaries" and method == "POST":
                return self._create_glossary(body)
            if route == "/v3/glossaries" and method == "GET":
                return 200, {"glossaries": [g.info() for g in self.glossaries.values()]}
            found = re.fullmatch(r"/v3/glossaries/([^/]+)", route)
            if found and method in ("GET", "DELETE"):
                glossary = self.glossaries.get(found.group(1))
                if glossary is None:
                    return 404, {"message": "Glossary not found"}
                if method == "DELETE":
                    del self.glossaries[glossary.glossary_id]
                    return 204, None
                return 200, glossary.info()
            return 404, {"message": "Not found"}

    def _translate(self, body: bytes) -> tuple[int, Any]:
        if len(body) > MAX_REQUEST_BYTES:
            return 413, {"message": "Request Entity Too Large"}
        data = json.loads(body)
        texts = data.get("text")
        if not isinstance(texts, list) or not texts or len(texts) > MAX_TEXTS:
            return 400, {"message": "Parameter 'text' must hold 1 to 50 texts"}
        if not data.get("target_lang"):
            return 400, {"message": "Parameter 'target_lang' not specified"}
        entries: dict[str, str] = {}
        if data.get("glossary_id"):
            if not data.get("source_lang"):
                return 400, {"message": "Use of a glossary requires the source_lang parameter"}
            glossary = self.glossaries.get(data["glossary_id"])
            if glossary is None:
                return 400, {"message": "Invalid glossary_id"}
            entries = glossary.entries
        xml = data.get("tag_handling") == "xml"
        if xml:
            for text in texts:
                try:
                    ET.fromstring(f"<root>{text}</root>")
                except ET.ParseError:
                    return 400, {"message": "Text is not valid XML"}
        billed = [_billable(t, xml) for t in texts]
        if self.character_count + sum(billed) > self.character_limit:
            return 456, {"message": "Quota exceeded"}
        self.character_count += sum(billed)
        return 200, {"translations": [
            {"detected_source_language": "EN", "text": self._fake(t, entries), "billed_characters": b}
            for t, b in zip(texts, billed, strict=True)
        ]}

    def _fake(self, text: str, entries: dict[str, str]) -> str:
        parts = _TAG.split(text)
        if entries:
            terms = re.compile("|".join(rf"(?<![A-Za-z]){re.escape(s)}(?![A-Za-z])"
                                        for s in sorted(entries, key=len, reverse=True)))
            parts = [p if p.startswith("<") else terms.sub(lambda m: entries[m.group(0)], p) for p in parts]
        out = MARK + "".join(parts)
        first = _PLACEHOLDER.search(out)
        if first and self.placeholders == "drop":
            out = out[:first.start()] + out[first.end():]
        elif first and self.placeholders == "duplicate":
            out = out + " " + first.group(0)
        return out

    def _create_glossary(self, body: bytes) -> tuple[int, Any]:
        data = json.loads(body)
        dictionaries = data.get("dictionaries") or []
        if not data.get("name") or len(dictionaries) != 1:
            return 400, {"message": "A glossary needs a name and dictionaries"}
        d = dictionaries[0]
        if d.get("entries_format") != "tsv":
            return 400, {"message": "Unsupported entries_format"}
        entries: dict[str, str] = {}
        for line in str(d.get("entries", "")).splitlines():
            if not line.strip():
                continue
            source, sep, target = line.partition("\t")
            if not sep or source in entries:
                return 400, {"message": f"Invalid glossary entry {line!r}"}
            entries[source] = target
        glossary = Glossary(str(uuid.uuid4()), data["name"], entries,
                            datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        self.glossaries[glossary.glossary_id] = glossary
        return 201, glossary.info()


def _billable(text: str, xml: bool) -> int:
    """DeepL bills the characters of the source text; with tag handling, tags are not billed."""
    if not xml:
        return len(text)
    return len(html.unescape(_TAG.sub("", text)))


def _handler(api: FakeDeepL) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload = api.handle(self.command, self.path, headers, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def deepl_server() -> Iterator[FakeDeepL]:
    server = FakeDeepL().start()
    try:
        yield server
    finally:
        server.stop()
