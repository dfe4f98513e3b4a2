"""The Japanese summaries a reader gets, compared with reviewed copies in tests/golden/.

A change to a text, a template or a rule shows here as a readable diff. After reviewing the new wording,
regenerate with: TRIAGE_UPDATE_GOLDEN=1 pytest tests/test_golden_summaries.py

The cases are the files: tests/golden/NAME.txt is the summary of the corpus mail tests/corpus/NAME.eml.
To add a case, create an empty tests/golden/NAME.txt for a corpus mail, regenerate as above, and read it.

A case whose summary depends on an account check (the numbered plan) is NAME+WHAT.txt, the summary of
NAME.eml with the fixed account report NAME+WHAT.account.json beside it (read by tests/account_fixture.py)
as the check's result: the plan's wording from a known account, without AWS.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.account_fixture import load_report
from tests.scanning import run
from triage.config import AwsSettings, Config
from triage.pipeline import ScanOptions, Services
from triage.sources.files import open_path
from triage.state import open_state

ROOT = Path(__file__).parent
GOLDEN = ROOT / "golden"
CORPUS = ROOT / "corpus"
CONFIG = Config(aws=AwsSettings(account_ids=("482915730264", "730156284913")))

GOLDEN_FILES = sorted(GOLDEN.glob("*.txt"))


def input_of(golden: Path, corpus: Path = CORPUS) -> Path:
    """The corpus mail a golden file is the summary of: the same name (before any "+"), .eml."""
    mail = corpus / f"{golden.stem.split('+', 1)[0]}.eml"
    if not mail.is_file():
        pytest.fail(f"{golden.name} is the summary of {mail.name}, which is not in {corpus}: "
                    f"rename the golden file after its mail, or remove it", pytrace=False)
    return mail


def account_of(golden: Path) -> Path | None:
    """The fixed account report a golden file is rendered with, if it has one: NAME+WHAT.account.json."""
    fixture = golden.with_suffix(".account.json")
    return fixture if fixture.is_file() else None


def summary_of(name: str, account: Path | None = None) -> str:
    options, services = ScanOptions(offline=True), Services()
    if account is not None:  # the check "runs" and returns the fixed report; nothing else leaves the machine
        report = load_report(account)
        options, services = ScanOptions(no_send=True, no_translate=True), Services(check_account=lambda case: report)
    with open_state(":memory:") as state:
        got, _ = run(open_path(CORPUS / name), state, config=CONFIG, options=options, services=services)
    [outcome] = got.cases
    assert outcome.summary is not None, f"{name} got no summary"
    return f"Subject: {outcome.summary.subject}\n\n{outcome.summary.text}"


@pytest.mark.parametrize("golden", GOLDEN_FILES, ids=[g.stem for g in GOLDEN_FILES])
def test_summary_matches_the_reviewed_copy(golden: Path) -> None:
    text = summary_of(input_of(golden).name, account_of(golden))
    if os.environ.get("TRIAGE_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_the_cases_are_the_golden_files() -> None:
    # An empty folder would make the test above vanish instead of fail.
    assert GOLDEN_FILES, f"no golden summaries in {GOLDEN}"


def test_a_golden_file_whose_mail_is_missing_fails_and_says_which(tmp_path: Path) -> None:
    orphan = tmp_path / "renamed-mail.txt"
    orphan.write_text("Subject: x\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match=r"renamed-mail\.txt is the summary of renamed-mail\.eml"):
        input_of(orphan, corpus=tmp_path)


@pytest.mark.parametrize("name", ["ho13-01-signin-new-root-email-code.eml", "ho13-05-builder-id-verification-code.eml",
                                  "ho13-06-identity-center-otp.eml", "change-root-sign-in-new-device.eml"])
def test_sign_in_mail_says_plainly_that_someone_has_the_password(name: str) -> None:
    text = summary_of(name)
    assert "AWS へのサインインや本人確認のメールです" in text
    assert "自分でこの操作をしていない場合は、誰かがあなたのパスワードを知っています。" in text
