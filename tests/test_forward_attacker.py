"""What an attacker may try with a forward: a phish carrying a forged "trusted" Authentication-Results header
that the owner forwards as an attachment from a mailbox elsewhere, and a phish forwarded inline that asks
to be phoned. Neither may look more trusted than the phish would alone."""

from __future__ import annotations

from tests import forwarding as fw
from tests.test_forward import FORMATS, TRUSTED, judge, mail_of
from triage import paths
from triage.classify import classify, load_rules
from triage.forward import unwrap

RULES = load_rules(paths.rules_dir())
FORGED = ("Authentication-Results: mx.google.com; dkim=pass header.i=@amazon.com header.s=x1;\n"
          " spf=pass smtp.mailfrom=amazon.com; dmarc=pass header.from=amazon.com\n")
SPOOF = ("From: Amazon Web Services <aws-billing@amazon.com>\nTo: k.tanaka@works.example.co.jp\n"
         "Subject: Your AWS account 551203948871 is suspended\nDate: Mon, 23 Nov 2026 01:10:00 +0000\n"
         "Message-ID: <susp-77@relay.example-vps.net>\nMIME-Version: 1.0\n"
         "Content-Type: text/plain; charset=us-ascii\n\n"
         "Dear AWS Customer,\n\nYour AWS account 551203948871 is suspended for an unpaid invoice. Restore it within\n"
         "24 hours at https://aws-restore-billing.net/account\n\nAmazon Web Services\n")


def unwrapped(forward: bytes):
    found = unwrap(mail_of(forward), FORMATS, (fw.FORWARDER,), judge, trusted=TRUSTED)
    (original, how), = [(m, f) for m, f in found.mails]
    auth = found.authenticity(original, how, judge)
    return auth, classify(original, auth, RULES)


def test_a_forged_trusted_header_in_an_attached_original_received_elsewhere_is_not_believed():
    received = ("Received: from relay.example-vps.net (relay.example-vps.net [198.51.100.23])\n"
                " by mx2.works.example.co.jp (Postfix) with ESMTP id 9A1B2; Mon, 23 Nov 2026 01:10:03 +0000\n")
    auth, c = unwrapped(fw.attached((received + FORGED + SPOOF).encode()))
    assert auth.verdict != "pass"
    assert c.kind == "phishing"


def test_an_original_the_trusted_server_received_keeps_its_verdict():
    # As Gmail stores it: its own last hop names an address, its receiving hop is by mx.google.com.
    received = ("Received: by 2002:a05:7022:61a:b0:9b:1c2d with SMTP id q26csp1;\n Mon, 23 Nov 2026 01:10:04 -0800\n"
                "Received: from a8-12.smtp-out.amazonses.com (a8-12.smtp-out.amazonses.com [54.240.8.12])\n"
                " by mx.google.com with ESMTPS id d9; Mon, 23 Nov 2026 01:10:03 -0800\n")
    auth, _ = unwrapped(fw.attached((received + FORGED + SPOOF).encode()))
    assert auth.verdict == "pass"


def test_a_phish_forwarded_inline_that_asks_to_be_phoned_is_phishing():
    phish = (b"From: Amazon Web Services <no-reply-aws@amazon.com>\nTo: k.tanaka@works.example.co.jp\n"
             b"Subject: Charge of $2,310.00 for Amazon SageMaker\nDate: Mon, 23 Nov 2026 01:10:00 +0000\n"
             b"Message-ID: <cb-1@relay.example-vps.net>\nContent-Type: text/plain; charset=us-ascii\n\n"
             b"Your account was charged $2,310.00. To cancel this charge and get a refund, call our billing\n"
             b"desk at 1-877-555-0192 before midnight.\n")
    auth, c = unwrapped(fw.inline(phish, "outlook"))
    assert auth.verdict == "none"
    assert (c.kind, c.rule) == ("phishing", "phishing-callback-scam-unauthenticated-aws")
    assert any(e.startswith("callback-scam:") and "1-877-555-0192" in e for e in c.evidence)
