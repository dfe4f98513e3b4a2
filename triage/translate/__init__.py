"""Translation with DeepL that keeps AWS terms intact and never sends an identifier (issue 5).

`translation_service` builds the pipeline's `translate` stage from `[deepl]`, the environment and the open
state; it is None when there is no key (translation is then quietly off). One module a job:

  strip     what the reader needs from a mail (no quotes, greetings, signatures, footers, unsubscribe)
  redact    identifiers → XML placeholders and back; a translation that loses one is rejected
  language  is the mail already Japanese?
  glossary  rules/glossary.tsv on the DeepL account, made once, remade only when its entries change
  batch     ≤ 50 texts and ≤ 100 KB of JSON a request
  cache     DeepL's answers in the state, keyed by redacted text and glossary version
  client    the only code that talks to DeepL (the `deepl` package), with our error family
  stage     the per-case flow and the fault policy
  records   what the templates receive
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from triage.config import DeeplSettings
from triage.state import State
from triage.translate.client import DeeplApi, DeeplAuthError, RetryPolicy, TranslationError
from triage.translate.glossary import load_glossary
from triage.translate.records import Line, MailTranslation, Translation
from triage.translate.stage import TranslationStage

__all__ = [
    "DeeplAuthError",
    "Line",
    "MailTranslation",
    "RetryPolicy",
    "Translation",
    "TranslationError",
    "TranslationStage",
    "translation_service",
]

log = logging.getLogger(__name__)


def translation_service(settings: DeeplSettings, env: Mapping[str, str], state: State, *, glossary_path: Path,
                        retry: RetryPolicy | None = None) -> TranslationStage | None:
    """The `translate` stage for one run, or None when `settings.auth_key_env` holds no key."""
    key = env.get(settings.auth_key_env, "").strip()
    if not key:
        log.info("no DeepL key in $%s: mails are not translated", settings.auth_key_env)
        return None
    glossary = load_glossary(glossary_path) if settings.glossary else None

    def connect() -> DeeplApi:
        return DeeplApi(key, key_env=settings.auth_key_env, server_url=settings.server_url, retry=retry)

    return TranslationStage(connect, state, glossary)
