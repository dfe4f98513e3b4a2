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
    assert r.originals == ("123456789012", "5e6f7a8b-1234-4cde-9f01-23456789abcd", "a1b2c3d4e5f60718293a4b5c6d7e8f90")
    assert redact("a deadbeefcafe word and 2026-11-14").originals == ()
