"""Cases: one AWS support case id is one case; anything else is a case of its own; the case takes its
most severe mail's kind; a copied case number never pulls a phish (or an unauthenticated mail) in."""

from datetime import UTC, datetime
from pathlib import Path

from triage.authenticate import Authenticity
from triage.cases import ClassifiedMail, EarlierMail, group_cases, most_severe
from triage.classify import Classification, load_rules
from triage.entities import Entities
from triage.mail import Address, Mail, Origin

PASS = Authenticity("pass")
KINDS = load_rules(Path(__file__).resolve().parent.parent / "rules").kinds


def item(key: str, kind: str, severity: str, case_ids=(), auth=PASS, day=1) -> ClassifiedMail:
    mail = Mail(origin=Origin("eml", f"{key}.eml"), message_id=f"<{key}@x>", content_hash=key,
                sender=Address("AWS", "no-reply-aws@amazon.com"), subject=key,
                date=datetime(2026, 3, day, tzinfo=UTC), text="")
    cls = Classification(kind, severity, "r", kind, Entities(case_ids=tuple(case_ids)), meaning=KINDS[kind])
    return ClassifiedMail(mail, auth, cls)


def test_mails_of_one_case_id_form_one_case_with_the_most_severe_kind():
    cases = group_cases([
        item("a", "support-case-update", "medium", ["17412093581"], day=2),
        item("b", "compromised-account", "critical", ["17412093581"], day=1),
        item("c", "marketing", "info"),
    ], KINDS)
    assert cases[0].case_id == "17412093581"
    case = cases[0]
    assert (case.kind, case.severity) == ("compromised-account", "critical")
    assert [m.mail.message_id for m in case.mails] == ["<b@x>", "<a@x>"]  # oldest first
    assert case.is_support_case
    assert len(cases) == 2 and not cases[1].is_support_case


def test_a_phish_with_a_copied_case_number_never_joins_the_case():
    phish = item("p", "phishing", "high", ["17412093581"])
    cases = group_cases([item("a", "compromised-account", "critical", ["17412093581"]), phish], KINDS)
    assert len(cases) == 2
    assert phish.case_id.startswith("mail-")
    assert cases[0].mails == (cases[0].mails[0],) and cases[0].kind == "compromised-account"


def test_failed_authentication_or_kind_other_never_joins_a_case():
    failed = item("f", "support-case-update", "medium", ["17412093581"], auth=Authenticity("fail"))
    other = item("o", "other", "info", ["17412093581"])
    assert failed.case_id.startswith("mail-") and other.case_id.startswith("mail-")
    assert item("ok", "support-case-update", "medium", ["17412093581"], auth=Authenticity("none")).case_id == \
        "17412093581"


def test_mail_without_case_id_is_its_own_case_and_stable():
    one, two = item("x", "health-event", "low"), item("y", "health-event", "low")
    assert one.case_id != two.case_id
    assert one.case_id == item("x", "health-event", "low").case_id


def test_earlier_mails_count_for_the_kind():
    earlier = {"17412093581": (EarlierMail("<old@x>", "compromised-account", "critical"),)}
    case = group_cases([item("a", "support-case-update", "medium", ["17412093581"])], KINDS, earlier)[0]
    assert case.kind == "compromised-account"
    assert "<old@x>" in case.keys


def test_most_severe_breaks_ties_by_design_order():
    assert most_severe([("abuse-report", "critical"), ("compromised-account", "critical")], KINDS) == (
        "compromised-account", "critical")
