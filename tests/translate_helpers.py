"""Shared by the tests of triage/translate: mails from files, cases, and a stage pointed at the test server."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.deepl_server import FakeDeepL
from triage.authenticate import authenticate
from triage.cases import Case, ClassifiedMail, group_cases
from triage.classify import load_rules
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS, DeeplSettings
from triage.mail import Origin, RawMail
from triage.parse import parse_mail
from triage.state import State
from triage.translate import RetryPolicy, TranslationStage, translation_service

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
GLOSSARY = RULES / "glossary.tsv"
FIXTURES = Path(__file__).resolve().parent / "data" / "translate"
CORPUS = Path(__file__).resolve().parent / "corpus"
SHIPPED = load_rules(RULES)
# Small enough that a test of the library's retries takes about a second.
FAST = RetryPolicy(max_retries=1, min_timeout=2.0)


def fixture(name: str) -> Path:
    return FIXTURES / name


def all_mail_files() -> list[Path]:
    """The team's corpus (once merged) and this stage's own fixtures."""
    found: list[Path] = []
    for folder in (CORPUS, FIXTURES):
        if folder.is_dir():
            found.extend(sorted(folder.glob("*.eml")))
    return found


def classified(path: Path, *, kind: str | None = None) -> ClassifiedMail:
    """The mail in `path`, classified by the shipped rules, or given `kind`."""
    mail = parse_mail(RawMail(path.read_bytes(), Origin("eml", str(path))))
    auth = authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True)
    from triage.classify import classify

    item = ClassifiedMail(mail, auth, classify(mail, auth, SHIPPED))
    if kind is not None:
        forced = dataclasses.replace(item.classification, kind=kind, meaning=SHIPPED.kinds[kind])
        item = dataclasses.replace(item, classification=forced)
    return item


def case_of(*paths: Path, kind: str | None = None) -> Case:
    cases = group_cases([classified(p, kind=kind) for p in paths], SHIPPED.kinds)
    assert len(cases) == 1, "these mails make more than one case"
    return cases[0]


def stage(server: FakeDeepL, state: State, *, glossary: Path | None = GLOSSARY, key: str | None = None,
          retry: RetryPolicy | None = FAST, server_url: str | None = None) -> TranslationStage:
    settings = DeeplSettings(server_url=server_url or server.url, glossary=glossary is not None)
    built = translation_service(settings, {"DEEPL_AUTH_KEY": key or server.auth_key}, state,
                                glossary_path=glossary or GLOSSARY, retry=retry)
    assert built is not None
    return built
