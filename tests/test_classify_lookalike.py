"""The phishing tricks one by one: look-alike domains, display names, attachments, Reply-To, links."""

from pathlib import Path

import pytest

from triage.authenticate import Authenticity
from triage.classify import classify, load_rules
from triage.lookalike import imitates, skeleton, unicode_domain
from triage.mail import Address, Attachment, Mail, Origin
from triage.signals import dangerous

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules")
LOOK = {"aws_domains": RULES.aws_domains, "brands": RULES.lexicon.brands, "glue_words": RULES.lexicon.glue_words}


@pytest.mark.parametrize(("domain", "trick"), [
    ("xn--mzon-aws-06gb.com", "punycode"),          # аmаzon-aws.com with Cyrillic а
    ("аmazon.com", "homoglyph"),                    # Unicode written as is
    ("arnazon.com", "homoglyph"),                   # rn reads as m
    ("amaz0n.com", "digit-for-letter"),
    ("4ws-support.com", "digit-for-letter"),
    ("aws-billing-center.com", "extra-words"),
    ("awsbillingsupport.net", "extra-words"),
    ("secure.aws-login.info", "extra-words"),
    ("amazon.com.account-review.example", "extra-words"),
])
def test_lookalike_domains(domain, trick):
    found = imitates(domain, **LOOK)
    assert found is not None and found.trick == trick


@pytest.mark.parametrize("domain", [
    "amazon.com", "signin.aws.amazon.com", "sns.us-east-1.amazonaws.com", "health.aws", "awscloud.com",
    "lastweekinaws.com", "jaws.example", "laws.example", "cloudweekly.example", "gmail.com", "xn--80ak6aa92e.com",
])
def test_not_lookalikes(domain):
    assert imitates(domain, **LOOK) is None


def test_skeleton_and_unicode_domain():
    assert skeleton("Αmaz0n Web Services") == "amazon web services"  # Greek capital alpha, digit zero
    assert unicode_domain("xn--mzon-aws-06gb.com") == "аmаzon-aws.com"


@pytest.mark.parametrize(("name", "bad"), [
    ("AWS_Invoice.pdf.exe", True), ("invoice.html", True), ("update.iso", True), ("statement.pdf.zip", True),
    ("report\u202efdp.exe", True), ("INVOICE.PDF.SCR", True), ("invoice.pdf", False), ("photo.jpg", False),
    ("EUINJP26-118273.pdf", False), ("", False),
])
def test_dangerous_attachment_names(name, bad):
    assert bool(dangerous(name, RULES.lexicon)) is bad


def mail(sender, subject="Your AWS account", text="Please review your account.", **kw) -> Mail:
    return Mail(origin=Origin("eml", "t.eml"), message_id="<t@x>", content_hash="0", sender=Address(*sender),
                subject=subject, date=None, text=text, **kw)


NONE = Authenticity("none")
PASS = Authenticity("pass")


@pytest.mark.parametrize(("m", "auth", "rule"), [
    (mail(("Support", "support@aws-billing-center.com")), PASS, "phishing-lookalike-sender"),
    (mail(("Support", "help@desk.example"), reply_to=(Address("", "x@amazon-support.example"),)), PASS,
     "phishing-lookalike-reply-to"),
    (mail(("Amazon Web Services", "no-reply-aws@amazon.com")), Authenticity("fail"), "phishing-spoofed-aws-sender"),
    (mail(("Amazon Web Services", "no-reply-aws@amazon.com"), attachments=(Attachment("x.iso", "a/b", 1),)), NONE,
     "phishing-dangerous-attachment"),
    (mail(("Amazon Web Services", "no-reply-aws@amazon.com"), reply_to=(Address("", "aws.team@outlook.com"),)),
     NONE, "phishing-freemail-reply-to"),
    (mail(("Billing", "b@invoices.example"), text="Dear AWS Customer, sign in.",
          links=("https://xn--ws-console-login-sdn.com/",)), PASS, "phishing-lookalike-link"),
    (mail(("Αmaz0n Web Services", "team@mailer.example")), PASS, "phishing-display-name"),
    (mail(("Billing", "b@invoices.example"), text="Dear AWS Customer,\nyour invoice is ready."), PASS,
     "phishing-claims-aws"),
    (mail(("Billing", "b@invoices.example"), html='<img src="x" alt="Amazon Web Services">'), PASS,
     "phishing-claims-aws"),
    (mail(("Desk", "d@desk.example"), subject="RE:[CASE 17412093581] update"), NONE, "phishing-copied-case-number"),
    (mail(("Desk", "d@desk.example"), subject="Your AWS account will be suspended"), NONE,
     "phishing-account-threat-unauthenticated"),
    (mail(("Desk", "d@desk.example"), subject="Verify your AWS billing information",
          links=("https://verify-now.example/",)), PASS, "phishing-account-threat-link"),
])
def test_each_trick_is_caught_by_its_rule(m, auth, rule):
    result = classify(m, auth, RULES)
    assert result.kind == "phishing"
    assert rule in result.matched


@pytest.mark.parametrize("m", [
    # A newsletter that reports a threat; a colleague forwarding AWS's notice; a genuine AWS mail.
    mail(("Cloud Weekly", "editor@cloudweekly.example"), subject="What to do when your AWS account is suspended",
         headers=(("List-Unsubscribe", "<https://cloudweekly.example/u>"),)),
    mail(("Hanako", "hanako@example.jp"), subject="Fwd: Irregular activity in your AWS account",
         text="---------- Forwarded message ---------\nDear AWS Customer,\nplease review.\n"),
    mail(("Amazon Web Services", "no-reply-aws@amazon.com"), subject="Your AWS account has been suspended"),
])
def test_authenticated_look_alikes_of_tricks_are_not_phishing(m):
    assert classify(m, PASS, RULES).kind != "phishing"


def test_link_to_an_unknown_aws_vanity_domain_in_authenticated_aws_mail_is_not_phishing():
    genuine = mail(("Amazon Web Services", "aws-marketing-email-replies@amazon.com"), subject="AWS Summit",
                   links=("https://aws-experience.example/summit",))
    assert classify(genuine, PASS, RULES).kind == "marketing"
    result = classify(genuine, NONE, RULES)  # the same mail with nothing to vouch for it
    assert (result.kind, result.rule) == ("phishing", "phishing-lookalike-link-unauthenticated-aws")
