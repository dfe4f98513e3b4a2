"""Every code an account report can carry has its Japanese word, so the reader never meets a bare code."""

from __future__ import annotations

from datetime import date

from triage import paths
from triage.account.collectors import COLLECTORS, RESOURCE_TYPES
from triage.account.records import GAP_KINDS, GLOBAL
from triage.account.suspicion import REASONS
from triage.render import load_texts

WORDS = load_texts(paths.templates_dir()).env.get_template("_account_words.j2").module


def test_every_resource_type_has_a_name():
    assert len(RESOURCE_TYPES) >= 20  # the collectors were found
    assert set(RESOURCE_TYPES) - set(WORDS.type_names) == set()  # type: ignore[attr-defined]


def test_every_listing_a_gap_can_name_has_words():
    """A gap names the listing that failed (a task's call); the summary says it in Japanese."""
    tasks = [t for c in COLLECTORS for t in c.tasks("us-east-1" if c.regional else GLOBAL, date(2026, 3, 1))]
    assert len(tasks) > 20
    assert {t.what for t in tasks} - set(WORDS.call_names) == set()  # type: ignore[attr-defined]


def test_every_suspicion_reason_has_words():
    assert set(REASONS) - set(WORDS.reason_names) == set()  # type: ignore[attr-defined]


def test_every_gap_kind_has_words():
    assert set(GAP_KINDS) - set(WORDS.gap_names) == set()  # type: ignore[attr-defined]


def test_each_resource_type_is_declared_once_with_its_place_and_console_page():
    kinds = [k for c in COLLECTORS for k in c.kinds]
    assert len({k.code for k in kinds}) == len(kinds) and len({k.rank for k in kinds}) == len(kinds)
    for k in kinds:
        url = k.console.format(r="eu-west-3")
        assert url.startswith("https://") and "{" not in url, k.code
        assert "region=" not in url or "region=eu-west-3" in url, k.code
