"""Forwarding to the watched mailbox, end to end on a real Dovecot and a real SMTP server: the corpus
notices forwarded as attachments and inline (each client's block, text and HTML) get the original's kind, and
the answer reaches the forwarder as a reply; strangers and forgeries get nothing."""

from __future__ import annotations

import time
import tomllib
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests import forwarding as fw
from tests import mails
from tests.scanning import Collected, run
from tests.test_daemon import running, wait_until  # noqa: F401 - `running`: the daemon fixture
from tests.test_imap import PASSWORD_ENV, append
from triage import paths
from triage.config import AwsSettings, Config, ImapSettings, NotifySettings, SmtpSettings
from triage.notify import smtp_sender
from triage.pipeline import ScanOptions, ScanTotals, Services
from triage.relevance import load_narrowing
from triage.sources.imap import ImapSource
from triage.state import State, open_state

CORPUS = Path(__file__).parent / "corpus"
LABELS = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))
SETTINGS = LABELS.pop("settings")
SENDING = ScanOptions(no_aws=True, no_translate=True)
OWNER = "owner@example.jp"
FORWARDERS = (fw.FORWARDER, "@family.example.jp")


def _one_per_kind() -> list[str]:
    """A genuine notice of every kind AWS sends (the first in the corpus of each)."""
    chosen: dict[str, str] = {}
    for name, label in sorted(LABELS.items()):
        if label["authenticity"] == "pass" and label["kind"] not in ("phishing", "other") \
                and not name.startswith("holdout"):
            chosen.setdefault(label["kind"], name)
    return sorted(chosen.values())


NOTICES = _one_per_kind()
STYLES = ("attachment", "eml", *fw.INLINE_CLIENTS, *(f"{c}-html" for c in fw.INLINE_CLIENTS))


def forward(original: bytes, style: str, **kw: object) -> bytes:
    if style == "attachment":
        return fw.attached(original, **kw)  # type: ignore[arg-type]
    if style == "eml":
        return fw.attached(original, eml_files=True, **kw)  # type: ignore[arg-type]
    return fw.inline(original, style.removesuffix("-html"), as_html=style.endswith("-html"), **kw)  # type: ignore[arg-type]


def config_for(imap_user, smtp, forwarders: tuple[str, ...] | None = FORWARDERS) -> Config:
    return Config(
        imap=ImapSettings(host="127.0.0.1", port=imap_user.server.port, user=imap_user.name,
                          password_env=PASSWORD_ENV, tls="none"),
        smtp=SmtpSettings(host=smtp.host, port=smtp.port, tls="none", sender="triage@example.jp"),
        notify=NotifySettings(to=(OWNER,), forwarders=forwarders),
        aws=AwsSettings(account_ids=tuple(SETTINGS["account_ids"])),
    )


def scan(imap_user, config: Config, state: State) -> tuple[Collected, ScanTotals]:
    assert config.imap is not None and config.smtp is not None
    source = ImapSource(config.imap, narrowing=load_narrowing(paths.rules_dir(), config.notify.allowed_forwarders),
                        max_bytes=config.mail.max_bytes, env={PASSWORD_ENV: imap_user.password})
    return run(source, state, config=config, options=SENDING,
               services=Services(send=smtp_sender(config.smtp, config.notify.to, {})))


def replies_to(inbox: list[EmailMessage], message_id: str) -> list[EmailMessage]:
    return [m for m in inbox if m["In-Reply-To"] == message_id]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


@pytest.mark.parametrize("style", STYLES)
def test_forwarded_notices_get_the_originals_kind_and_a_reply(style, imap_user, smtp):
    forwards = {f"<fwd-{i}-{style}@mail.example.jp>": name for i, name in enumerate(NOTICES)}
    append(imap_user, [forward((CORPUS / name).read_bytes(), style, message_id=mid) for mid, name in forwards.items()])
    with open_state(":memory:") as state:
        got, totals = scan(imap_user, config_for(imap_user, smtp), state)
    assert sorted(str(m["kind"]) for m in got.messages) == sorted(LABELS[n]["kind"] for n in NOTICES)
    assert totals.errors == []
    for mid, name in forwards.items():
        replies = replies_to(smtp.inbox.messages, mid)
        assert len(replies) == 1, f"{name}: one reply to the forward {mid}"
        reply = replies[0]
        assert reply["References"] == mid
        assert fw.FORWARDER in reply["To"]
        assert reply["Subject"].startswith("Re: 【")
        assert reply["X-Triage-Severity"] == LABELS[name]["severity"], name
        text = text_of(reply)
        assert f"{fw.FORWARDER} から転送されたメールです。" in text
        if style in ("attachment", "eml"):
            assert "から届いたことを確認しました" in text, f"{name}: the attached original is verified as usual"
        else:
            assert "本当にこの差出人から届いたのかは確認できません。" in text, name
            assert "から届いたことを確認しました" not in text, f"{name}: an inline forward is never verified"


