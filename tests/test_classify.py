"""The rule engine: rules are data, validated at load; a user's file adds and overrides; the chosen rule is
the one of highest priority, then severity, then order; signals feed rules; settings change verdicts."""

import shutil
import tomllib
from pathlib import Path

import pytest

from triage.authenticate import Authenticity
from triage.classify import classify, load_rules
from triage.errors import RulesError
from triage.mail import Address, Attachment, Mail, Origin
from triage.signals import callback_traits, device_code_request

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
PASS = Authenticity("pass", ("test",))


def mail(subject="Hello", text="", sender=("Amazon Web Services", "no-reply-aws@amazon.com"), **kw) -> Mail:
    return Mail(origin=Origin("eml", "t.eml"), message_id="<t@example>", content_hash="0", sender=Address(*sender),
                subject=subject, date=None, text=text, **kw)


@pytest.fixture(scope="module")
def shipped():
    return load_rules(RULES)


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def own_rules_dir(tmp_path: Path) -> Path:
    """A rules folder of the test's own, with the shipped kinds table (every rules folder needs one)."""
    shutil.copy(RULES / "kinds.toml", tmp_path / "kinds.toml")
    return tmp_path


# --- the shipped rules ---------------------------------------------------------------------------


def test_shipped_rules_load_and_cover_every_kind(shipped):
    kinds = {r.kind for r in shipped.rules}
    assert kinds >= {"compromised-account", "exposed-credentials", "abuse-report", "account-suspension",
                     "account-change", "billing-alert", "security-finding", "phishing", "support-case-update",
                     "billing-statement", "health-event", "marketing"}
    assert "amazon.com" in shipped.aws_domains and "aws" in shipped.aws_domains
    assert shipped.lexicon.brands and shipped.lexicon.freemail_domains and shipped.lexicon.claim_names


def test_every_text_key_has_japanese_texts(shipped):
    texts = tomllib.loads((ROOT / "templates" / "texts.toml").read_text(encoding="utf-8"))["kind"]
    missing = {r.text for r in shipped.rules} - set(texts)
    assert not missing


def test_early_warnings_carry_a_note(shipped):
    texts = tomllib.loads((ROOT / "templates" / "texts.toml").read_text(encoding="utf-8"))["kind"]
    early = [r for r in shipped.rules if r.text.startswith("early-")]
    assert {r.text for r in early} == {"early-limit-increase", "early-org-account", "early-ses-production"}
    assert all(r.severity == "high" for r in early)
    assert all("乗っ取られている" in texts[r.text]["note"] for r in early)


def test_files_without_classification_keys_are_skipped(tmp_path):
    # relevance.toml (and the other stages' data) live in rules/ too.
    write(tmp_path, 'search = ["aws"]\nwords = ["aws"]\n', "relevance.toml")
    write(tmp_path, '[[rule]]\nname = "x"\nkind = "marketing"\nsubject = ["x"]\n', "rules.toml")
    assert [r.name for r in load_rules(own_rules_dir(tmp_path)).rules] == ["x"]


# --- user rules ----------------------------------------------------------------------------------


def test_user_rule_adds(shipped, tmp_path):
    extra = write(tmp_path, '[[rule]]\nname = "my-vendor"\nkind = "billing-alert"\n'
                            'sender_address = ["@billing\\\\.vendor\\\\.example$"]\n')
    rules = load_rules(RULES, (extra,))
    result = classify(mail("Usage report", sender=("Vendor", "x@billing.vendor.example")), PASS, rules)
    assert (result.kind, result.rule) == ("billing-alert", "my-vendor")
    assert classify(mail("Usage report", sender=("Vendor", "x@billing.vendor.example")), PASS, shipped).kind == "other"


def test_user_rule_overrides_by_name(tmp_path):
    extra = write(tmp_path, '[[rule]]\nname = "aws-marketing-topics"\nkind = "marketing"\nseverity = "low"\n'
                            'signals = ["aws-genuine"]\nsubject = ["summit"]\n')
    rules = load_rules(RULES, (extra,))
    assert sum(r.name == "aws-marketing-topics" for r in rules.rules) == 1
    result = classify(mail("AWS Summit Tokyo"), PASS, rules)
    assert (result.rule, result.severity) == ("aws-marketing-topics", "low")


def test_user_can_disable_a_rule(tmp_path):
    extra = write(tmp_path, '[[rule]]\nname = "aws-marketing-topics"\nenabled = false\n')
    rules = load_rules(RULES, (extra,))
    assert "aws-marketing-topics" not in {r.name for r in rules.rules}


def test_user_lexicon_extends_the_lists(tmp_path):
    extra = write(tmp_path, '[lexicon]\nfreemail_domains = ["mailbox.example"]\n')
    rules = load_rules(RULES, (extra,))
    assert "mailbox.example" in rules.lexicon.freemail_domains
    assert "gmail.com" in rules.lexicon.freemail_domains
    m = mail("Confirm your details", reply_to=(Address("", "team@mailbox.example"),))
    assert classify(m, Authenticity("none"), rules).kind == "phishing"


