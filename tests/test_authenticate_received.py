"""Authentication-Results are believed only when no host outside the trusted organisation received the mail
after the header was written (a Received header above it): the same rule for mail that came straight to the
mailbox and for an original attached to a forward."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_authenticate import AWS, GOOD_AR, mail_of, message
from triage import paths
from triage.authenticate import authenticate, provider_hosts
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS
from triage.errors import RulesError
from triage.mail_providers import FILE, load_providers

CORPUS = Path(__file__).parent / "corpus"
PROVIDERS = load_providers(paths.rules_dir())


def judge(raw: bytes, trusted: tuple[str, ...] = DEFAULT_TRUSTED_AUTHSERV_IDS,
          providers: tuple[tuple[str, ...], ...] = PROVIDERS):
    return authenticate(mail_of(raw), trusted_authserv_ids=trusted, offline=True, aws_domains=AWS,
                        inside_hosts=provider_hosts(trusted, providers))


def received(by: str, source: str = "relay.example-vps.net [198.51.100.23]") -> str:
    return f"Received: from {source}\r\n by {by} with ESMTPS id 9A1B2; Tue, 03 Mar 2026 10:00:03 +0000\r\n"


def test_a_direct_phish_with_a_forged_trusted_header_below_its_mailbox_server_is_not_believed():
    """The company's server writes no Authentication-Results; the "mx.google.com … dmarc=pass" below its
    Received hops came with the phish. Believed, the phish was a critical, genuine compromise notice."""
    auth = judge((CORPUS / "phish-forged-results-below-outside-received.eml").read_bytes())
    assert auth.verdict == "none"
    assert any("imap01.works.example.co.jp received the mail after it" in r for r in auth.reasons), auth.reasons


def test_a_forged_trusted_header_below_an_untrusted_mailbox_header_is_not_believed():
    ours = "Authentication-Results: mx2.works.example.co.jp; spf=none smtp.mailfrom=bounce@vps.example\r\n"
    raw = message(headers=received("mx2.works.example.co.jp") + ours + GOOD_AR)
    assert judge(raw).verdict == "none"


def test_genuine_mail_received_by_microsoft_365_stays_believed():
    """Exchange Online's own hops (…outlook.office365.com, …prod.outlook.com) are Microsoft's."""
    auth = judge((CORPUS / "abuse-ec2-port-scanning-microsoft365.eml").read_bytes())
    assert auth.verdict == "pass"
    assert any("believed the topmost trusted ARC-Authentication-Results header, from mx.microsoft.com" in r
               for r in auth.reasons)


@pytest.mark.parametrize(("hops", "trusted"), [
    # Gmail: its last hop names an address only, its receiving hop is mx.google.com.
    ("Received: by 2002:a05:7022:61a:b0:9b:1c2d with SMTP id q26csp1;\r\n Tue, 03 Mar 2026 02:00:04 -0800\r\n"
     + received("mx.google.com", "a8-12.smtp-out.amazonses.com (a8-12.smtp-out.amazonses.com [54.240.8.12])"),
     DEFAULT_TRUSTED_AUTHSERV_IDS),
    # A corporate MTA: the authserv-id is mx.corp.example.com, the hops are elsewhere in example.com.
    (received("imap01.corp.example.com (Dovecot) with LMTP", "smtp-in2.example.com")
     + received("smtp-in2.example.com", "a8-12.smtp-out.amazonses.com"), ("mx.corp.example.com",)),
    # Amazon SES receiving (WorkMail): inbound-smtp.<region>.amazonaws.com writes "amazonses.com".
    (received("inbound-smtp.us-east-1.amazonaws.com", "a8-12.smtp-out.amazonses.com"), ("amazonses.com",)),
    # A hop that names no host ("by localhost", fetchmail on a machine without a domain).
    ("Received: from imap.gmail.com by localhost with IMAP (fetchmail-6.4.37); 3 Mar 2026 10:01:00 +0000\r\n",
     DEFAULT_TRUSTED_AUTHSERV_IDS),
], ids=["gmail", "corporate", "ses-inbound", "bare-host"])
def test_the_trusted_organisations_own_hops_above_its_header_keep_it_believed(hops, trusted):
    ar = GOOD_AR.replace("mx.google.com;", f"{trusted[0]};")
    assert judge(message(headers=hops + ar), trusted).verdict == "pass"


@pytest.mark.parametrize(("by", "trusted"), [
    ("mx2.works.example.co.jp", DEFAULT_TRUSTED_AUTHSERV_IDS),
    # anyone's EC2 instance is under amazonaws.com; only SES's receiving hosts belong to amazonses.com
    ("ec2-54-250-1-2.ap-northeast-1.compute.amazonaws.com", ("amazonses.com",)),
    ("inbound-smtp.evil.us-east-1.amazonaws.com", ("amazonses.com",)),
    # a provider's other domains count only when that provider is trusted
    ("TYCP286CA0001.outlook.office365.com", ("mx.google.com",)),
    ("mx.google.com", ("mx.corp.example.com",)),
], ids=["company", "ec2", "deeper-amazonaws", "microsoft-untrusted", "google-untrusted"])
def test_a_hop_outside_the_trusted_organisation_above_the_header_makes_it_unbelieved(by, trusted):
    ar = GOOD_AR.replace("mx.google.com;", f"{trusted[0]};")
    inside = received(trusted[0])  # the trusted server's own hop below the outside one changes nothing
    auth = judge(message(headers=received(by) + inside + ar), trusted)
    assert auth.verdict == "none"
    assert any(f"{by.lower()} received the mail after it" in r for r in auth.reasons), auth.reasons


def test_a_providers_other_domains_come_from_the_rules_file(tmp_path):
    """The provider families are data: without Microsoft's entry, its Exchange hops are someone else's."""
    raw = (CORPUS / "abuse-ec2-port-scanning-microsoft365.eml").read_bytes()
    shipped = (paths.rules_dir() / FILE).read_text(encoding="utf-8")
    without = shipped.replace('"office365.com", ', "")
    assert without != shipped
    (tmp_path / FILE).write_text(without, encoding="utf-8")
    auth = judge(raw, providers=load_providers(tmp_path))
    assert auth.verdict == "none"
    assert any("outlook.office365.com received the mail after it" in r for r in auth.reasons), auth.reasons


@pytest.mark.parametrize("text", ['[[provider]]\nname = "x"\n', '[[provider]]\ndomains = ["not a domain"]\n',
                                  '[[provider]]\ndomains = []\n', "provider = 3\n"])
def test_a_broken_providers_file_is_a_rules_error_naming_it(tmp_path, text):
    (tmp_path / FILE).write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=FILE):
        load_providers(tmp_path)
