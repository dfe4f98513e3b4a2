"""`triage explain FILE`: the verdict with its reasons, every matched rule with the chosen one, the entities."""

import io
from pathlib import Path

from triage.cli import Environment, main

CORPUS = Path(__file__).resolve().parent / "corpus"


def run(*args: str, tmp_path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={"XDG_CONFIG_HOME": str(tmp_path)})
    status = main(["explain", *args], env)
    return status, out.getvalue(), err.getvalue()


def test_explain_a_compromise_notice(tmp_path):
    status, out, _ = run(str(CORPUS / "compromise-re-case-action-required.eml"), "--offline", tmp_path=tmp_path)
    assert status == 0
    assert "authenticity:  pass" in out
    assert "mx[.]google[.]com says dmarc=pass for amazon[.]com" in out  # hosts from the mail are defanged
    assert "kind:          compromised-account (critical)" in out
    assert "rule:          aws-compromise-notice" in out
    assert "* aws-compromise-notice (compromised-account, critical)" in out
    assert "  aws-support-case (support-case-update, medium)" in out
    assert "case ids:       17412093581" in out
    assert "account ids:    730156284913" in out
    assert "deadlines:      2026-03-14" in out


def test_explain_a_phish_shows_why(tmp_path):
    status, out, _ = run(str(CORPUS / "phish-punycode-homoglyph-domain.eml"), "--offline", tmp_path=tmp_path)
    assert status == 0
    assert "kind:          phishing (high)" in out
    assert "lookalike-sender: xn--mzon-aws-06gb[.]com imitates AWS (punycode)" in out
    assert "* phishing-lookalike-sender (phishing, high, priority 100)" in out


def test_explain_uses_the_configured_owner_accounts_and_rules(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('[[rule]]\nname = "my-security-findings"\nkind = "security-finding"\nseverity = "critical"\n'
                    'signals = ["sns-owned-topic"]\ncontent = ["GuardDuty"]\n', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[aws]\naccount_ids = ["482915730264"]\n[rules]\nextra = ["mine.toml"]\n', encoding="utf-8")
    status, out, _ = run(str(CORPUS / "finding-guardduty-json-sns.eml"), "--offline", "--config", str(config),
                         tmp_path=tmp_path)
    assert status == 0
    assert "kind:          security-finding (critical)" in out
    assert "* my-security-findings (security-finding, critical)" in out
    assert str(mine) in out
    assert "sns-owned-topic: topic account 482915730264 is in [aws] account_ids" in out


def test_explain_a_bad_rules_file_is_one_line(tmp_path):
    (tmp_path / "mine.toml").write_text('[[rule]]\nname = "x"\nkind = "urgent"\nsubject = ["x"]\n', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[rules]\nextra = ["mine.toml"]\n', encoding="utf-8")
    status, _, err = run(str(CORPUS / "case-resolved.eml"), "--offline", "--config", str(config),
                           tmp_path=tmp_path)
    assert status == 2
    assert err.startswith("triage: ") and err.count("\n") == 1
    assert "kind 'urgent' is not one of" in err


def test_explain_names_the_trick_of_a_scam_on_genuine_aws_infrastructure(tmp_path):
    status, out, _ = run(str(CORPUS / "ho13-08-sns-callback-audible-renewal.eml"), "--offline", tmp_path=tmp_path)
    assert status == 0
    assert "* phishing-sns-callback-scam (phishing, high, priority 100)" in out
    assert ("sns-callback-scam: callback scam: topic name 'Audible-Gold-Membership-Renewed-490-USD-To-Cancel-Or-"
            "Refund-Call-1-808-555-0137' carries a phone number, an amount, refund/renewal/cancel words") in out
    status, out, _ = run(str(CORPUS / "ho13-13-devicecode-partner-ja.eml"), "--offline", tmp_path=tmp_path)
    assert "kind:          phishing (high)" in out
    assert ("device-code-request: device-code phishing: asks to enter the code 'MZQR-TBWN' on AWS's own page "
            "'device[.]sso[.]ap-northeast-1[.]amazonaws[.]com'") in out
