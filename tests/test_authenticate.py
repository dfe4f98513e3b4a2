"""Authenticity: DKIM signed and verified here with our own keys (DNS injected, no network), trusted
Authentication-Results only from configured authserv-ids and only the topmost, DMARC alignment with From."""

import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from triage.authenticate import (
    aligned_with,
    authenticate,
    organizational_domain,
    parse_authentication_results,
)
from triage.mail import Origin, RawMail
from triage.parse import parse_mail

TRUSTED = ("mx.google.com", "mx.microsoft.com")
AWS = ("amazon.com", "amazonaws.com", "amazonses.com", "aws.com", "aws")

BODY = (
    b"Dear AWS Customer,\r\n\r\nYour AWS account 482915730264 may be compromised.\r\n"
    b"Please change the root user password.\r\n"
)


def message(sender: str = "Amazon Web Services <no-reply-aws@amazon.com>", headers: str = "",
            body: bytes = BODY) -> bytes:
    head = (
        f"{headers}"
        f"From: {sender}\r\n"
        "To: taro.yamada@example.jp\r\n"
        "Subject: Your AWS account may be compromised\r\n"
        "Date: Tue, 03 Mar 2026 10:00:00 +0000\r\n"
        "Message-ID: <dkim-test@amazon.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
    )
    return head.encode() + b"\r\n" + body


def mail_of(raw: bytes):
    return parse_mail(RawMail(raw, Origin("eml", "test.eml")))


@pytest.fixture(scope="module")
def keys():
    """Two key pairs, each published (in our fake DNS) under its own selector and domain."""
    out = {}
    for selector, domain in ((b"sel1", b"amazon.com"), (b"ses", b"amazonses.com"), (b"news", b"cloudweekly.example")):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        out[(selector, domain)] = (private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public))
    return out


@pytest.fixture
def dns(keys):
    asked = []

    def dnsfunc(name, timeout=5):
        asked.append(name)
        for (selector, domain), (_, txt) in keys.items():
            if name == selector + b"._domainkey." + domain + b".":
                return txt
        return None

    dnsfunc.asked = asked
    return dnsfunc


