"""Translations remembered in the state: a block seen before costs nothing.

The key is the hash of the redacted block (identifiers already replaced by numbered placeholders), the
glossary version and the translation recipe; so the same AWS template sent about another account or
instance hits the same entry. The value is DeepL's answer with its placeholders, never an identifier.
The subject given as DeepL's `context` is not part of the key: a block reads the same in any thread.
"""

from __future__ import annotations

import hashlib

from triage.state import State
from triage.translate.client import FORMALITY, SOURCE_LANG, TAG_HANDLING, TARGET_LANG

NAMESPACE = "translation"
# Change the last part when anything that shapes DeepL's answer changes, to start a fresh cache.
RECIPE = f"deepl {SOURCE_LANG}>{TARGET_LANG} {FORMALITY} {TAG_HANDLING} 1"


def cache_key(redacted_xml: str, glossary_version: str) -> str:
    return hashlib.sha256(f"{RECIPE}\n{glossary_version}\n{redacted_xml}".encode()).hexdigest()


class TranslationCache:
    def __init__(self, state: State) -> None:
        self._state = state

    def get(self, key: str) -> str | None:
        return self._state.cache_get(NAMESPACE, key)

    def put(self, key: str, translated_xml: str) -> None:
        self._state.cache_put(NAMESPACE, key, translated_xml)
