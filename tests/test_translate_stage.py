"""The translation stage against a DeepL-compatible server on loopback, through the real `deepl` client."""

import ipaddress
import logging
import platform
import re

import deepl
import pytest

from tests.deepl_server import MARK
from tests.translate_helpers import FIXTURES, all_mail_files, case_of, classified, fixture, stage
from triage.config import DeeplSettings
from triage.errors import ConfigError
from triage.state import open_state
from triage.translate import DeeplAuthError, RetryPolicy, translation_service
from triage.translate.redact import LINK_MARKER

COMPROMISED = fixture("01-compromised-account.eml")
SAME_TEMPLATE = fixture("02-compromised-account-other-account.eml")
EXPOSED = fixture("04-exposed-credentials.eml")


# --- what the reader must never have sent: found by the test's own patterns, not the code's ---------

# Shapes, not canonical forms: an id of an unusual length, truncated or masked is still an id.
_TEST_PATTERNS = (
    r"(?<![\d.])\d{8,}(?!\d)", r"\d{4}-\d{4}-\d{4}", r"(?:AKIA|ASIA)[A-Z0-9*•.…]{2,}",
    r"arn:aws[^\s)>\"']*[\w/]", r"[A-Za-z0-9]+[*•]{3,}[A-Za-z0-9]*", r"[*•]{3,}[A-Za-z0-9]+",
    r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]*\d)(?=[A-Za-z0-9/+=]*[a-z])(?=[A-Za-z0-9/+=]*[A-Z])[A-Za-z0-9/+=]{16,}",
    r"\b(?:i|vol|snap|eni|sg|subnet|vpc|ami)-[0-9a-f]{4,}\b", r"\b[A-Z]{4}-[A-Z]{4}\b",
    r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-(?:north|south|east|west|central|northeast|southeast)-\d\b",
    r"https?://[^\s<>\"]+", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])",
    r"[0-9a-fA-F:]*::?[0-9a-fA-F:]+",
)


def identifiers_in(text: str) -> set[str]:
    found = set()
    for pattern in _TEST_PATTERNS:
        for match in re.findall(pattern, text):
            if ":" in match and "." not in match and "/" not in match:  # IPv6 candidates: only real ones
                try:
                    ipaddress.IPv6Address(match)
                except ValueError:
                    continue
            if re.fullmatch(r"[\d.]+", match):
                try:
                    ipaddress.IPv4Address(match)
                except ValueError:
                    continue
            found.add(match)
    return found


def test_no_request_ever_carries_an_identifier_from_a_mail(deepl_server):
    files = all_mail_files()
    assert len([f for f in files if f.parent == FIXTURES]) >= 10, "the stage's own fixtures are missing"
    expected: dict[str, set[str]] = {}
    with open_state(":memory:") as state:
        translate = stage(deepl_server, state)
        for path in files:
            item = classified(path)
            # Every mail is pushed through as if it needed a summary; only marketing keeps its kind.
            kind = "marketing" if item.kind == "marketing" else "support-case-update"
            translate(case_of(path, kind=kind))
            expected[path.name] = identifiers_in(f"{item.mail.subject}\n{item.mail.text}")
    assert sum(len(v) for v in expected.values()) >= 50, "the mails should be full of identifiers"
    sent = [r.decoded_body for r in deepl_server.requests] + [r.body.decode() for r in deepl_server.requests]
    sent += [r.path for r in deepl_server.requests]
    leaks = sorted({(name, i) for name, ids in expected.items() for i in ids if any(i in body for body in sent)})
    assert leaks == []
    assert len(deepl_server.translate_requests()) >= 5  # the mails were really translated
    assert any("third party has gained access" in body for body in sent)


def test_a_case_is_translated_as_documented(deepl_server):
    with open_state(":memory:") as state:
        t = stage(deepl_server, state)(case_of(COMPROMISED))
    request = deepl_server.translate_requests()[0]
    body = request.json
    assert (body["source_lang"], body["target_lang"], body["formality"], body["tag_handling"]) == \
        ("EN", "JA", "prefer_more", "xml")
    assert body["context"] == '[ACTION REQUIRED] Your AWS account <x id="1"/> may be compromised [CASE <x id="2"/>]'
    assert re.fullmatch(r"deepl-python/[\d.]+", request.headers["user-agent"])  # no platform information
    assert platform.platform() not in request.headers["user-agent"]
    assert t is not None and t.problem == "" and t.billed_characters > 0
    (mail,) = t.mails
    assert mail.status == "translated"
    assert not [x for x in body["text"] if "[ACTION REQUIRED]" in x or "Dear" in x]  # the subject is context only
    text = "\n".join(line.text for p in mail.paragraphs for line in p)
    # identifiers are back, in the reader's summary; links are not
    for identifier in ("2109-8765-4321", "i-0a1b2c3d4e5f67890", "ap-south-1", "AKIAQ7EXAMPLEKEY7ABC",
                       "arn:aws:iam::210987654321:user/deploy-bot", "198.51.100.23", "2001:db8:4f2a::17"):
        assert identifier in text
    assert LINK_MARKER in text and "https://" not in text
    assert "Sincerely" not in text and "registered trademark" not in text and "Dear AWS Customer" not in text