def sign(raw: bytes, keys, selector: bytes = b"sel1", domain: bytes = b"amazon.com") -> bytes:
    private, _ = keys[(selector, domain)]
    header = dkim.sign(raw, selector, domain, private,
                       include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return header + raw


# --- DKIM ---------------------------------------------------------------------------------------


def test_signed_mail_verifies_offline_through_injected_dns(keys, dns):
    auth = authenticate(mail_of(sign(message(), keys)), trusted_authserv_ids=TRUSTED, offline=True,
                        dnsfunc=dns, aws_domains=AWS)
    assert auth.verdict == "pass"
    assert auth.aligned == ("amazon.com",)
    assert any("DKIM signature d=amazon.com verified" in r for r in auth.reasons)
    assert dns.asked == [b"sel1._domainkey.amazon.com."]


def test_body_changed_after_signing_fails(keys, dns):
    signed = sign(message(), keys)
    tampered = signed.replace(b"may be compromised", b"is fine, ignore this")
    auth = authenticate(mail_of(tampered), trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns,
                        aws_domains=AWS)
    assert auth.verdict == "fail"
    assert any("body hash mismatch" in r for r in auth.reasons)


def test_header_changed_after_signing_fails(keys, dns):
    signed = sign(message(), keys)
    tampered = signed.replace(b"Subject: Your AWS account may be compromised", b"Subject: Nothing to see")
    auth = authenticate(mail_of(tampered), trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns,
                        aws_domains=AWS)
    assert auth.verdict == "fail"


def test_key_that_cannot_be_found_is_no_verdict(keys):
    # A selector retired since the mail was sent must not make an old genuine mail look forged.
    auth = authenticate(mail_of(sign(message(), keys)), trusted_authserv_ids=TRUSTED, offline=True,
                        dnsfunc=lambda name, timeout=5: None, aws_domains=AWS)
    assert auth.verdict == "none"
    assert any("no key published at sel1._domainkey.amazon.com" in r for r in auth.reasons)


def test_dns_failure_is_no_verdict(keys):
    def broken(name, timeout=5):
        raise dkim.DnsTimeoutError("timed out")

    auth = authenticate(mail_of(sign(message(), keys)), trusted_authserv_ids=TRUSTED, offline=False,
                        dnsfunc=broken, aws_domains=AWS)
    assert auth.verdict == "none"
    assert any("key look-up failed" in r for r in auth.reasons)


def test_signature_made_with_another_key_fails(keys, dns):
    # Signed with the newsletter's key but claiming amazon.com's selector: the published key does not match.
    private, _ = keys[(b"news", b"cloudweekly.example")]
    raw = dkim.sign(message(), b"sel1", b"amazon.com", private,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + message()
    auth = authenticate(mail_of(raw), trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns, aws_domains=AWS)
    assert auth.verdict == "fail"


def test_offline_without_dns_does_not_check_signatures(keys):
    auth = authenticate(mail_of(sign(message(), keys)), trusted_authserv_ids=TRUSTED, offline=True,
                        aws_domains=AWS)
    assert auth.verdict == "none"
    assert any("not checked: offline" in r for r in auth.reasons)


def test_valid_ses_signature_does_not_vouch_for_an_aws_from(keys, dns):
    # Anyone's mail sent through SES carries a valid d=amazonses.com signature: it must not pass as AWS's.
    raw = sign(message(), keys, b"ses", b"amazonses.com")
    auth = authenticate(mail_of(raw), trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns, aws_domains=AWS)
    assert auth.verdict == "fail"
    assert any("not aligned with From amazon.com" in r for r in auth.reasons)


def test_unaligned_signature_for_an_ordinary_domain_is_no_verdict(keys, dns):
    raw = sign(message("Shop <news@shop.example>"), keys, b"ses", b"amazonses.com")
    auth = authenticate(mail_of(raw), trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns, aws_domains=AWS)
    assert auth.verdict == "none"


def test_signature_of_a_subdomain_is_aligned(keys, dns):
    raw = sign(message("AWS <no-reply@email.amazon.com>"), keys)
    auth = authenticate(mail_of(raw), trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns, aws_domains=AWS)
    assert auth.verdict == "pass"


def test_one_good_signature_of_two_is_enough(keys, dns):
    raw = sign(sign(message(), keys, b"ses", b"amazonses.com"), keys)
    auth = authenticate(mail_of(raw), trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns, aws_domains=AWS)
    assert auth.verdict == "pass"
    assert auth.aligned == ("amazon.com",)


# --- Authentication-Results -------------------------------------------------------------------

GOOD_AR = (
    "Authentication-Results: mx.google.com;\r\n"
    "       dkim=pass header.i=@amazon.com header.s=abc header.b=Xy;\r\n"
    "       spf=pass (google.com: domain of x@email.amazonses.com designates 54.240.8.45 as permitted sender)"
    " smtp.mailfrom=0100@email.amazonses.com;\r\n"
    "       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=amazon.com\r\n"
)
FAIL_AR = (
    "Authentication-Results: mx.google.com;\r\n"
    "       spf=neutral (google.com: 185.234.72.19 is neither permitted nor denied) smtp.mailfrom=www@vps.example;\r\n"
    "       dmarc=fail (p=QUARANTINE sp=QUARANTINE dis=QUARANTINE) header.from=amazon.com\r\n"
)


def judge(raw: bytes, trusted=TRUSTED):
    return authenticate(mail_of(raw), trusted_authserv_ids=trusted, offline=True, aws_domains=AWS)


def test_trusted_results_pass():
    auth = judge(message(headers=GOOD_AR))
    assert auth.verdict == "pass"
    assert any("mx.google.com says dmarc=pass for amazon.com" in r for r in auth.reasons)


def test_trusted_dmarc_failure_fails():
    assert judge(message(headers=FAIL_AR)).verdict == "fail"


def test_untrusted_authserv_id_is_ignored():
    forged = GOOD_AR.replace("mx.google.com;", "mail.attacker.example;")
    auth = judge(message(headers=forged))
    assert auth.verdict == "none"
    assert any("ignored Authentication-Results from mail.attacker.example" in r for r in auth.reasons)


def test_only_configured_ids_are_trusted():
    assert judge(message(headers=GOOD_AR), trusted=("mx.microsoft.com",)).verdict == "none"


def test_topmost_trusted_header_wins_over_a_forged_one_below():
    # The receiving server's header is on top; the sender wrote the "pass" one further down.
    raw = message(headers=FAIL_AR + "Received: from vps.example by relay.example; Tue, 3 Mar 2026 09:59:00 +0000\r\n"
                  + GOOD_AR)
    auth = judge(raw)
    assert auth.verdict == "fail"


def test_untrusted_header_on_top_does_not_hide_the_trusted_one():
    untrusted = GOOD_AR.replace("mx.google.com;", "spamfilter.example;")
    assert judge(message(headers=untrusted + FAIL_AR)).verdict == "fail"


def test_microsoft_arc_results_are_read_and_bare_results_ignored():
    headers = (
        "ARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass (sender ip is 54.240.8.45)\r\n"
        " smtp.rcpttodomain=example.jp smtp.mailfrom=email.amazonses.com;\r\n"
        " dmarc=pass (p=quarantine sp=quarantine pct=100) action=none header.from=amazon.com;\r\n"
        " dkim=pass (signature was verified) header.d=amazon.com; arc=none\r\n"
        "Authentication-Results: spf=pass (sender IP is 54.240.8.45) smtp.mailfrom=email.amazonses.com;\r\n"
        " dkim=pass (signature was verified) header.d=amazon.com;dmarc=pass action=none header.from=amazon.com\r\n"
    )
    auth = judge(message(headers=headers))
    assert auth.verdict == "pass"
    assert any("mx.microsoft.com" in r for r in auth.reasons)


def test_dkim_pass_for_another_domain_in_results_is_not_alignment():
    headers = ("Authentication-Results: mx.google.com; dkim=pass header.i=@bulkmailer.example header.s=s1;\r\n"
               "  spf=pass smtp.mailfrom=bounce@bulkmailer.example\r\n")
    auth = judge(message(headers=headers))
    assert auth.verdict == "fail"  # an AWS From vouched for only by someone else


def test_results_for_another_from_domain_do_not_count():
    headers = "Authentication-Results: mx.google.com; dmarc=pass header.from=shop.example\r\n"
    assert judge(message(headers=headers)).verdict == "none"


def test_spf_pass_aligned_with_from_passes():
    headers = "Authentication-Results: mx.google.com; spf=pass smtp.mailfrom=bounce@news.cloudweekly.example\r\n"
    assert judge(message("Cloud Weekly <editor@cloudweekly.example>", headers=headers)).verdict == "pass"


def test_mail_without_from_has_no_verdict():
    raw = b"To: a@example.jp\r\nSubject: x\r\n\r\nhello\r\n"
    assert judge(raw).verdict == "none"


def test_parse_results_with_comments_quotes_and_version():
    parsed = parse_authentication_results(
        'mx.google.com 1; dkim=pass (good (nested) sig) header.i="@amazon.com" header.s=abc; '
        "spf=softfail (a; b) smtp.mailfrom=x@y.example; none"
    )
    assert parsed.authserv_id == "mx.google.com"
    assert [(r.method, r.result) for r in parsed.results] == [("dkim", "pass"), ("spf", "softfail")]
    assert parsed.results[0].prop("header.i") == "@amazon.com"
    assert parsed.results[1].prop("smtp.mailfrom") == "x@y.example"


def test_parse_results_with_escapes_and_quotes_in_and_around_comments():
    parsed = parse_authentication_results(
        'mx.example; dkim=pass (a \\) still (deep) comment) header.d=ok.example header.b="x(y;z)"; '
        'spf=fail (a " in a comment) smtp.mailfrom=b.example; arc=none \\(not a comment)'
    )
    assert [(r.method, r.result, r.properties) for r in parsed.results] == [
        ("dkim", "pass", (("header.d", "ok.example"), ("header.b", "x(y;z)"))),
        ("spf", "fail", (("smtp.mailfrom", "b.example"),)),
        ("arc", "none", ()),
    ]


def test_parse_results_without_authserv_id():
    parsed = parse_authentication_results("spf=pass smtp.mailfrom=a.example; dkim=pass header.d=a.example")
    assert parsed.authserv_id == ""
    assert len(parsed.results) == 2


@pytest.mark.parametrize(("domain", "org"), [
    ("email.amazon.com", "amazon.com"),
    ("amazon.co.jp", "amazon.co.jp"),
    ("mail.shop.co.jp", "shop.co.jp"),
    ("sns.amazonaws.com", "amazonaws.com"),
    ("health.aws", "health.aws"),
])
def test_organizational_domain(domain, org):
    assert organizational_domain(domain) == org


def test_alignment_is_relaxed_but_not_across_organisations():
    assert aligned_with("email.amazon.com", "amazon.com")
    assert not aligned_with("amazonses.com", "amazon.com")
    assert not aligned_with("co.jp", "amazon.co.jp")


def test_signed_mail_stored_with_unix_line_ends_still_verifies(keys, dns):
    # Maildir and mbox files keep LF line ends; the signature was made over CRLF.
    raw = sign(message(), keys).replace(b"\r\n", b"\n")
    auth = authenticate(mail_of(raw), trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns, aws_domains=AWS)
    assert auth.verdict == "pass"
