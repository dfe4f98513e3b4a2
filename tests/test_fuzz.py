"""Fuzzing: hostile mails made by hypothesis, driven through parse → authenticate → classify → cases →
render → a real aiosmtpd. No mail may end the scan, and what the SMTP server receives must hold no foreign
link, no live HTML from a mail, no raw bidi or zero-width character and no injected header.

`make test` runs the short profile; `make fuzz` runs TRIAGE_FUZZ=fuzz (10,000 examples). A failure found
here becomes a named regression mail in tests/hostile/.

The fuzz profile runs in rounds of 1,000 examples, each a hypothesis run of its own seed: hypothesis keeps
what it learns of every example of a run (its cache of up to 10,000 results and the tree of choices made),
about 45 KB an example here, so one run of 10,000 examples grew to ~530 MB; a round's bookkeeping is dropped
when it ends. The seeds are BASE+0, BASE+1, ... (shown in the test ids); TRIAGE_FUZZ_SEED=BASE repeats a run,
and a failure prints the blob for @reproduce_failure.
"""

from __future__ import annotations

import base64
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests import smtp as smtp_server
from tests.scanning import Collected
from tests.test_hostile import CLICKABLE, FOREIGN_HOSTS, HIDDEN, OWN_LINK, _tags
from triage import paths
from triage.config import Config, NotifySettings, SmtpSettings
from triage.mail import Origin, RawMail
from triage.notify import smtp_sender
from triage.pipeline import Context, ScanOptions, Services, load_context, scan
from triage.sources import Batch
from triage.state import State, open_state

PROFILES = {"short": (200, 1), "fuzz": (10_000, 10)}  # examples in all, rounds
for _name, (_examples, _rounds) in PROFILES.items():
    settings.register_profile(_name, max_examples=_examples // _rounds, deadline=None, database=None, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
PROFILE = os.environ.get("TRIAGE_FUZZ", "short")
settings.load_profile(PROFILE)
ROUNDS = PROFILES[PROFILE][1]
BASE_SEED = int(os.environ.get("TRIAGE_FUZZ_SEED") or random.SystemRandom().randrange(2**32))

# The tags triage writes: the HTML template's own and those text_to_html makes (never <script>, <img>...).
OUR_TAGS = set(re.findall(r"<([a-z][a-z0-9]*)", (Path(__file__).parent.parent / "templates" / "summary.html.j2")
                          .read_text(encoding="utf-8"))) | {"p", "h2", "ol", "ul", "li", "a", "br"}
CHARSETS = ["utf-8", "iso-2022-jp", "shift_jis", "euc-jp", "latin-1", "us-ascii", "bz2", "hex", "zlib", "uu",
            "base64", "rot13", "idna", "punycode", "undefined", "utf-7", "utf-16", "x-made-up", "", "utf-8*en",
            '"utf-8', "unicode_escape", "cp932"]
EVIL = ["https://console.aws.amazon.com.aws-login.example.net/login", "http://evil.example/x?a=b",
        "www.evil.example", "evil.example", "<a href=\"https://evil.example/\">click</a>", "javascript:alert(1)"]
HIDDEN_CHARS = ["\u202e", "\u202d", "\u200b", "\u200f", "\u2066", "\ufeff", "\u00ad"]
AWS_WORDS = ["[ACTION REQUIRED] Your AWS account 123456789012 may be compromised", "AWS Notification",
             "Amazon Web Services Billing Statement", "Your AWS Free Tier usage", "[CASE 17100200301]"]

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
words = st.one_of(text, st.sampled_from(EVIL), st.sampled_from(AWS_WORDS), st.sampled_from(HIDDEN_CHARS),
                  st.just("\r\nBcc: victim@example.net\r\n"))
phrase = st.lists(words, max_size=6).map(" ".join)


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(CHARSETS)) or "utf-8"
    raw = draw(phrase).encode("utf-8", errors="replace")
    if draw(st.booleans()):
        payload = base64.b64encode(raw).decode()
        payload = draw(st.sampled_from([payload, payload[:-1], payload + "!", "A", payload.rstrip("=")]))
        return f"=?{charset}?B?{payload}?="
    payload = "".join(f"={b:02X}" if b > 126 or b < 33 or b in b"=?_" else chr(b) for b in raw)
    return f"=?{charset}?Q?{draw(st.sampled_from([payload, payload + '=', payload + '=Z']))}?="


header_value = st.one_of(phrase, encoded_word(), st.lists(encoded_word(), min_size=2, max_size=40).map(" ".join),
                         st.integers(1, 20_000).map(lambda n: "x" * n))
address = st.one_of(
    st.sampled_from(['"Amazon Web Services" <no-reply-aws@amazon.com>', "aws-notifications@amazon.com",
                     "security@aws-login.example.net", "<>", "", "@", "a@b@c", "no-reply-aws@amazon.com\u200b"]),
    st.integers(1, 3000).map(lambda n: "(" * n + "x" + ")" * n + " <no-reply-aws@amazon.com>"),
    st.builds(lambda w, a: f"{w} <{a}>", encoded_word(), st.sampled_from(["no-reply@amazon.com", "x@evil.example"])),
    phrase,
)
date = st.one_of(st.just("Tue, 10 Nov 2026 06:00:00 +0000"), phrase,
                 st.builds(lambda y, z: f"Fri, 31 Dec {y} 23:59:59 {z}", st.integers(0, 99999),
                           st.sampled_from(["+0000", "-1200", "+1400", "+9999", "GMT"])))


