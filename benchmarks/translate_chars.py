"""DeepL characters billed for the team's corpus: naive against triage, measured in one run.

naive   every mail's whole text (subject and body) pasted into DeepL, as the owner did before triage
triage  the translation stage as the pipeline uses it: only cases that get a summary, marketing,
        phishing and Japanese mail left out, quotes/signatures/footers stripped, identical blocks sent
        once, and everything cached in the state
again   the same mails scanned a second time with the same state: should cost nothing
forced  for reference: every mail but marketing pushed through the stage, whatever its severity

Mails: tests/corpus/*.eml (the team's labelled corpus) and tests/data/translate/*.eml (this stage's own).
Both figures come from the same DeepL-compatible test server (tests/deepl_server.py), which bills like
DeepL: the source characters, without tags. Goal: triage ≤ 40% of naive, and 0 for the second run.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import deepl  # noqa: E402

from tests.deepl_server import FakeDeepL  # noqa: E402
from triage.authenticate import authenticate  # noqa: E402
from triage.cases import Case, ClassifiedMail, group_cases  # noqa: E402
from triage.classify import classify, load_rules  # noqa: E402
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS, DeeplSettings  # noqa: E402
from triage.mail import Origin, RawMail  # noqa: E402
from triage.parse import parse_mail  # noqa: E402
from triage.stages import needs_summary  # noqa: E402
from triage.state import State, open_state  # noqa: E402
from triage.translate import TranslationStage, translation_service  # noqa: E402

GOAL = 0.40
FOLDERS = (ROOT / "tests" / "corpus", ROOT / "tests" / "data" / "translate")


RULES = load_rules(ROOT / "rules")


def mails() -> list[ClassifiedMail]:
    rules = RULES
    found = []
    for folder in FOLDERS:
        for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
            mail = parse_mail(RawMail(path.read_bytes(), Origin("eml", str(path))))
            auth = authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True)
            found.append(ClassifiedMail(mail, auth, classify(mail, auth, rules)))
    return found


def naive(items: list[ClassifiedMail]) -> int:
    server = FakeDeepL().start()
    try:
        client = deepl.DeepLClient(server.auth_key, server_url=server.url, send_platform_info=False)
        for item in items:
            whole = f"{item.mail.subject}\n\n{item.mail.text}".strip()
            if whole:
                client.translate_text(whole, target_lang="JA")
        return server.billed()
    finally:
        server.stop()


def stage_for(server: FakeDeepL, state: State) -> TranslationStage:
    built = translation_service(DeeplSettings(server_url=server.url), {"DEEPL_AUTH_KEY": server.auth_key}, state,
                                glossary_path=ROOT / "rules" / "glossary.tsv")
    assert built is not None
    return built


def triage_runs(cases: list[Case]) -> tuple[int, int, int]:
    """(billed in the first run, billed in a second run on the same state, translate requests of run 1)."""
    server = FakeDeepL().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "state.sqlite3"
            billed = []
            requests = 0
            for _ in range(2):
                before = server.billed()
                with open_state(db) as state:
                    translate = stage_for(server, state)
                    for case in cases:
                        translate(case)
                billed.append(server.billed() - before)
                requests = requests or len(server.translate_requests())
            return billed[0], billed[1], requests
    finally:
        server.stop()


def main() -> int:
    items = mails()
    if not items:
        print("no mails found in", ", ".join(str(f) for f in FOLDERS))
        return 1
    summarised = [c for c in group_cases(items, RULES.kinds) if needs_summary(c, "medium")]
    update = RULES.kinds["support-case-update"]
    forced = group_cases([
        dataclasses.replace(i, classification=dataclasses.replace(i.classification, kind=update.name, meaning=update))
        if i.kind != "marketing" else i for i in items
    ], RULES.kinds)
    naive_chars = naive(items)
    first, second, requests = triage_runs(summarised)
    forced_first, _, _ = triage_runs(forced)
    ratio = first / naive_chars if naive_chars else 0.0

    print(f"mails: {len(items)} ({sum(1 for f in FOLDERS if f.is_dir())} folder(s)); "
          f"cases with a summary: {len(summarised)}; translate requests: {requests}")
    print(f"naive   (every mail's whole text):          {naive_chars:>8,} characters billed")
    print(f"triage  (stripped, deduplicated, cached):   {first:>8,} characters billed  = {ratio:.1%} of naive "
          f"(goal ≤ {GOAL:.0%})")
    print(f"again   (second run, same state):           {second:>8,} characters billed  (goal 0)")
    print(f"forced  (every non-marketing mail, for reference): {forced_first:,} characters billed "
          f"= {forced_first / naive_chars:.1%} of naive")
    met = ratio <= GOAL and second == 0
    print("goal met" if met else "GOAL MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
