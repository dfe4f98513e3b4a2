"""Is this mail already Japanese? Then the owner reads it as it is and nothing is sent to DeepL."""

from __future__ import annotations

import re

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_LATIN = re.compile(r"[A-Za-z]")
# One Japanese character carries about as much as three Latin letters. A mail counts as Japanese when at
# least half its weighted letters are Japanese: AWS Japan's bilingual notices (Japanese, then English)
# are Japanese; an English notice that quotes a Japanese name is not.
_JAPANESE_WEIGHT = 3


def is_japanese(text: str) -> bool:
    japanese = len(_JAPANESE.findall(text)) * _JAPANESE_WEIGHT
    latin = len(_LATIN.findall(text))
    return japanese > 0 and japanese >= latin
