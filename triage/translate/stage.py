"""The translation stage: a case → what its mails say, in Japanese, for the summary.

For each mail of the case read in this run: a mail whose kind is not `translated` (rules/kinds.toml:
marketing, phishing and unrelated mail) is left out (the reader needs nothing from them, and a phisher's
words should not be made more convincing); a Japanese
mail is shown as Japanese; any other mail is stripped (`strip`), cut into blocks, redacted (`redact`),
looked up in the cache, and only the blocks never seen before are sent to DeepL, batched, with the
mail's (redacted) subject as context and the glossary. A block comes back only if its placeholders do.
The subject itself is not translated: the summary's Japanese title says what the mail is about, the
body says it again, and the context is free while a translated subject is billed.

Faults never stop a summary. The first 456 (quota), 403 (bad key) or exhausted retries (429, 5xx, no
connection) stops translation for the rest of this stage's life — one run — so later cases are not each
delayed by the library's retries; every block not translated is shown in English and the summary says
why. A 403 is logged as the one-line configuration error; it does not stop the scan, because a summary of
a security mail in English is worth more than no summary.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from triage.cases import Case, ClassifiedMail
from triage.htmltext import html_to_text
from triage.mail import Mail
from triage.state import State
from triage.translate.batch import plan_batches
from triage.translate.cache import TranslationCache, cache_key
from triage.translate.client import (
    DeeplApi,
    DeeplAuthError,
    DeeplQuotaError,
    DeeplUnavailable,
    TranslationError,
)
from triage.translate.glossary import Glossary, ensure_glossary
from triage.translate.language import is_japanese
from triage.translate.records import Line, MailTranslation, Translation
from triage.translate.redact import Redacted, redact, restore
from triage.translate.strip import strip

log = logging.getLogger(__name__)

# What one mail may cost at most, in source characters after stripping: a summary needs the gist.
MAX_CHARS_PER_MAIL = 5000
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class _Unit:
    """One block ready for DeepL."""

    redacted: Redacted
    key: str

    @property
    def sendable(self) -> bool:
        return self.redacted.has_words


@dataclass(frozen=True)
class _PreparedMail:
    item: ClassifiedMail
    status: str  # "" (to translate), japanese, empty
    context: str
    paragraphs: tuple[tuple[_Unit, ...], ...] = ()
    truncated: bool = False

    @property
    def units(self) -> list[_Unit]:
        return [u for p in self.paragraphs for u in p]


class TranslationStage:
    """`services.translate` for one run. Holds the run's DeepL connection, glossary id and fault state."""

    def __init__(self, connect: Callable[[], DeeplApi], state: State, glossary: Glossary | None, *,
                 max_chars_per_mail: int = MAX_CHARS_PER_MAIL) -> None:
        self._connect_api = connect
        self._api: DeeplApi | None = None
        self._state = state
        self._cache = TranslationCache(state)
        self._glossary = glossary
        self._glossary_version = glossary.version if glossary else "none"
        self._glossary_id: str | None = None
        self._max_chars = max_chars_per_mail
        self._ready = False
        self._remaining: int | None = None
        self.problem = ""  # set once, for the rest of the run: quota | unauthorized | unavailable
        self.billed_characters = 0

    def __call__(self, case: Case) -> Translation | None:
        items = [m for m in case.mails if m.classification.meaning.translated]
        if not items:
            return None
        try:
            return self._translate(items)
        except Exception:  # a bug here must cost the translation, never the summary
            log.exception("case %s: translation failed; the summary goes out without it", case.case_id)
            return None

    # --- the steps ---

    def _translate(self, items: list[ClassifiedMail]) -> Translation:
        prepared = [self._prepare(item) for item in items]
        units: dict[str, tuple[_Unit, str]] = {}  # key → (unit, context), first occurrence wins
        for p in prepared:
            for unit in p.units:
                units.setdefault(unit.key, (unit, p.context))
        results: dict[str, str] = {}
        for key in units:
            cached = self._cache.get(key)
            if cached is not None:
                results[key] = cached
        missing = [(u, c) for key, (u, c) in units.items() if key not in results and u.sendable]
        log.info("%d block(s) from the cache, %d to translate", len(results), len(missing))
        billed_before = self.billed_characters
        rejected: set[str] = set()
        if missing and not self.problem:
            self._send(missing, results, rejected)
        held_back = any(u.key not in results and u.key not in rejected for u, _ in missing)
        mails = tuple(self._assemble(p, results, rejected) for p in prepared)
        return Translation(mails, self.problem if held_back else "", self.billed_characters - billed_before)

    def _prepare(self, item: ClassifiedMail) -> _PreparedMail:
        mail = item.mail
        subject = redact(mail.subject) if mail.subject.strip() else None
        context = subject.xml if subject else ""
        paragraphs = strip(mail.text, from_html=_made_from_html(mail))
        body = "\n".join(block for paragraph in paragraphs for block in paragraph)
        if is_japanese(body or mail.subject):
            return _PreparedMail(item, "japanese", context)
        if not body.strip():
            return _PreparedMail(item, "empty", context)
        kept: list[tuple[_Unit, ...]] = []
        budget = self._max_chars
        truncated = False
        for paragraph in paragraphs:
            units: list[_Unit] = []
            for block in paragraph:
                if len(block) > budget:
                    truncated = True
                    break
                budget -= len(block)
                units.append(self._unit(block))
            if units:
                kept.append(tuple(units))
            if truncated:
                break
        return _PreparedMail(item, "", context, tuple(kept), truncated)

    def _unit(self, text: str) -> _Unit:
        redacted = redact(text)
        return _Unit(redacted, cache_key(redacted.xml, self._glossary_version))

    def _send(self, missing: list[tuple[_Unit, str]], results: dict[str, str], rejected: set[str]) -> None:
        try:
            api = self._connect()
            by_context: dict[str, list[_Unit]] = {}
            for unit, context in missing:
                by_context.setdefault(context, []).append(unit)
            for context, units in by_context.items():
                by_xml = {u.redacted.xml: u for u in units}
                plan = plan_batches(list(by_xml), context=context, glossary_id=self._glossary_id)
                if plan.too_large:
                    log.warning("%d block(s) too large for one DeepL request; shown in English", len(plan.too_large))
                for batch in plan.batches:
                    self._check_quota(batch)
                    answers = api.translate(list(batch), context=context, glossary_id=self._glossary_id)
                    for xml, answer in zip(batch, answers, strict=True):
                        self._account(answer.billed_characters)
                        unit = by_xml[xml]
                        if restore(answer.text, unit.redacted.originals) is None:
                            log.warning("DeepL lost or doubled a placeholder in a block; it is shown in English")
                            rejected.add(unit.key)
                            continue
                        results[unit.key] = answer.text
                        self._cache.put(unit.key, answer.text)
        except DeeplQuotaError as exc:
            self._stop("quota", exc)
        except DeeplAuthError as exc:
            self._stop("unauthorized", exc)
        except (DeeplUnavailable, TranslationError) as exc:
            self._stop("unavailable", exc)

    def _connect(self) -> DeeplApi:
        """The API, with usage and glossary checked once per run, and only when something must be sent."""
        if self._api is None:
            self._api = self._connect_api()
        if not self._ready:
            usage = self._api.usage()
            if usage.remaining == 0:
                raise DeeplQuotaError("DeepL's character limit for this billing period is reached (usage check)")
            self._remaining = usage.remaining
            if self._glossary is not None:
                self._glossary_id = ensure_glossary(self._api, self._state, self._glossary)
            self._ready = True
        return self._api

    def _check_quota(self, batch: tuple[str, ...]) -> None:
        needed = sum(len(html.unescape(_TAG.sub("", xml))) for xml in batch)
        if self._remaining is not None and needed > self._remaining:
            raise DeeplQuotaError(f"DeepL's character limit would be passed ({needed} characters needed, "
                                  f"{self._remaining} left)")

    def _account(self, billed: int) -> None:
        self.billed_characters += billed
        if self._remaining is not None:
            self._remaining = max(self._remaining - billed, 0)

    def _stop(self, problem: str, exc: TranslationError | DeeplAuthError) -> None:
        self.problem = problem
        if problem == "unauthorized":
            log.error("%s", exc)
        else:
            log.warning("translation stopped for this run: %s", exc)

    # --- the record the templates see ---

    def _assemble(self, p: _PreparedMail, results: dict[str, str], rejected: set[str]) -> MailTranslation:
        mail = p.item.mail
        if p.status:
            return MailTranslation(subject=mail.subject, date=mail.date, status=p.status)
        paragraphs = tuple(tuple(_line(u, results) for u in paragraph) for paragraph in p.paragraphs)
        lines = [line for paragraph in paragraphs for line in paragraph]
        sendable = [u for u in p.units if u.sendable]
        done = sum(1 for u in sendable if u.key in results)
        status = "translated" if done == len(sendable) else "original" if done == 0 else "partial"
        if not any(line.text for line in lines):
            status = "empty"
        return MailTranslation(
            subject=mail.subject,
            date=mail.date,
            status=status,
            paragraphs=paragraphs,
            truncated=p.truncated,
            rejected=sum(1 for u in p.units if u.key in rejected),
        )


def _made_from_html(mail: Mail) -> bool:
    """True when the mail had no text part and its text was made from the HTML part."""
    return mail.text_from_html or (bool(mail.html) and html_to_text(mail.html)[0] == mail.text)


def _line(unit: _Unit, results: dict[str, str]) -> Line:
    shown = unit.redacted.shown
    translated = results.get(unit.key)
    if translated is not None:
        text = restore(translated, shown)
        if text is not None:
            return Line(text, True)
    original = restore(unit.redacted.xml, shown)
    assert original is not None  # our own redaction always restores
    return Line(original, not unit.sendable)
