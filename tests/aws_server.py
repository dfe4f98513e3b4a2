"""A local AWS for the account-check tests and the sweep benchmark: moto's real server, and a small proxy.

`MotoServer` is moto's `ThreadedMotoServer` on loopback, with helpers for its own API (reset, Cost
Explorer results, the request recorder). `AwsProxy` sits between boto3 and moto; it knows which AWS
operation each request is (from the SigV4 scope and the protocol), records it, and can add a delay,
answer with AccessDenied or throttling for chosen operations, or answer operations moto does not have
(Lightsail, CloudTrail LookupEvents, the cost forecast, the contact information, Bedrock's provisioned
throughput) with canned replies.
Nothing here talks to the real AWS: boto3 is pointed at the proxy through AWS_ENDPOINT_URL, with fake keys.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import re
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session
import pytest

# moto's recorder takes its file from the environment when moto is first imported.
os.environ.setdefault("MOTO_RECORDER_FILEPATH", os.path.join(tempfile.mkdtemp(prefix="triage-moto-"), "recording"))
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # AdministratorAccess, the quarantine policies
# moto's public AMIs and their ~1,300 snapshots per region make every DescribeSnapshots take a second.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

from moto.server import ThreadedMotoServer

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


# --- moto -------------------------------------------------------------------------------------


class MotoServer:
    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()

    def _post(self, path: str, payload: Any = None, timeout: float = 30) -> bytes:
        data = json.dumps(payload).encode() if payload is not None else b""
        request = urllib.request.Request(self.url + path, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return bytes(answer.read())

    def reset(self) -> None:
        # Dropping an attacked account of hundreds of instances takes moto a while on a loaded machine.
        self._post("/moto-api/reset", timeout=180)

    def set_cost_results(self, results: list[dict[str, Any]]) -> None:
        """Queue Cost Explorer answers; each new GetCostAndUsage request takes the next one."""
        self._post("/moto-api/static/ce/cost-and-usage-results", {"results": results})

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[dict[str, Any]]]:
        """Record every request moto receives inside the block; the list fills when the block ends."""
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")
        recorded: list[dict[str, Any]] = []
        try:
            yield recorded
        finally:
            self._post("/moto-api/recorder/stop-recording")
            with urllib.request.urlopen(self.url + "/moto-api/recorder/download-recording", timeout=30) as answer:
                text = answer.read().decode()
            recorded.extend(json.loads(line) for line in text.splitlines() if line.strip())


# --- which operation a request is -------------------------------------------------------------

_SIGNER = re.compile(r"Credential=([^/]+)/")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Call:
    service: str  # the signing name: ec2, iam, lambda, ...
    region: str
    operation: str
    method: str
    key: str = ""  # the access key that signed it

    @property
    def action(self) -> str:
        return f"{self.service}:{self.operation}"


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def _rest_routes(service: str) -> list[tuple[str, re.Pattern[str], str]]:
    routes = []
    model = _model(service)
    for name in model.operation_names:
        op = model.operation_model(name)
        uri = op.http["requestUri"].split("?", 1)[0].rstrip("/") or "/"
        pattern = re.sub(r"\{[^}]+\+\}", ".+", uri)
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", pattern)
        routes.append((op.http["method"], re.compile(pattern), name))
    return routes


def identify(method: str, path: str, headers: Any, body: bytes) -> Call:
    """Name the AWS operation of a request from its signature scope and protocol."""
    scope = _SCOPE.search(headers.get("Authorization", ""))
    region, service = scope.groups() if scope else ("", "")
    target = headers.get("X-Amz-Target", "")
    if target:
        return Call(service, region, target.rsplit(".", 1)[-1], method)
    if "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        return Call(service, region, action, method)
    bare = urllib.parse.urlsplit(path).path.rstrip("/") or "/"
    for verb, pattern, name in _rest_routes(service) if service else ():
        if verb == method and pattern.fullmatch(bare):
            return Call(service, region, name, method)
    return Call(service, region, f"{method} {bare}", method)


def recorded_calls(recorded: list[dict[str, Any]]) -> list[Call]:
    """The operations in moto's recording (one entry per request moto received)."""
    import base64

    calls = []
    for entry in recorded:
        body = entry.get("body") or ""
        raw = base64.b64decode(body) if entry.get("body_encoded") else body.encode()
        path = urllib.parse.urlsplit(entry["url"]).path
        calls.append(identify(entry["method"], path, entry["headers"], raw))
    return calls


# --- answers the proxy makes up ---------------------------------------------------------------

Reply = tuple[int, dict[str, str], bytes]


def error_reply(call: Call, kind: str) -> Reply:
    """AccessDenied or throttling, in the error format of the operation's protocol."""
    protocol = _model(call.service).metadata["protocol"]
    denied = kind == "denied"
    if protocol == "ec2":
        code, status = ("UnauthorizedOperation", 403) if denied else ("RequestLimitExceeded", 503)
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>"
                f"<Message>test proxy: {code}</Message></Error></Errors><RequestID>r1</RequestID></Response>")
        return status, {"Content-Type": "text/xml"}, body.encode()
    if protocol == "query":
        code, status = ("AccessDenied", 403) if denied else ("Throttling", 400)
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>test proxy: {code}"
                f"</Message></Error><RequestId>r1</RequestId></ErrorResponse>")
        return status, {"Content-Type": "text/xml"}, body.encode()
    if protocol == "json":
        code = "AccessDeniedException" if denied else "ThrottlingException"
        return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(
            {"__type": code, "message": f"test proxy: {code}"}).encode()
    code, status = ("AccessDeniedException", 403) if denied else ("TooManyRequestsException", 429)
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, json.dumps(
        {"message": f"test proxy: {code}"}).encode()


