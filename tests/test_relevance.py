"""The header check before any body is fetched: Amazon's shop mail is dropped, AWS mail from amazon.com kept."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from triage import paths
from triage.relevance import load_narrowing
from triage.sources.imap import HEADER_FIELDS, _headers

CORPUS = Path(__file__).parent / "corpus"


def headers(raw: bytes):  # as the IMAP source sees them: the header block alone
    return _headers({b"BODY[HEADER.FIELDS (FROM SENDER SUBJECT MESSAGE-ID)]": raw.split(b"\n\n", 1)[0]})


def test_corpus_mail_from_amazon_domains_is_kept_exactly_when_it_is_about_aws():
    wanted = load_narrowing(paths.rules_dir()).wanted
    labels = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))
    checked = {"kept": 0, "dropped": 0}
    for name, label in labels.items():
        if not name.endswith(".eml"):
            continue
        h = headers((CORPUS / name).read_bytes())
        if not any(a.lower().endswith(("amazon.com", "amazon.co.jp")) for a in h.addresses):
            continue
        about_aws = label["kind"] != "other"
        assert wanted(h) == about_aws, name
        checked["kept" if about_aws else "dropped"] += 1
    assert checked["kept"] >= 40 and checked["dropped"] >= 2


def test_shop_look_alike_from_another_domain_is_still_a_candidate():
    wanted = load_narrowing(paths.rules_dir()).wanted
    assert wanted(headers(b'From: "Amazon.co.jp" <info@mailer-77.example>\nSubject: Amazon.co.jp\n\n'))
    assert not wanted(headers(b'From: "Amazon.co.jp" <auto-confirm@amazon.co.jp>\nSubject: Amazon.co.jp\n\n'))
    assert wanted(headers(b'From: "Amazon.co.jp" <auto-confirm@amazon.co.jp>\nSubject: Your AWS invoice\n\n'))


def test_amazon_in_a_friends_subject_is_not_about_aws_but_aws_is():
    wanted = load_narrowing(paths.rules_dir()).wanted
    friend = (b"From: =?utf-8?b?6Yi05pyoIOiKseWtkA==?= <hanako@example.jp>\n"
              b"Subject: =?utf-8?b?QW1hem9u44Gn6LK344Gj44Gf5pys?=\n\n")
    assert headers(friend).subject == "Amazonで買った本"
    assert not wanted(headers(friend))
    assert wanted(headers(b"From: Hanako <hanako@example.jp>\nSubject: Fwd: AWS bill for February\n\n"))
    assert wanted(headers(b"From: Amazon Support <notice@amazon.com.account-review.example>\nSubject: Sign-in\n\n"))


def test_every_corpus_mail_about_aws_that_names_it_in_its_headers_is_a_candidate():
    # With Return-Path, List-Id and DKIM-Signature read too: the list-mail rule drops none of them (scanners'
    # alerts from GitHub and GitGuardian, threats from signed look-alikes, forwards included).
    wanted = load_narrowing(paths.rules_dir(), ("owner@example.jp",)).wanted
    labels = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))
    kept = 0
    for name, label in labels.items():
        if not name.endswith(".eml") or label["kind"] == "other":
            continue
        block = (CORPUS / name).read_bytes().replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        h = _headers({f"BODY[HEADER.FIELDS ({HEADER_FIELDS})]".encode(): block})
        if re.search(r"(?<![^\W\d_])(aws|amazon|アマゾン)", f"{h.sender} {h.subject}", re.I):
            assert wanted(h), name
            kept += 1
    assert kept >= 150