def test_cache_hit_sends_no_request_in_a_later_run(deepl_server, tmp_path):
    db = tmp_path / "state.sqlite3"
    with open_state(db) as state:
        first = stage(deepl_server, state)(case_of(COMPROMISED))
    seen = len(deepl_server.requests)
    with open_state(db) as state:
        again = stage(deepl_server, state)(case_of(COMPROMISED))
    assert len(deepl_server.requests) == seen  # not even the usage or glossary check
    assert again == first.__class__(first.mails, "", 0)


def test_the_same_template_about_another_account_costs_nothing(deepl_server):
    with open_state(":memory:") as state:
        translate = stage(deepl_server, state)
        translate(case_of(COMPROMISED))
        sent = len(deepl_server.translate_requests())
        other = translate(case_of(SAME_TEMPLATE))
    assert len(deepl_server.translate_requests()) == sent
    assert other is not None and other.billed_characters == 0 and other.mails[0].status == "translated"
    text = "\n".join(line.text for p in other.mails[0].paragraphs for line in p)
    assert "3456-7890-1234" in text and "eu-west-3" in text and "2109-8765-4321" not in text


def test_marketing_and_phishing_are_never_translated(deepl_server):
    with open_state(":memory:") as state:
        translate = stage(deepl_server, state)
        assert classified(fixture("09-marketing.eml")).kind == "marketing"
        assert translate(case_of(fixture("09-marketing.eml"))) is None
        assert translate(case_of(EXPOSED, kind="phishing")) is None
    assert deepl_server.requests == []


def test_a_japanese_mail_is_not_translated(deepl_server):
    with open_state(":memory:") as state:
        t = stage(deepl_server, state)(case_of(fixture("08-japanese-notice.eml"), kind="compromised-account"))
    assert t is not None and [m.status for m in t.mails] == ["japanese"]
    assert deepl_server.requests == []


@pytest.mark.parametrize("environ", [{}, {"DEEPL_AUTH_KEY": ""}, {"DEEPL_AUTH_KEY": "  "}])
def test_no_key_means_no_translation_quietly(environ, caplog, tmp_path):
    with open_state(":memory:") as state:
        built = translation_service(DeeplSettings(server_url="http://127.0.0.1:9"), environ, state,
                                    glossary_path=tmp_path / "missing.tsv")
    assert built is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_403_is_a_configuration_error_reported_in_the_summary(deepl_server, caplog):
    with open_state(":memory:") as state:
        translate = stage(deepl_server, state, key="not-the-key")
        t = translate(case_of(COMPROMISED))
        seen = len(deepl_server.requests)
        later = translate(case_of(EXPOSED))
    assert issubclass(DeeplAuthError, ConfigError)
    assert t is not None and t.problem == "unauthorized" and t.mails[0].status == "original"
    text = "\n".join(line.text for p in t.mails[0].paragraphs for line in p)
    assert "We have detected activity in your AWS account 2109-8765-4321" in text  # the English, whole
    assert later is not None and later.problem == "unauthorized"
    assert len(deepl_server.requests) == seen  # stopped for the rest of the run
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "$DEEPL_AUTH_KEY" in errors[0] and "403" in errors[0] and "\n" not in errors[0]


def test_456_stops_translation_for_the_run_without_retrying(deepl_server):
    deepl_server.fail("/v2/translate", 456)
    with open_state(":memory:") as state:
        translate = stage(deepl_server, state)
        t = translate(case_of(COMPROMISED))
        later = translate(case_of(EXPOSED))
    assert len(deepl_server.translate_requests()) == 1
    assert t is not None and t.problem == "quota" and t.mails[0].status == "original"
    assert later is not None and later.problem == "quota"


def test_usage_at_the_limit_sends_no_text(deepl_server):
    deepl_server.character_count = deepl_server.character_limit
    with open_state(":memory:") as state:
        t = stage(deepl_server, state)(case_of(COMPROMISED))
    assert t is not None and t.problem == "quota"
    assert deepl_server.translate_requests() == []


