"""Identifiers become placeholders before DeepL and come back after; a damaged translation is refused."""

import pytest

from triage.translate.redact import LINK_MARKER, redact, restore

IDENTIFIERS = [
    "123456789012",
    "1234-5678-9012",
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAQ7EXAMPLEKEY7ABC",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "arn:aws:iam::123456789012:user/alice",
    "i-0a1b2c3d4e5f67890",
    "i-1234abcd",
    "vol-0c0ffee0c0ffee012",
    "snap-0badc0de0badc0de1",
    "eni-0123456789abcdef0",
    "sg-0a1b2c3d4e5f60718",
    "ap-northeast-1",
    "us-gov-west-1",
    "us-east-1a",
    "198.51.100.23",
    "10.0.0.0/16",
    "2001:db8:4f2a::17",
    "https://console.aws.amazon.com/support/home#/case/?displayId=17452036891&language=en",
    "console.aws.amazon.com/billing/home",
    "owner@example.jp",
    "attacker.mailbox@evil-mail.example",
    "17452036891",
    "hoster.example.net",
]


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_every_kind_of_identifier_is_replaced(identifier):
    text = f"We saw {identifier} in your account."
    r = redact(text)
    assert identifier not in r.xml
    assert r.originals == (identifier,)
    assert r.xml == 'We saw <x id="1"/> in your account.'
    assert restore(r.xml, r.originals) == text


def test_trailing_punctuation_stays_in_the_sentence():
    r = redact("Open https://example.com/a. Then arn:aws:iam::123456789012:root, done.")
    assert r.originals == ("https://example.com/a", "arn:aws:iam::123456789012:root")
    assert r.xml == 'Open <x id="1"/>. Then <x id="2"/>, done.'


def test_iam_names_shaped_like_ids_are_replaced_and_plain_words_are_not():
    assert redact("the IAM user deploy-bot and IAM role ci_runner2").originals == ("deploy-bot", "ci_runner2")
    assert redact("allow the IAM user to sign in").originals == ()


def test_amounts_times_and_words_are_left_alone():
    text = "Actual amount: $4,812.55 at 09:51:07 GMT, 24 hours, 5 days, version 5.0."
    assert redact(text).xml == text.replace("&", "&amp;")
    assert redact(text).originals == ()


def test_xml_special_characters_are_escaped_and_come_back():
    text = "Use <b> & 5 < 6 > 4 for 123456789012"
    r = redact(text)
    assert r.xml == 'Use &lt;b&gt; &amp; 5 &lt; 6 &gt; 4 for <x id="1"/>'
    assert restore(r.xml, r.originals) == text


def test_same_template_with_other_ids_redacts_to_the_same_text():
    a = redact("Account 123456789012 runs i-0a1b2c3d4e5f67890 in ap-south-1.")
    b = redact("Account 345678901234 runs i-0fedcba9876543210 in eu-west-3.")
    assert a.xml == b.xml
    assert a.originals != b.originals


def test_placeholders_may_move_in_the_translation():
    r = redact("Instance i-0a1b2c3d4e5f67890 in ap-south-1")
    assert restore('<x id="2"/> の <x id="1"/>', r.originals) == "ap-south-1 の i-0a1b2c3d4e5f67890"
    assert restore('<x id="2"></x> の <x id="1" />', r.originals) == "ap-south-1 の i-0a1b2c3d4e5f67890"


@pytest.mark.parametrize("damaged", [
    '<x id="1"/> だけ',  # lost one
    '<x id="1"/> <x id="2"/> <x id="2"/>',  # doubled one
    '<x id="1"/> <x id="2"/> <x id="3"/>',  # invented one
    '<x id="1"/> <b>太字</b> <x id="2"/>',  # a tag we never sent
])
def test_a_damaged_translation_is_refused(damaged):
    r = redact("Instance i-0a1b2c3d4e5f67890 in ap-south-1")
    assert restore(damaged, r.originals) is None


def test_links_are_never_shown_to_the_reader():
    r = redact("Reply at https://console.aws.amazon.com/support/home or aws.amazon.com/x, mail a@b.example.")
    shown = restore(r.xml, r.shown)
    assert shown == f"Reply at {LINK_MARKER} or {LINK_MARKER}, mail a@b.example."


def test_nothing_to_translate_without_words():
    assert not redact("123456789012 / i-0a1b2c3d4e5f67890").has_words
    assert not redact("$4,812.55").has_words
    assert redact("Region: ap-south-1").has_words


def test_ids_glued_to_letters_uuids_and_long_hex_ids_are_replaced():
    r = redact("Acct123456789012 sub 5e6f7a8b-1234-4cde-9f01-23456789abcd finding a1b2c3d4e5f60718293a4b5c6d7e8f90")
    # The glued token is mixed case with digits, shaped like a secret: it goes out whole.
    assert r.originals == ("Acct123456789012", "5e6f7a8b-1234-4cde-9f01-23456789abcd",
                           "a1b2c3d4e5f60718293a4b5c6d7e8f90")
    assert redact("ID:123456789012").originals == ("123456789012",)
    assert redact("a deadbeefcafe word and 2026-11-14").originals == ()


@pytest.mark.parametrize("identifier", [
    "AKIA2N7XQ4LR9B",  # 14 characters
    "AKIA2N7XQ4LR9B...",  # truncated, as a scanner writes it
    "AKIA2N7XQ4LR9B…",
    "AKIAZ7Q4M2X9KD3LWP5NQ",  # 21 characters
    "AKIA****7HQZ",  # masked
    "ASIA****************TB6D",
    "AKIA••••J5QZ",
    "wJalr************************",  # a masked secret key
    "********4913",  # a masked account id
    "k.****@example.net",  # a masked e-mail address
    "wJalrXUtnFEMI/K7MDENG",  # a truncated secret key
    "IQoJb3JpZ2luX2VjE",  # the start of a session token
    "12345678901",  # an account id one digit short
    "1234567890123",  # one digit long
    "i-0a1b2c",  # a short resource id
    "d-9067a1b2c3",  # an IAM Identity Center directory
    "WDKX-QHPL",  # a device code
    "4b1e9c7d2a6f",  # a short commit hash
    "AKIA-7RT2-WQ9E-LMZ4",  # a key id written in groups
    "akia7rt2wq9elmz4xpn3",  # a key id in lower case
    "3021 9876 5540",  # an account id in the console's groups, with spaces
])
def test_identifiers_of_any_length_masked_or_truncated_are_replaced(identifier):
    text = f"Key: {identifier} (found in a public repository)."
    r = redact(text)
    assert identifier not in r.xml and identifier.rstrip(".…") not in r.xml
    assert r.originals == (identifier,)
    assert restore(r.xml, r.originals) == text


def test_masks_and_words_that_look_close_are_left_alone():
    text = "**Bold** words, a read-only ASIAN market, 2026-11-14, ABCD and *** stars."
    assert redact(text).originals == ()