def test_the_owner_gets_the_answer_too_in_the_same_message(imap_user, smtp):
    notice = (CORPUS / "compromise-irregular-activity.eml").read_bytes()
    append(imap_user, [fw.inline(notice, "gmail", sender="mother@family.example.jp")])
    with open_state(":memory:") as state:
        scan(imap_user, config_for(imap_user, smtp), state)
    assert len(smtp.inbox.messages) == 1
    reply = smtp.inbox.messages[0]
    assert reply["To"] == f"mother@family.example.jp, {OWNER}"
    assert reply["In-Reply-To"] == "<fwd-1@mail.example.jp>"
    assert reply["Subject"] == "Re: 【緊急】AWS アカウントが第三者に使われている可能性があります"
    assert "Fwd:" not in reply["Subject"], "nothing of the forward's own subject goes into our headers"


def test_a_forwarded_phish_gets_the_phishing_warning_back(imap_user, smtp):
    phishes = [n for n, label in sorted(LABELS.items()) if label["kind"] == "phishing"]
    visible = ["phish-digit-for-letter-domain.eml", "phish-punycode-homoglyph-domain.eml"]
    assert set(visible) <= set(phishes)
    mails = [fw.attached((CORPUS / n).read_bytes(), message_id=f"<att-{i}@mail.example.jp>")
             for i, n in enumerate(phishes)]
    mails += [fw.inline((CORPUS / n).read_bytes(), "outlook-ja", message_id=f"<inl-{i}@mail.example.jp>")
              for i, n in enumerate(visible)]
    append(imap_user, mails)
    with open_state(":memory:") as state:
        got, _ = scan(imap_user, config_for(imap_user, smtp), state)
    assert [m["kind"] for m in got.messages] == ["phishing"] * len(mails)
    texts = tomllib.loads((paths.templates_dir() / "texts.toml").read_text(encoding="utf-8"))["kind"]
    warnings = {f"Re: 【重要】{t['title']}" for key, t in texts.items() if key.startswith("phishing")}
    for mid in [*(f"<att-{i}@mail.example.jp>" for i in range(len(phishes))),
                *(f"<inl-{i}@mail.example.jp>" for i in range(len(visible)))]:
        (reply,) = replies_to(smtp.inbox.messages, mid)
        assert reply["Subject"] in warnings, mid
        assert text_of(reply).startswith(reply["Subject"].removeprefix("Re: ")), mid  # the warning itself


@pytest.mark.parametrize("style", ["attachment", "gmail"])
def test_forwards_from_a_stranger_get_nothing(style, imap_user, smtp):
    notice = (CORPUS / "compromise-irregular-activity.eml").read_bytes()
    append(imap_user, [forward(notice, style, sender="someone@stranger.example")])
    with open_state(":memory:") as state:
        got, _ = scan(imap_user, config_for(imap_user, smtp), state)
    assert smtp.inbox.messages == []
    assert got.messages == [], "the stranger's mail is left as the mail it is: not about AWS"


@pytest.mark.parametrize("style", ["attachment", "gmail"])
def test_a_forged_forward_is_not_answered_and_not_summarised(style, imap_user, smtp, caplog):
    """From an allowed address, but its authentication fails: no answer goes back, and the notice it carries
    is not summarised. The forged mail stays the mail it is: one that speaks as AWS and fails its
    authentication, so the owner is warned of it as of any other phish (never as a reply)."""
    notice = (CORPUS / "change-password-updated.eml").read_bytes()
    append(imap_user, [forward(notice, style, auth=fw.FORGED)])
    with open_state(":memory:") as state, caplog.at_level("INFO", logger="triage.forward"):
        got, _ = scan(imap_user, config_for(imap_user, smtp), state)
    assert "does not authenticate for example.jp" in caplog.text
    assert [(m["from"], m["kind"]) for m in got.messages] == [(fw.FORWARDER, "phishing")]
    (warning,) = smtp.inbox.messages
    assert warning["To"] == OWNER and warning["In-Reply-To"] is None
    assert not warning["Subject"].startswith("Re:")
    assert "（フィッシング）" in warning["Subject"]


