"""The Japanese summaries a reader gets, compared with reviewed copies in tests/golden/.

A change to a text, a template or a rule shows here as a readable diff. After reviewing the new wording,
regenerate with: TRIAGE_UPDATE_GOLDEN=1 pytest tests/test_golden_summaries.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.scanning import run
from triage.config import AwsSettings, Config
from triage.pipeline import ScanOptions
from triage.sources.files import open_path
from triage.state import open_state

ROOT = Path(__file__).parent
GOLDEN = ROOT / "golden"
CORPUS = ROOT / "corpus"
CONFIG = Config(aws=AwsSettings(account_ids=("482915730264", "730156284913")))

CASES = [
    "compromise-re-case-action-required.eml",
    "holdout-03-compromised-ja.eml",
    "exposed-key-gitguardian.eml",
    "abuse-crypto-mining-dos.eml",
    "early-limit-increase-case.eml",
    "billing-budgets-exceeded.eml",
    "phish-display-name-freemail.eml",
    "ho13-03-signin-new-device-browser.eml",
    "ho13-09-sns-callback-norton-refund.eml",
    "ho13-12-devicecode-lookalike-domain.eml",
    "ho13-24-ses-sending-paused.eml",
]


def summary_of(name: str) -> str:
    with open_state(":memory:") as state:
        got, _ = run(open_path(CORPUS / name), state, config=CONFIG, options=ScanOptions(offline=True))
    [outcome] = got.cases
    assert outcome.summary is not None, f"{name} got no summary"
    return f"Subject: {outcome.summary.subject}\n\n{outcome.summary.text}"


@pytest.mark.parametrize("name", CASES)
def test_summary_matches_the_reviewed_copy(name: str) -> None:
    text = summary_of(name)
    golden = GOLDEN / name.replace(".eml", ".txt")
    if os.environ.get("TRIAGE_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no reviewed copy for {name}; generate it with TRIAGE_UPDATE_GOLDEN=1 and read it"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["ho13-01-signin-new-root-email-code.eml", "ho13-05-builder-id-verification-code.eml",
                                  "ho13-06-identity-center-otp.eml", "change-root-sign-in-new-device.eml"])
def test_sign_in_mail_says_plainly_that_someone_has_the_password(name: str) -> None:
    text = summary_of(name)
    assert "AWS へのサインインや本人確認のメールです" in text
    assert "自分でこの操作をしていない場合は、誰かがあなたのパスワードを知っています。" in text
