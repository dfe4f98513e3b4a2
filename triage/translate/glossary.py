"""The EN→JA glossary: `rules/glossary.tsv` on the DeepL account, made once and reused across runs.

AWS service names stay in English and console words take the console's Japanese, so the owner finds in
the translation the word shown on the screen. The glossary's id and the version (hash) of the entries it
was made from are kept in the state. Each run that has something to translate checks once that the stored
glossary still exists; it is made again only when it is gone or the entries changed (comments and blank
lines do not count as a change), and the outdated one is deleted so glossaries do not pile up on the
account.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from triage.errors import RulesError
from triage.state import State
from triage.translate.client import SOURCE_LANG, TARGET_LANG, DeeplApi

log = logging.getLogger(__name__)

STATE_NAMESPACE = "deepl-glossary"
STATE_KEY = f"{SOURCE_LANG}-{TARGET_LANG}"


@dataclass(frozen=True)
class Glossary:
    entries: tuple[tuple[str, str], ...]

    @property
    def version(self) -> str:
        canonical = "\n".join(f"{source}\t{target}" for source, target in self.entries)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        return f"triage {STATE_KEY} {self.version}"

    def as_dict(self) -> dict[str, str]:
        return dict(self.entries)


def load_glossary(path: Path) -> Glossary:
    """Entries of a TSV file: `source<TAB>target` a line; `#` starts a comment line."""
    import deepl  # only a run that translates reads the glossary

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"cannot read the glossary {path}: {exc}") from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise RulesError(f"{path} line {number}: a glossary line is an English term, a tab, and its Japanese")
        source, target = fields[0].strip(), fields[1].strip()
        try:
            deepl.validate_glossary_term(source)
            deepl.validate_glossary_term(target)
        except ValueError as exc:
            raise RulesError(f"{path} line {number}: {exc}") from None
        if source in entries:
            raise RulesError(f"{path} line {number}: {source!r} is listed twice")
        entries[source] = target
    if not entries:
        raise RulesError(f"{path} holds no glossary entries")
    return Glossary(tuple(sorted(entries.items())))


def ensure_glossary(api: DeeplApi, state: State, glossary: Glossary) -> str:
    """The id of a glossary on the account holding exactly `glossary`, made only when needed."""
    stored = _stored(state)
    if stored is not None:
        stored_id, stored_version = stored
        if stored_version == glossary.version and api.glossary_exists(stored_id):
            return stored_id
        if stored_version != glossary.version:
            log.info("glossary entries changed; replacing DeepL glossary %s", stored_id)
            api.delete_glossary(stored_id)
        else:
            log.info("DeepL glossary %s is gone from the account; making it again", stored_id)
    glossary_id = api.create_glossary(glossary.name, glossary.as_dict())
    state.cache_put(STATE_NAMESPACE, STATE_KEY, json.dumps({"id": glossary_id, "version": glossary.version}))
    return glossary_id


def _stored(state: State) -> tuple[str, str] | None:
    raw = state.cache_get(STATE_NAMESPACE, STATE_KEY)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return str(data["id"]), str(data["version"])
    except (ValueError, KeyError, TypeError):
        return None
