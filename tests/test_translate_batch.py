"""Requests stay within DeepL's limits: ≤ 50 texts and ≤ 100 KB of JSON as the library encodes it."""

import json

from triage.translate.batch import MAX_BYTES, MAX_TEXTS, encoded_size, plan_batches
from triage.translate.client import request_body


def test_at_most_50_texts_a_request_in_order():
    texts = [f"Sentence number {i}." for i in range(120)]
    plan = plan_batches(texts, context="subject", glossary_id="g")
    assert [len(b) for b in plan.batches] == [50, 50, 20]
    assert [t for b in plan.batches for t in b] == texts


def test_size_is_measured_as_sent_where_non_ascii_costs_six_bytes():
    assert encoded_size(["あ"], context="", glossary_id=None) - encoded_size(["a"], context="", glossary_id=None) == 5
    texts = ["ア" * 3000] * 20  # 18 KB each once escaped
    plan = plan_batches(texts, context="件名", glossary_id="g")
    assert len(plan.batches) > 1
    for batch in plan.batches:
        body = json.dumps(request_body(list(batch), context="件名", glossary_id="g")).encode()
        assert len(body) <= MAX_BYTES
        assert len(batch) <= MAX_TEXTS


def test_a_text_too_large_for_any_request_is_set_aside():
    plan = plan_batches(["short", "x" * (MAX_BYTES + 1), "also short"], context="", glossary_id=None)
    assert plan.batches == (("short", "also short"),)
    assert plan.too_large == ("x" * (MAX_BYTES + 1),)
