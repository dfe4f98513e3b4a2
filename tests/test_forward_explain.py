"""`triage explain` on a forward: that it was unwrapped, how, by whom, and the original's verdict; or why
a forward was not unwrapped."""

from __future__ import annotations

from pathlib import Path

from tests import forwarding as fw
from tests.test_explain import CORPUS, run


def explain(tmp_path: Path, data: bytes, forwarders: str = '["me@example.jp"]') -> str:
    mail = tmp_path / "forward.eml"
    mail.write_bytes(data)
    config = tmp_path / "config.toml"
    config.write_text(f'[notify]\nto = ["owner@example.jp"]\nforwarders = {forwarders}\n', encoding="utf-8")
    status, out, err = run(str(mail), "--offline", "--config", str(config), tmp_path=tmp_path)
    assert status == 0, err
    return out


def test_an_inline_forward_shows_the_client_block_and_the_originals_verdict(tmp_path):
    out = explain(tmp_path, fw.inline((CORPUS / "compromise-irregular-activity.eml").read_bytes(), "outlook-ja"))
    assert "forwarded by:  Taro Yamada <me@example[.]jp> (authenticated), unwrapped: inline (outlook-ja block); " \
           "the original cannot be verified" in out
    assert "from:          Amazon Web Services <no-reply-aws@amazon[.]com>" in out
    assert "authenticity:  none" in out
    assert "forwarded inline (outlook-ja block) by me@example[.]jp" in out
    assert "kind:          compromised-account (critical)" in out


def test_attached_originals_are_each_explained_with_their_own_authentication(tmp_path):
    out = explain(tmp_path, fw.attached((CORPUS / "compromise-irregular-activity.eml").read_bytes(),
                                        (CORPUS / "phish-punycode-homoglyph-domain.eml").read_bytes()))
    first, second = out.split("\n\n")
    assert "unwrapped: attached (message/rfc822)" in first
    assert "authenticity:  pass" in first and "mx[.]google[.]com says dmarc=pass for amazon[.]com" in first
    assert "kind:          compromised-account (critical)" in first
    assert "unwrapped: attached (message/rfc822)" in second
    assert "kind:          phishing (high)" in second


def test_a_forward_that_does_not_count_says_why(tmp_path):
    notice = (CORPUS / "compromise-irregular-activity.eml").read_bytes()
    out = explain(tmp_path, fw.inline(notice, "gmail", sender="someone@stranger.example"))
    assert "forward:       not unwrapped: forward from someone@stranger[.]example ignored: not an allowed " \
           "forwarder ([notify] forwarders)" in out
    assert "from:          Taro Yamada <someone@stranger[.]example>" in out
    out = explain(tmp_path, fw.inline(notice, "gmail", auth=fw.FORGED))
    assert "does not authenticate for example[.]jp (verdict fail)" in out
