"""The one module that talks to DeepL: a thin wrapper over `deepl.DeepLClient` raising our own errors.

Fixed choices: EN→JA, formality "prefer_more" (です・ます where DeepL can), tag_handling "xml" (the
placeholders), send_platform_info off. Texts reaching this module are already redacted; it never sees an
identifier. It does not retry: the `deepl` library already retries 429, 5xx and dropped connections with
backoff (≈16 s with its defaults), and never retries 456.

The library keeps its retry count and timeout in module globals of `deepl.http_client`. Tests need them
small, so a `RetryPolicy` may be passed; it is applied around each call by `_library_retries` — the only
place in triage that writes those globals — under a lock, and put back afterwards, so the process's
defaults are never changed for anyone else. Without a policy the library's defaults are used untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from triage.errors import ConfigError, TriageError

SOURCE_LANG = "EN"
TARGET_LANG = "JA"
FORMALITY = "prefer_more"
TAG_HANDLING = "xml"


def _lib() -> ModuleType:
    """The `deepl` package (and `requests` under it), imported only when a run translates."""
    import deepl
    import deepl.api_data

    return deepl


class TranslationError(TriageError):
    """DeepL could not translate; the summary shows the original instead."""


class DeeplAuthError(ConfigError):
    """DeepL refused the key (HTTP 403): a configuration problem the owner must fix."""


class DeeplQuotaError(TranslationError):
    """DeepL's character limit for the billing period is reached (HTTP 456)."""


class DeeplUnavailable(TranslationError):
    """DeepL was busy, failing or unreachable after the library's own retries."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often the `deepl` library retries and how long it waits for an answer (seconds)."""

    max_retries: int
    min_timeout: float


@dataclass(frozen=True)
class Usage:
    count: int | None
    limit: int | None

    @property
    def remaining(self) -> int | None:
        if self.count is None or self.limit is None:
            return None
        return max(self.limit - self.count, 0)


@dataclass(frozen=True)
class Translated:
    text: str
    billed_characters: int


_LIBRARY_GLOBALS = threading.Lock()


@contextmanager
def _library_retries(policy: RetryPolicy | None) -> Iterator[None]:
    if policy is None:
        yield
        return
    with _LIBRARY_GLOBALS:
        saved = (_lib().http_client.max_network_retries, _lib().http_client.min_connection_timeout)
        _lib().http_client.max_network_retries = policy.max_retries
        _lib().http_client.min_connection_timeout = policy.min_timeout
        try:
            yield
        finally:
            _lib().http_client.max_network_retries, _lib().http_client.min_connection_timeout = saved


class DeeplApi:
    """One DeepL account, reached with the key from the environment variable `key_env`."""

    def __init__(self, auth_key: str, *, key_env: str, server_url: str | None = None,
                 retry: RetryPolicy | None = None) -> None:
        self._client = _lib().DeepLClient(auth_key, server_url=server_url, send_platform_info=False)
        self._key_env = key_env
        self._retry = retry

    @contextmanager
    def _call(self) -> Iterator[None]:
        """Library retries as configured, and the library's exceptions as ours."""
        try:
            with _library_retries(self._retry):
                yield
        except _lib().AuthorizationException:
            raise DeeplAuthError(f"DeepL refused the key in ${self._key_env} (HTTP 403); check the key, "
                                 f"or unset the variable to run without translation") from None
        except _lib().QuotaExceededException:
            raise DeeplQuotaError("DeepL's character limit for this billing period is reached (HTTP 456)") from None
        except _lib().DeepLException as exc:
            raise DeeplUnavailable(f"DeepL did not answer after the library's retries: {exc}") from None

    def usage(self) -> Usage:
        with self._call():
            detail = self._client.get_usage().character
        return Usage(detail.count, detail.limit)

    def translate(self, texts: list[str], *, context: str, glossary_id: str | None) -> list[Translated]:
        with self._call():
            results = self._client.translate_text(
                texts,
                source_lang=SOURCE_LANG,
                target_lang=TARGET_LANG,
                formality=FORMALITY,
                tag_handling=TAG_HANDLING,
                split_sentences=_lib().SplitSentences.NO_NEWLINES,
                context=context or None,
                glossary=glossary_id,
            )
        listed = results if isinstance(results, list) else [results]
        if len(listed) != len(texts):
            raise DeeplUnavailable(f"DeepL answered {len(listed)} translations for {len(texts)} texts")
        return [Translated(r.text, int(r.billed_characters or 0)) for r in listed]

    def glossary_exists(self, glossary_id: str) -> bool:
        with self._call():
            try:
                self._client.get_multilingual_glossary(glossary_id)
            except _lib().GlossaryNotFoundException:
                return False
        return True

    def create_glossary(self, name: str, entries: Mapping[str, str]) -> str:
        dictionary = _lib().api_data.MultilingualGlossaryDictionaryEntries(SOURCE_LANG, TARGET_LANG, dict(entries))
        with self._call():
            info = self._client.create_multilingual_glossary(name, [dictionary])
        return str(info.glossary_id)

    def delete_glossary(self, glossary_id: str) -> None:
        """Delete a glossary; one that is already gone is fine."""
        with self._call(), suppress(_lib().GlossaryNotFoundException):
            self._client.delete_multilingual_glossary(glossary_id)


def request_body(texts: list[str], *, context: str, glossary_id: str | None) -> dict[str, Any]:
    """The JSON body the library sends for `translate`, to measure a batch before sending it."""
    body: dict[str, Any] = {
        "target_lang": TARGET_LANG,
        "source_lang": SOURCE_LANG,
        "formality": FORMALITY,
        "text": texts,
        "show_billed_characters": True,
        "split_sentences": str(_lib().SplitSentences.NO_NEWLINES),
        "tag_handling": TAG_HANDLING,
    }
    if glossary_id:
        body["glossary_id"] = glossary_id
    if context:
        body["context"] = context
    return body