def test_a_batch_that_would_pass_the_limit_is_not_sent(deepl_server):
    deepl_server.character_count = deepl_server.character_limit - 20
    with open_state(":memory:") as state:
        t = stage(deepl_server, state)(case_of(COMPROMISED))
    assert t is not None and t.problem == "quota"
    assert deepl_server.translate_requests() == []


def test_429_uses_the_librarys_retries_then_shows_the_original(deepl_server):
    defaults = (deepl.http_client.max_network_retries, deepl.http_client.min_connection_timeout)
    deepl_server.fail("/v2/translate", 429, times=10)
    with open_state(":memory:") as state:
        translate = stage(deepl_server, state, retry=RetryPolicy(max_retries=1, min_timeout=2.0))
        t = translate(case_of(COMPROMISED))
        later = translate(case_of(EXPOSED))
    assert len(deepl_server.translate_requests()) == 2  # the first try and the library's one retry, no more
    assert t is not None and t.problem == "unavailable" and t.mails[0].status == "original"
    assert later is not None and later.problem == "unavailable"  # no second round of retries in this run
    assert (deepl.http_client.max_network_retries, deepl.http_client.min_connection_timeout) == defaults


def test_a_passing_500_is_absorbed_by_the_librarys_retry(deepl_server):
    deepl_server.fail("/v2/translate", 500)
    with open_state(":memory:") as state:
        t = stage(deepl_server, state)(case_of(COMPROMISED))
    assert len(deepl_server.translate_requests()) == 2
    assert t is not None and t.problem == "" and t.mails[0].status == "translated"


def test_a_lasting_500_shows_the_original_and_is_not_cached(deepl_server, tmp_path):
    deepl_server.fail("/v2/translate", 500, times=2)
    db = tmp_path / "state.sqlite3"
    with open_state(db) as state:
        t = stage(deepl_server, state)(case_of(COMPROMISED))
    assert t is not None and t.problem == "unavailable"
    with open_state(db) as state:
        t = stage(deepl_server, state)(case_of(COMPROMISED))
    assert t is not None and t.problem == "" and t.mails[0].status == "translated"


def test_an_unreachable_server_shows_the_original(deepl_server):
    deepl_server.stop()
    with open_state(":memory:") as state:
        t = stage(deepl_server, state, retry=RetryPolicy(max_retries=0, min_timeout=2.0))(case_of(COMPROMISED))
    assert t is not None and t.problem == "unavailable" and t.mails[0].status == "original"


@pytest.mark.parametrize("damage", ["drop", "duplicate"])
def test_a_lost_or_doubled_placeholder_shows_the_original_block(deepl_server, tmp_path, damage):
    deepl_server.placeholders = damage
    db = tmp_path / "state.sqlite3"
    with open_state(db) as state:
        t = stage(deepl_server, state)(case_of(COMPROMISED))
    assert t is not None and t.rejected > 0 and t.mails[0].status == "partial"
    english = [line.text for p in t.mails[0].paragraphs for line in p if not line.translated]
    assert any("i-0a1b2c3d4e5f67890" in line and not line.startswith(MARK) for line in english)
    deepl_server.placeholders = "keep"
    with open_state(db) as state:
        again = stage(deepl_server, state)(case_of(COMPROMISED))
    assert again is not None and again.rejected == 0 and again.mails[0].status == "translated"


def test_a_long_mail_is_batched_within_limits_and_cut(deepl_server, tmp_path):
    lines = "\n".join(f"Finding {i}: access key rotation needed for user number {i}" for i in range(400))
    path = tmp_path / "long.eml"
    path.write_bytes(COMPROMISED.read_bytes().split(b"\n\n", 1)[0] + b"\n\n" + lines.encode() + b"\n")
    with open_state(":memory:") as state:
        t = stage(deepl_server, state)(case_of(path))
    requests = deepl_server.translate_requests()
    assert len(requests) >= 2
    assert all(len(r.json["text"]) <= 50 and len(r.body) <= 100_000 for r in requests)
    assert t is not None and t.mails[0].truncated and t.mails[0].status == "translated"
    assert deepl_server.billed() <= 5000 + 200  # the per-mail budget, plus the subject


def test_a_bug_in_the_stage_costs_the_translation_not_the_summary(deepl_server, monkeypatch, caplog):
    with open_state(":memory:") as state:
        translate = stage(deepl_server, state)
        monkeypatch.setattr(translate, "_prepare", lambda item: 1 / 0)
        assert translate(case_of(COMPROMISED)) is None
    assert any("translation failed" in r.getMessage() for r in caplog.records)