@pytest.mark.parametrize(("text", "message"), [
    ('[[rule]]\nname = "a"\nkind = "nonsense"\nsubject = ["x"]\n', "kind 'nonsense' is not one of"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\nseverity = "urgent"\nsubject = ["x"]\n', "severity 'urgent'"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\nsubject = ["(unclosed"]\n', "bad pattern '(unclosed'"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\nsubjetc = ["x"]\n', "unknown key 'subjetc'"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\nsignals = ["aws-sendr"]\n', "unknown signal 'aws-sendr'"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\n', "has no condition"),
    ('[[rule]]\nkind = "marketing"\nsubject = ["x"]\n', "needs a name"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\nauthenticity = ["maybe"]\nsubject = ["x"]\n', "authenticity"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\npriority = "high"\nsubject = ["x"]\n', "priority"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\ntext = "Not A Key"\nsubject = ["x"]\n', "text must be a key"),
    ('[[rule]]\nname = "a"\nkind = "marketing"\nsubject = 3\n', "subject must be a pattern"),
    ('[[rules]]\nname = "a"\n', "unknown top-level key 'rules'"),
    ('[lexicon]\nbrandz = ["x"]\n', "unknown key 'brandz'"),
    ('[lexicon]\nclaim_text = ["[bad"]\n', "bad pattern"),
    ("[[rule]\nname=", "is not valid TOML"),
])
def test_bad_user_rules_are_one_line_errors(tmp_path, text, message):
    extra = write(tmp_path, text)
    with pytest.raises(RulesError) as caught:
        load_rules(RULES, (extra,))
    assert message in str(caught.value)
    assert str(extra) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_user_rules_file(tmp_path):
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_rules(RULES, (tmp_path / "absent.toml",))


# --- choosing among the rules that match ------------------------------------------------------


def test_most_severe_wins_and_every_match_is_listed(shipped):
    m = mail("RE:[CASE 17412093581] [ACTION REQUIRED] Your AWS account 482915730264",
             "If you do not respond, your account will be suspended.")
    result = classify(m, PASS, shipped)
    assert result.kind == "compromised-account"
    assert result.matched[0] == "aws-compromise-notice"
    assert {"aws-support-case", "aws-account-suspension"} <= set(result.matched)


def test_priority_beats_severity(shipped):
    # A spoofed "compromise notice": critical words, but the phishing rule's priority wins.
    m = mail("Your AWS Account is Compromised", "Sign in here to secure it.")
    result = classify(m, Authenticity("fail", ("dmarc=fail",)), shipped)
    assert (result.kind, result.rule) == ("phishing", "phishing-spoofed-aws-sender")
    assert result.severity == "high"


def test_earlier_rule_wins_a_tie(tmp_path):
    write(tmp_path, '[[rule]]\nname = "first"\nkind = "marketing"\nsubject = ["x"]\n'
                    '[[rule]]\nname = "second"\nkind = "other"\nsubject = ["x"]\n', "r.toml")
    result = classify(mail("x"), PASS, load_rules(own_rules_dir(tmp_path)))
    assert result.matched == ("first", "second")


def test_no_rule_is_other(shipped):
    result = classify(mail("Lunch?", sender=("Hanako", "hanako@example.jp")), PASS, shipped)
    assert (result.kind, result.severity, result.rule, result.matched) == ("other", "info", "no-rule", ())


def test_genuine_aws_mail_without_authentication_results_is_not_phishing(shipped):
    result = classify(mail("[CASE 17420877314] Question about S3"), Authenticity("none"), shipped)
    assert result.kind == "support-case-update"


def test_patterns_match_full_width_text(shipped):
    result = classify(mail("ＡＷＳ Ｂｕｄｇｅｔｓ: 予算 がアラートのしきい値を超えました"), PASS, shipped)
    assert result.kind == "billing-alert"


# --- settings ------------------------------------------------------------------------------------

STATEMENT = "Amazon Web Services Billing Statement Available [Account: 482915730264]"


def test_statement_escalates_above_the_configured_amount(shipped):
    m = mail(STATEMENT, "Total: $4,812.55", sender=("Amazon Web Services", "invoicing@aws.com"))
    high = classify(m, PASS, shipped, statement_alert_usd=100)
    assert (high.kind, high.severity, high.text) == ("billing-statement", "high", "billing-statement-high")
    low = classify(m, PASS, shipped, statement_alert_usd=10_000)
    assert (low.kind, low.severity, low.text) == ("billing-statement", "low", "billing-statement")


def test_yen_statement_is_converted_with_the_configured_rate(shipped):
    m = mail(STATEMENT, "Total in JPY: ¥30,000", sender=("Amazon Web Services", "invoicing@aws.com"))
    assert classify(m, PASS, shipped, statement_alert_usd=100, jpy_per_usd=150).severity == "high"
    assert classify(m, PASS, shipped, statement_alert_usd=100, jpy_per_usd=400).severity == "low"


SNS_FOOTER = (
    "\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below "
    "to unsubscribe:\nhttps://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn="
    "arn:aws:sns:us-east-1:{account}:alerts:0c9e1f2a&Endpoint=t@example.jp\n\nPlease do not reply directly to "
    "this email. If you have any questions or comments regarding this email, please contact us at "
    "https://aws.amazon.com/support\n"
)
SNS = ("AWS Notifications", "no-reply@sns.amazonaws.com")


def test_sns_message_speaking_as_aws_is_phishing_unless_the_topic_is_the_owners(shipped):
    words = "Dear AWS Customer, your AWS account has been suspended. Verify your payment at http://x.example/\n"
    foreign = mail("AWS Account Notice", words + SNS_FOOTER.format(account="590183746622"), sender=SNS)
    result = classify(foreign, PASS, shipped, owner_account_ids=("482915730264",))
    assert (result.kind, result.rule, result.text) == ("phishing", "phishing-sns-impersonation", "phishing-sns")
    own = mail("AWS Account Notice", words + SNS_FOOTER.format(account="482915730264"), sender=SNS)
    assert classify(own, PASS, shipped, owner_account_ids=("482915730264",)).kind != "phishing"


def test_an_arn_written_in_the_message_does_not_make_the_topic_the_owners(shipped):
    words = ("Dear AWS Customer, your AWS account has been suspended.\n"
             "SubscriptionArn=arn:aws:sns:us-east-1:482915730264:alerts:1\n")
    forged = mail("AWS Account Notice", words + SNS_FOOTER.format(account="590183746622"), sender=SNS)
    assert classify(forged, PASS, shipped, owner_account_ids=("482915730264",)).kind == "phishing"


def test_sns_footer_alone_does_not_claim_aws(shipped):
    alarm = mail('ALARM: "cpu-high" in Asia Pacific (Tokyo)', "Threshold crossed." + SNS_FOOTER.format(
        account="590183746622"), sender=SNS)
    result = classify(alarm, PASS, shipped, owner_account_ids=("482915730264",))
    assert result.kind != "phishing"
    assert "claims-aws" not in result.signals


def test_signals_and_their_evidence_are_reported(shipped):
    m = mail("Invoice", "Please open the attachment.", attachments=(Attachment("invoice.pdf.exe", "x", 10),))
    result = classify(m, Authenticity("none"), shipped)
    assert result.rule == "phishing-dangerous-attachment"
    assert "dangerous-attachment" in result.signals
    assert any("invoice.pdf.exe" in e for e in result.evidence)


# --- scams on AWS's own infrastructure: what counts, and what an owner's own names look like ----------

@pytest.mark.parametrize(("topic", "display"), [
    ("Norton360-Auto-Renewal-USD-399-99-Refund-Helpline-1-888-555-0199", "AWS Notifications"),
    ("orders", "McAfee - Renewed 299.99 USD - Call +1 855 555 0148"),
    ("Prime-JPY-59800-Cancel-Refund-Call-03-5555-0142", ""),
    ("x", "Amazonプライム年会費 ¥59,800 自動更新 解約・返金は 03-5555-0142 へ"),
])
def test_a_topic_or_display_name_that_is_a_callback_scam_is_named(topic, display):
    assert callback_traits(topic, display, load_rules(ROOT / "rules").lexicon).startswith("callback scam: ")


@pytest.mark.parametrize(("topic", "display"), [
    ("billing-alarm-20USD", "AWS Notifications"), ("oncall-billing-100USD", "On-call alerts"),
    ("renewal-reminders", "Cert renewal 2026"), ("budget-alerts", "請求アラート"),
    ("alerts-123456789012", "Ops +1 206 555 0100"),
])
def test_an_owners_own_topic_names_are_not_a_callback_scam(topic, display):
    assert callback_traits(topic, display, load_rules(ROOT / "rules").lexicon) == ""


def test_a_device_code_needs_aws_device_page_and_an_upper_case_code():
    lexicon = load_rules(ROOT / "rules").lexicon
    page = "https://device.sso.us-east-1.amazonaws.com/"
    assert device_code_request(f"Open {page} and enter WDKX-QHPL", (), lexicon)
    assert device_code_request("Approve it", (f"{page}?user_code=PLMK-WQRT",), lexicon)
    assert not device_code_request(f"Open {page}: a read-only page, then copy-code ABCD", (), lexicon)
    assert not device_code_request("Enter WDKX-QHPL on the sign-in page", (), lexicon)
