"""Unwrapping forwards (triage/forward.py): the original with its own bytes from an attachment, or read from
each mail client's inline block; who may forward; what a forward may never do to trust."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import forwarding as fw
from tests.test_authenticate import dns, keys, sign  # noqa: F401 - fixtures: our own DKIM keys and DNS
from triage import paths
from triage.authenticate import authenticate, provider_hosts
from triage.classify import classify, load_rules
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS, NotifySettings, parse_config
from triage.errors import ConfigError
from triage.forward import find_originals, load_formats, refusal, unwrap
from triage.forwarders import is_forwarder
from triage.mail import Origin, RawMail
from triage.mail_providers import load_providers
from triage.parse import parse_mail

CORPUS = Path(__file__).parent / "corpus"
NOTICE = CORPUS / "compromise-irregular-activity.eml"  # Date: Wed, 04 Mar 2026 11:02:00 +0000
FORMATS = load_formats(paths.rules_dir())
TRUSTED = ("mx.google.com",)
AWS = ("amazon.com", "amazonaws.com", "amazonses.com", "aws.com")


def mail_of(raw: bytes):
    return parse_mail(RawMail(raw, Origin("eml", "forward.eml")))


def judge(mail):
    return authenticate(mail, trusted_authserv_ids=TRUSTED, offline=True, aws_domains=AWS)


@pytest.mark.parametrize("as_html", [False, True], ids=["text", "html"])
@pytest.mark.parametrize("client", fw.INLINE_CLIENTS)
def test_each_clients_inline_block_gives_the_originals_from_date_and_subject(client, as_html):
    found = find_originals(mail_of(fw.inline(NOTICE.read_bytes(), client, as_html=as_html)), FORMATS)
    assert len(found) == 1
    original, how, named = found[0]
    assert (how, named) == ("inline", client)
    assert original.sender.address == "no-reply-aws@amazon.com"
    assert original.sender.name == "Amazon Web Services"
    assert original.subject == "[ACTION REQUIRED] Irregular activity in your AWS account: 482915730264"
    assert original.date == datetime(2026, 3, 4, 11, 2, tzinfo=UTC)
    assert original.text.startswith("Hello,")
    assert "これは本物" not in original.text, "the forwarder's own words are not the original's"
    assert original.headers == () and original.raw == b"", "the forward's headers never speak for the original"


def test_an_attached_original_keeps_its_own_bytes_and_headers():
    raw = NOTICE.read_bytes()
    found = find_originals(mail_of(fw.attached(raw)), FORMATS)
    assert [(how, client) for _, how, client in found] == [("attachment", "message/rfc822")]
    original = found[0][0]
    assert original.message_id == "<198c2bd94da139794514057c@amazon.com>"
    assert original.header("Authentication-Results").startswith("mx.google.com;")
    assert original.raw.replace(b"\r\n", b"\n").strip() == raw.replace(b"\r\n", b"\n").strip()


def test_several_attachments_and_eml_files_are_each_an_original():
    a, b = (CORPUS / "compromise-irregular-activity.eml").read_bytes(), (CORPUS / "phish-logo-words.eml").read_bytes()
    for eml_files, client in ((False, "message/rfc822"), (True, ".eml")):
        found = find_originals(mail_of(fw.attached(a, b, eml_files=eml_files)), FORMATS)
        assert [(o.sender.address, how, c) for o, how, c in found] == [
            ("no-reply-aws@amazon.com", "attachment", client),
            (mail_of(b).sender.address, "attachment", client)]


def test_dkim_still_verifies_over_the_attached_original(keys, dns):  # noqa: F811
    original = sign(b"From: Amazon Web Services <no-reply-aws@amazon.com>\r\nTo: taro@example.jp\r\n"
                    b"Subject: Your AWS account may be compromised\r\nDate: Tue, 03 Mar 2026 10:00:00 +0000\r\n"
                    b"Message-ID: <signed@amazon.com>\r\nMIME-Version: 1.0\r\n"
                    b"Content-Type: text/plain; charset=us-ascii\r\n\r\nYour AWS account may be compromised.\r\n",
                    keys)
    forward = mail_of(fw.attached(original))
    unwrapped = unwrap(forward, FORMATS, (fw.FORWARDER,), judge, trusted=TRUSTED)
    attached, how = unwrapped.mails[0][0], unwrapped.mails[0][1]
    assert how is not None and how.how == "attachment"
    auth = authenticate(attached, trusted_authserv_ids=TRUSTED, offline=True, dnsfunc=dns, aws_domains=AWS)
    assert auth.verdict == "pass"
    assert any("DKIM signature d=amazon.com verified" in r for r in auth.reasons)


def test_a_forward_counts_only_from_an_allowed_authenticated_forwarder():
    raw = NOTICE.read_bytes()
    allowed = ("me@example.jp", "@family.example.jp")
    cases = {
        fw.inline(raw, "gmail"): "",
        fw.inline(raw, "gmail", sender="mother@family.example.jp"): "",
        fw.inline(raw, "gmail", sender="someone@stranger.example"): "not an allowed forwarder",
        fw.inline(raw, "gmail", sender="me@sub.family.example.jp"): "not an allowed forwarder",
        fw.inline(raw, "gmail", sender='"odd, one"@family.example.jp'): "not a plain address to reply to",
        fw.inline(raw, "gmail", auth=fw.FORGED): "does not authenticate for example.jp (verdict fail)",
        fw.inline(raw, "gmail", auth=None): "does not authenticate for example.jp (verdict none)",
    }
    for data, why in cases.items():
        forward = mail_of(data)
        got = refusal(forward, judge(forward), allowed)
        assert (why in got) if why else got == "", (forward.sender, got)
        unwrapped = unwrap(forward, FORMATS, allowed, judge, trusted=TRUSTED)
        if why:
            assert unwrapped.mails == ((forward, None),), "a refused forward is left as the mail it is"
        else:
            assert unwrapped.mails[0][1] is not None and unwrapped.mails[0][0].sender.domain == "amazon.com"


def test_a_mail_without_a_forward_is_itself():
    raw = NOTICE.read_bytes()
    mail = mail_of(raw)
    assert unwrap(mail, FORMATS, ("me@example.jp",), judge, trusted=TRUSTED).mails == ((mail, None),)


def test_forwarders_default_to_the_notify_addresses_and_are_checked():
    assert NotifySettings(to=("me@example.jp",)).allowed_forwarders == ("me@example.jp",)
    config = parse_config({"notify": {"to": ["me@example.jp"],
                                      "forwarders": ["Me@Work.example", "@family.example.jp"]}})
    assert config.notify.allowed_forwarders == ("me@work.example", "@family.example.jp")
    assert is_forwarder("Mother@Family.Example.JP", config.notify.allowed_forwarders)
    assert not is_forwarder("me@example.jp", config.notify.allowed_forwarders)
    with pytest.raises(ConfigError, match="forwarders"):
        parse_config({"notify": {"forwarders": ["family.example.jp"]}})


def test_only_a_well_formed_message_id_of_the_forward_is_kept():
    raw = NOTICE.read_bytes()
    good = unwrap(mail_of(fw.inline(raw, "gmail")), FORMATS, (fw.FORWARDER,), judge, trusted=TRUSTED).mails[0][1]
    assert good is not None and good.message_id == "<fwd-1@mail.example.jp>"
    odd = fw.inline(raw, "gmail", message_id="<a\"b c@x>")
    bad = unwrap(mail_of(odd), FORMATS, (fw.FORWARDER,), judge, trusted=TRUSTED).mails[0][1]
    assert bad is not None and bad.message_id == ""


def test_cc_lines_and_a_wrapped_to_line_stay_inside_the_block():
    body = ("FYI\n\n________________________________\nFrom: Amazon Web Services [mailto:no-reply-aws@amazon.com]\n"
            "Sent: Wednesday, March 4, 2026 8:02 PM\nTo: Taro Yamada <taro@example.jp>; Hanako Yamada\n"
            "    <hanako@example.jp>\nCc: billing@example.jp\nSubject: Your AWS account may be compromised\n\n"
            "Hello,\nWe detected irregular activity.\n")
    raw = (f"From: Taro <me@example.jp>\nTo: triage@example.jp\nSubject: FW: x\nDate: Wed, 04 Mar 2026 21:00:00 +0900"
           f"\nMessage-ID: <cc@example.jp>\n\n{body}").encode()
    ((original, how, client),) = find_originals(mail_of(raw), FORMATS)
    assert (how, client) == ("inline", "outlook")
    assert original.sender.address == "no-reply-aws@amazon.com"
    assert original.subject == "Your AWS account may be compromised"
    assert original.date == datetime(2026, 3, 4, 11, 2, tzinfo=UTC), "the block's time is in the forward's zone"
    assert original.text == "Hello,\nWe detected irregular activity."


# --- the whole corpus, forwarded ------------------------------------------------------------------

LABELS = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))
SETTINGS = LABELS.pop("settings")
RULES = load_rules(paths.rules_dir())
INSIDE = provider_hosts(DEFAULT_TRUSTED_AUTHSERV_IDS, load_providers(paths.rules_dir()))


def classified(data: bytes) -> list[tuple[str, str, str]]:
    """(kind, severity, authenticity) of each mail the pipeline would classify for this file."""
    def judge_all(mail):
        return authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True,
                            aws_domains=RULES.aws_domains, inside_hosts=INSIDE)

    unwrapped = unwrap(mail_of(data), FORMATS, (fw.FORWARDER,), judge_all, trusted=DEFAULT_TRUSTED_AUTHSERV_IDS,
                       inside_hosts=INSIDE)
    out = []
    for original, forward in unwrapped.mails:
        assert forward is not None, "the forward was not unwrapped"
        auth = unwrapped.authenticity(original, forward, judge_all)
        c = classify(original, auth, RULES, owner_account_ids=tuple(SETTINGS["account_ids"]),
                     statement_alert_usd=SETTINGS["statement_alert_usd"], jpy_per_usd=SETTINGS["jpy_per_usd"])
        out.append((c.kind, c.severity, auth.verdict))
    return out


@pytest.mark.parametrize("eml_files", [False, True], ids=["rfc822", "eml"])
@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_corpus_mail_attached_is_judged_as_alone(name, eml_files):
    label = LABELS[name]
    got = classified(fw.attached((CORPUS / name).read_bytes(), eml_files=eml_files))
    assert got == [(label["kind"], label["severity"], label["authenticity"])]


# Marketing is told apart by its list headers (List-Unsubscribe), which an inline forward drops.
GENUINE = sorted(n for n, label in LABELS.items()
                 if label["authenticity"] == "pass" and label["kind"] not in ("phishing", "other", "marketing"))


@pytest.mark.parametrize("as_html", [False, True], ids=["text", "html"])
@pytest.mark.parametrize("client", fw.INLINE_CLIENTS)
def test_every_genuine_corpus_notice_forwarded_inline_keeps_its_kind_unverified(client, as_html):
    for name in GENUINE:
        got = classified(fw.inline((CORPUS / name).read_bytes(), client, as_html=as_html))
        assert got == [(LABELS[name]["kind"], LABELS[name]["severity"], "none")], name


def test_an_attached_original_is_not_vouched_for_by_a_trusted_header_below_an_untrusted_one():
    """The relative's provider is not one we trust; a "mx.google.com … dmarc=pass" below its header is the
    phisher's own invention, and would make the forward more trusted than the mail itself."""
    phish = (b"Authentication-Results: mail.relative-isp.example; dmarc=fail header.from=amazon.com\n"
             b"Authentication-Results: mx.google.com; dkim=pass header.i=@amazon.com; "
             b"dmarc=pass header.from=amazon.com\n"
             b"From: Amazon Web Services <no-reply-aws@amazon.com>\nTo: mother@family.example.jp\n"
             b"Subject: Your AWS account will be suspended\nDate: Tue, 10 Nov 2026 06:00:00 +0000\n"
             b"Message-ID: <forged@amazon.com>\n\nVerify your account within 24 hours or it will be suspended.\n")
    (original, forward), = unwrap(mail_of(fw.attached(phish)), FORMATS, (fw.FORWARDER,), judge,
                                  trusted=TRUSTED).mails
    assert forward is not None
    assert original.header_values("Authentication-Results") == []
    assert judge(original).verdict == "none"
    genuine = (CORPUS / "compromise-irregular-activity.eml").read_bytes()  # topmost header: mx.google.com
    (kept, _), = unwrap(mail_of(fw.attached(genuine)), FORMATS, (fw.FORWARDER,), judge, trusted=TRUSTED).mails
    assert judge(kept).verdict == "pass"