@st.composite
def body(draw: st.DrawFn, depth: int = 0) -> tuple[list[str], bytes]:
    """(extra headers, body bytes) of one MIME entity, nested up to three levels."""
    kind = draw(st.sampled_from(["text", "html", "binary", "multipart", "broken-multipart", "base64"]))
    charset = draw(st.sampled_from(CHARSETS))
    content = draw(phrase).encode("utf-8", errors="replace")
    if kind == "text":
        return [f"Content-Type: text/plain; charset={charset}"], content
    if kind == "html":
        link = draw(st.sampled_from(EVIL))
        return [f"Content-Type: text/html; charset={charset}"], f'<p>{link}<a href="{link}">x</a></p>'.encode()
    if kind == "binary":
        return [f"Content-Type: text/plain; charset={charset}"], draw(st.binary(max_size=400))
    if kind == "base64":
        data = base64.b64encode(content)[: draw(st.integers(0, 200))] + draw(st.sampled_from([b"", b"!!", b"="]))
        return [f"Content-Type: text/plain; charset={charset}", "Content-Transfer-Encoding: base64"], data
    boundary = draw(st.sampled_from(["b1", "", "x" * 80, "=?utf-8?q?b?=", "b1\r\nBcc: x"]))
    parts = draw(st.lists(body(depth + 1) if depth < 2 else st.just((["Content-Type: text/plain"], b"leaf")),
                          max_size=4))
    many = draw(st.integers(0, 1)) * draw(st.integers(0, 300))
    chunks = [b"--" + boundary.encode() + b"\r\n" + "\r\n".join(h).encode() + b"\r\n\r\n" + c for h, c in parts]
    chunks += [b"--" + boundary.encode() + b"\r\n\r\nx"] * many
    end = b"" if kind == "broken-multipart" else b"--" + boundary.encode() + b"--\r\n"
    return [f'Content-Type: multipart/mixed; boundary="{boundary}"'], b"\r\n".join(chunks) + b"\r\n" + end


@st.composite
def hostile_mail(draw: st.DrawFn) -> bytes:
    fields = {"From": draw(address), "Subject": draw(header_value), "Date": draw(date),
              "Message-ID": draw(st.sampled_from(["<m@x>", "", "<" + "a" * 5000 + ">", "no brackets"])),
              "To": draw(address), "Reply-To": draw(address)}
    lines = [f"{k}: {v}" for k, v in fields.items() if draw(st.booleans()) or k in ("From", "Subject")]
    extra, content = draw(body())
    lines += ["MIME-Version: 1.0", *extra]
    head = "\r\n".join(lines).encode("utf-8", errors="replace")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(head)))
        head = head[:at] + b"\x00" + head[at:]
    return head + b"\r\n\r\n" + content


@dataclass
class OneMail:
    data: bytes
    name: str = "eml"

    def batches(self, state: State, *, rescan: bool) -> Iterator[Batch]:
        yield Batch((RawMail(self.data, Origin("eml", "fuzz.eml")),))


@dataclass(frozen=True)
class Pipeline:
    context: Context  # built once: the templates compile once, as in a long scan
    server: smtp_server.SmtpServer


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    for server in smtp_server.start():
        smtp = SmtpSettings(host=server.host, port=server.port, tls="none", sender="triage@example.jp")
        config = Config(smtp=smtp, notify=NotifySettings(to=("owner@example.jp",), min_severity="info"))
        services = Services(send=smtp_sender(smtp, config.notify.to, {}))
        options = ScanOptions(no_aws=True, no_translate=True, all_mail=True)
        yield Pipeline(load_context(config, paths.rules_dir(), paths.templates_dir(), options, services), server)


FOREIGN = re.compile("|".join(re.escape(h) for h in (*FOREIGN_HOSTS, "evil.example")))


@pytest.mark.parametrize("round_seed", [BASE_SEED + n for n in range(ROUNDS)], ids=lambda s: f"seed={s}")
def test_no_hostile_mail_ends_a_scan_or_reaches_the_owner_live(pipeline, round_seed):
    @seed(round_seed)
    @given(data=hostile_mail())
    def one_mail(data: bytes) -> None:
        _check(pipeline, data)

    one_mail()


def _check(pipeline: Pipeline, data: bytes) -> None:
    inbox = pipeline.server.inbox
    inbox.messages.clear()
    with open_state(":memory:") as state:
        totals = scan(pipeline.context, OneMail(data), state, Collected())
    assert totals.errors == []
    for message in inbox.messages:
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert not FOREIGN.search(text) and not FOREIGN.search(html)
        tags, hrefs = _tags(html)
        assert tags <= OUR_TAGS, tags - OUR_TAGS  # only the tags triage writes
        # triage's own console links only, global or for a region (https://ap-south-1.console.aws.amazon.com/)
        assert all(OWN_LINK.match(h) for h in hrefs), hrefs
        for part in (text, html):  # and no other clickable scheme in the text, wherever it stands
            assert all(OWN_LINK.match(part, m.start()) for m in CLICKABLE.finditer(part))
        assert not HIDDEN.search(text) and not HIDDEN.search(html)
        assert set(message.keys()) <= {"From", "To", "Subject", "Date", "Message-ID", "X-Triage-Case",
                                       "X-Triage-Severity", "Auto-Submitted", "Content-Type", "MIME-Version"}
        assert not HIDDEN.search(str(message["Subject"]))
