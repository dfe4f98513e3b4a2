"""Every code an account report can carry has its Japanese word, so the reader never meets a bare code."""

from __future__ import annotations

from triage import paths
from triage.account.records import GAP_KINDS, RESOURCE_TYPES
from triage.account.suspicion import REASONS
from triage.render import load_texts

WORDS = load_texts(paths.templates_dir()).env.get_template("_account_words.j2").module


def test_every_resource_type_has_a_name():
    assert set(RESOURCE_TYPES) - set(WORDS.type_names) == set()  # type: ignore[attr-defined]


def test_every_suspicion_reason_has_words():
    assert set(REASONS) - set(WORDS.reason_names) == set()  # type: ignore[attr-defined]


def test_every_gap_kind_has_words():
    assert set(GAP_KINDS) - set(WORDS.gap_names) == set()  # type: ignore[attr-defined]