def json_reply(payload: Any, *, rest: bool = False) -> Reply:
    content_type = "application/json" if rest else "application/x-amz-json-1.1"
    return 200, {"Content-Type": content_type}, json.dumps(payload, default=str).encode()


# Operations moto's server does not implement at all, which every sweep now calls: the proxy answers them
# "none here" unless a test gives its own answer (moto 5.2 has Bedrock's custom models, not this).
MOTO_LACKS: dict[str, Callable[[Call], Reply]] = {
    "bedrock:ListProvisionedModelThroughputs": lambda c: json_reply({"provisionedModelSummaries": []}, rest=True),
}


@dataclass
class Fault:
    kind: str  # "denied" | "throttled"
    times: int | None = None  # None: every time; else only the first `times` requests
    regions: frozenset[str] | None = None  # None: every region
    body_contains: bytes | None = None  # None: every request; else only those whose body holds these bytes
    seen: int = 0


# --- the proxy --------------------------------------------------------------------------------


@dataclass
class AwsProxy:
    """A recording, fault-injecting HTTP proxy in front of moto."""

    upstream: str
    delay: float = 0.0
    faults: dict[str, Fault] = field(default_factory=dict)  # by action: "ec2:DescribeVolumes"
    canned: dict[str, Callable[[Call], Reply]] = field(default_factory=dict)
    replay: bool = False  # answer a request seen before with moto's earlier answer (benchmarks only)
    calls: list[Call] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self.canned = {**MOTO_LACKS, **self.canned}
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str, str, bytes], Reply] = {}
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def fault_for(self, call: Call, body: bytes = b"") -> str | None:
        with self._lock:
            fault = self.faults.get(call.action)
            if fault is None or (fault.regions is not None and call.region not in fault.regions):
                return None
            if fault.body_contains is not None and fault.body_contains not in body:
                return None
            fault.seen += 1
            if fault.times is not None and fault.seen > fault.times:
                return None
            return fault.kind

    def actions(self) -> set[str]:
        with self._lock:
            return {c.action for c in self.calls}

    def recalled(self, call: Call, path: str, body: bytes, who: str = "") -> Reply | None:
        """`who`: the access key that signed the request, so that each account gets its own answers."""
        if not self.replay:
            return None
        with self._lock:
            return self._answers.get((who, call.region, call.action, path, body))

    def remember(self, call: Call, path: str, body: bytes, reply: Reply, who: str = "") -> None:
        if self.replay and 200 <= reply[0] < 300:
            with self._lock:
                self._answers[(who, call.region, call.action, path, body)] = reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart
    owner: AwsProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        proxy = self.owner
        who = _SIGNER.search(self.headers.get("Authorization", ""))
        signer = who.group(1) if who else ""
        call = replace(identify(self.command, self.path, self.headers, body), key=signer)
        if not self.path.startswith("/moto-api"):
            proxy.record(call)
            if proxy.delay:
                time.sleep(proxy.delay)
        fault = proxy.fault_for(call, body)
        if fault:
            self._send(*error_reply(call, fault))
        elif call.action in proxy.canned:
            self._send(*proxy.canned[call.action](call))
        else:
            reply = proxy.recalled(call, self.path, body, signer)
            if reply is None:
                reply = self._forward(body)
                proxy.remember(call, self.path, body, reply, signer)
            self._send(*reply)

    def _forward(self, body: bytes) -> Reply:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        for attempt in (1, 2):  # a kept-alive connection moto has closed is opened again, once
            connection = self._upstream()
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            except (http.client.HTTPException, OSError):
                connection.close()
                self._connection = None
                if attempt == 2:
                    raise
                continue
            if answer.will_close:
                connection.close()
                self._connection = None
            kept = {k: v for k, v in answer.getheaders()
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive")}
            return answer.status, kept, data
        raise AssertionError("unreachable")

    _connection: http.client.HTTPConnection | None = None

    def _upstream(self) -> http.client.HTTPConnection:
        """One connection to moto per client connection, kept alive while moto allows."""
        if self._connection is None:
            target = urllib.parse.urlsplit(self.owner.upstream)
            self._connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        return self._connection

    def finish(self) -> None:
        super().finish()
        if self._connection is not None:
            self._connection.close()

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# --- environment and fixtures -----------------------------------------------------------------


@contextlib.contextmanager
def aws_environment(endpoint: str, **extra: str) -> Iterator[None]:
    """Fake credentials and the endpoint in os.environ (boto3 reads them there), restored afterwards."""
    saved = {k: os.environ.get(k) for k in (*FAKE_ENV, *_CLEARED, "AWS_ENDPOINT_URL", *extra)}
    try:
        for key in _CLEARED:
            os.environ.pop(key, None)
        os.environ.update(FAKE_ENV)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        os.environ.update(extra)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


def quiet_account_replies() -> dict[str, Callable[[Call], Reply]]:
    """Answers for the read calls moto lacks, as an account with none of them would give (no Lightsail, no
    CloudTrail events, a forecast, a contact)."""

    def forecast(call: Call) -> Reply:
        return json_reply({"Total": {"Amount": "98000", "Unit": "USD"}, "ForecastResultsByTime": []})

    def contact(call: Call) -> Reply:
        return json_reply({"ContactInformation": {"FullName": "Taro Yamada", "PhoneNumber": "+81-3-0000-0000",
                                                  "CountryCode": "JP", "AddressLine1": "1-1", "City": "Tokyo",
                                                  "PostalCode": "100-0001"}}, rest=True)

    return {"lightsail:GetInstances": lambda call: json_reply({"instances": []}),
            "cloudtrail:LookupEvents": lambda call: json_reply({"Events": []}),
            "ce:GetCostForecast": forecast, "account:GetContactInformation": contact}