def test_the_same_original_forwarded_twice_is_answered_once_per_forwarder(imap_user, smtp):
    notice = (CORPUS / "compromise-irregular-activity.eml").read_bytes()
    config = config_for(imap_user, smtp)
    with open_state(":memory:") as state:
        append(imap_user, [fw.attached(notice, message_id="<first@mail.example.jp>")])
        scan(imap_user, config, state)
        append(imap_user, [fw.attached(notice, message_id="<again@mail.example.jp>"),
                           fw.attached(notice, sender="mother@family.example.jp",
                                       message_id="<mother@family.example.jp>")])
        _, totals = scan(imap_user, config, state)
        append(imap_user, [notice])  # and the notice itself, directly
        _, last = scan(imap_user, config, state)
    got = [(m["To"], m["In-Reply-To"]) for m in smtp.inbox.messages]
    assert got == [(f"{fw.FORWARDER}, {OWNER}", "<first@mail.example.jp>"),
                   ("mother@family.example.jp", "<mother@family.example.jp>")]
    assert totals.cases == 1 and last.sent == 0


def test_imap_fetches_a_forward_whatever_its_subject(imap_user, smtp):
    """Nothing in "これ何？" from the owner's own address says AWS: the forwarders are a term of the narrowing."""
    phish = (CORPUS / "phish-digit-for-letter-domain.eml").read_bytes()
    append(imap_user, [fw.inline(phish, "apple-mail-ja", subject="これ何？", message_id="<what@mail.example.jp>"),
                       fw.inline(phish, "apple-mail-ja", subject="これ何？", sender="someone@stranger.example",
                                 message_id="<stranger@mail.example.jp>")])
    with open_state(":memory:") as state:
        got, totals = scan(imap_user, config_for(imap_user, smtp), state)
    assert totals.read == 1, "the stranger's mail is not even fetched"
    assert [m["kind"] for m in got.messages] == ["phishing"]
    assert [m["In-Reply-To"] for m in smtp.inbox.messages] == ["<what@mail.example.jp>"]


def test_forwarders_default_to_the_notify_addresses(imap_user, smtp):
    notice = (CORPUS / "billing-budgets-exceeded.eml").read_bytes()
    append(imap_user, [fw.inline(notice, "thunderbird-ja", sender=OWNER, message_id="<own@example.jp>"),
                       fw.inline(notice, "gmail", sender=fw.FORWARDER, message_id="<not-listed@example.jp>")])
    with open_state(":memory:") as state:
        scan(imap_user, config_for(imap_user, smtp, forwarders=None), state)
    assert [(m["To"], m["In-Reply-To"]) for m in smtp.inbox.messages] == [(OWNER, "<own@example.jp>")]


def test_the_daemon_answers_a_forward_while_it_idles(running, imap_user, smtp):  # noqa: F811 - the fixture
    """The full pass is two minutes away: only IDLE can bring the answer before the timeout."""
    config = config_for(imap_user, smtp)
    assert config.imap is not None
    append(imap_user, [fw.attached(mails.budget_alert(), message_id="<before@mail.example.jp>")])
    running(replace(config, imap=replace(config.imap, password_env="PW")))  # the variable the fixture sets
    assert wait_until(lambda: bool(replies_to(smtp.inbox.messages, "<before@mail.example.jp>")), seconds=30)
    time.sleep(1.5)  # the first pass is done; let IDLE begin
    with imap_user.client() as c:
        c.append("INBOX", fw.inline(mails.compromise_notice(1), "gmail", message_id="<while-idle@mail.example.jp>"))
    assert wait_until(lambda: bool(replies_to(smtp.inbox.messages, "<while-idle@mail.example.jp>")), seconds=30)
    reply = smtp.inbox.messages[-1]
    assert reply["To"] == f"{fw.FORWARDER}, {OWNER}"
    assert reply["Subject"].startswith("Re: 【緊急】")
