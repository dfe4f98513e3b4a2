"""Dates and money as a Japanese reader expects them; the words come from templates/texts.toml."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage import paths
from triage.errors import RulesError
from triage.render import load_texts


def test_dates_are_japan_time_with_weekday():
    formats = load_texts(paths.templates_dir()).env.filters
    assert formats["jst"](datetime(2026, 3, 5, 6, 10, tzinfo=UTC)) == "2026年3月5日（木）午後3時10分（日本時間）"
    assert formats["jst"](datetime(2026, 3, 4, 22, 5, tzinfo=UTC)) == "2026年3月5日（木）午前7時05分（日本時間）"
    assert formats["jst"](None) == "日時不明"


@pytest.mark.parametrize("usd, text", [(30, "約4,500円"), (8_789, "約132万円"), (126_000, "約1,890万円"),
                                       (1_000_000, "約1.5億円")])
def test_yen_is_counted_in_man_and_oku(usd, text):
    assert load_texts(paths.templates_dir()).env.filters["yen"](usd, 150) == text


def test_dollars():
    usd = load_texts(paths.templates_dir()).env.filters["usd"]
    assert (usd(55.2), usd(8421.4)) == ("55.20ドル", "8,421ドル")


def test_the_words_are_data(tmp_path: Path):
    shutil.copytree(paths.templates_dir(), tmp_path / "templates")
    texts = tmp_path / "templates" / "texts.toml"
    texts.write_text(texts.read_text(encoding="utf-8").replace('unknown_date = "日時不明"', 'unknown_date = "不明"'),
                     encoding="utf-8")
    assert load_texts(tmp_path / "templates").env.filters["jst"](None) == "不明"
    texts.write_text(texts.read_text(encoding="utf-8").replace("[formats]", "[unused]"), encoding="utf-8")
    with pytest.raises(RulesError, match=r"\[formats\] needs"):
        load_texts(tmp_path / "templates")
