"""Hostile and broken mail: no mail stops a scan, an unreadable AWS mail still raises an alarm, and nothing
from a mail is live in what the owner receives (checked on the mails a real SMTP server got).

The regression mails live in tests/hostile/, one per failure class, named for it.
"""

from __future__ import annotations

import io
import json
import re
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import mails
from tests import smtp as smtp_server
from tests.scanning import run
from tests.test_delivery import config_for, scan_folder
from tests.test_imap import append, source
from triage.cli import Environment, main
from triage.config import Config, NotifySettings, SmtpSettings
from triage.mail import Origin, RawMail
from triage.notify import smtp_sender
from triage.parse import MalformedMail, parse_mail
from triage.pipeline import ScanOptions, Services
from triage.sources.files import open_path
from triage.state import open_state

HOSTILE = Path(__file__).parent / "hostile"
ALL_HOSTILE = sorted(HOSTILE.glob("*.eml"))
FOREIGN_HOSTS = ("aws-login.example.net", "evil.example", "moc.nozama")
HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def cli(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Environment(stdout=out, stderr=err, environ=environ or {}))
    return code, out.getvalue(), err.getvalue()


def hostile(name: str) -> bytes:
    return (HOSTILE / f"{name}.eml").read_bytes()


# --- the six causes that crashed a scan, and the mails that were skipped silently ---

@pytest.mark.parametrize("path", ALL_HOSTILE, ids=[p.stem for p in ALL_HOSTILE])
def test_every_regression_mail_is_read_or_refused_cleanly(path):
    try:
        mail = parse_mail(RawMail(path.read_bytes(), Origin("eml", str(path))))
    except MalformedMail:
        assert path.stem == "binary-junk-body"
        return
    assert mail.sender.address or mail.subject


@pytest.mark.parametrize("codec", ["bz2", "hex", "zlib", "uu", "base64", "rot13", "idna", "punycode", "undefined",
                                   "unicode_escape"])
def test_a_charset_that_is_not_a_text_codec_is_a_defect_not_a_crash(codec):
    prefix = "charset" if codec not in ("idna", "punycode", "undefined", "unicode_escape") else "codec"
    body = parse_mail(RawMail(hostile(f"{prefix}-{codec}-body"), Origin("eml", codec)))
    assert any("charset" in d for d in body.defects)
    word = parse_mail(RawMail(hostile(f"{prefix}-{codec}-encoded-word"), Origin("eml", codec)))
    assert "AWS" in word.subject


def test_a_broken_encoded_word_decodes_as_far_as_it_goes():
    mail = parse_mail(RawMail(hostile("header-parse-error-encoded-word"), Origin("eml", "x")))
    assert mail.subject.endswith("[ACTION REQUIRED] Your AWS account")
    qp = parse_mail(RawMail(hostile("broken-qp-encoded-word"), Origin("eml", "x")))
    assert qp.subject.startswith("AWS") and qp.subject.endswith("notice")


def test_a_mail_that_mail_parser_cannot_read_is_read_with_the_email_package():
    with open_state(":memory:") as state:
        got, totals = run(open_path(HOSTILE / "mail-parser-raises-on-from.eml"), state)
    assert totals.skipped == 0 and [m["kind"] for m in got.messages] == ["compromised-account"]
    mail = parse_mail(RawMail(hostile("mail-parser-raises-on-from"), Origin("eml", "x")))
    assert any("read with the email package" in d for d in mail.defects)


def test_a_date_in_the_year_9999_is_shown_as_unknown():
    with open_state(":memory:") as state:
        got, totals = run(open_path(HOSTILE / "date-year-9999.eml"), state)
    assert totals.skipped == 0
    assert "日時不明" in got.cases[0].summary.text


def test_a_from_of_3000_nested_comments_keeps_its_address():
    mail = parse_mail(RawMail(hostile("from-3000-nested-comments"), Origin("eml", "x")))
    assert mail.sender.address == "no-reply-aws@amazon.com"


def test_a_compromise_notice_with_a_nul_byte_in_its_headers_is_still_read():
    with open_state(":memory:") as state:
        got, _ = run(open_path(HOSTILE / "nul-byte-in-header-compromise.eml"), state)
    assert [m["kind"] for m in got.messages] == ["compromised-account"]


# --- acceptance: a folder of hostile mail and two genuine notices ---

def test_hostile_folder_with_two_genuine_notices_exits_0_and_reports_both(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for path in ALL_HOSTILE:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "zz-genuine-1.eml").write_bytes(mails.compromise_notice(1, case="17100200301"))
    (folder / "zz-genuine-2.eml").write_bytes(mails.compromise_notice(1, case="17100200302"))
    code, out, err = cli("scan", "--source", str(folder), "--offline", "--all", "--json", "--state", ":memory:")
    assert code == 0, err
    lines = [json.loads(line) for line in out.split("\n") if line]  # JSON lines end at \n only
    genuine = {r["message_id"]: r["kind"] for r in lines
               if r["type"] == "message" and "case-1710020030" in r["message_id"]}
    assert genuine == {"<case-17100200301-1@support.amazon.com>": "compromised-account",
                       "<case-17100200302-1@support.amazon.com>": "compromised-account"}
    skipped = [r for r in lines if r["type"] == "skipped"]
    assert [Path(str(r["where"])).name for r in skipped] == ["binary-junk-body.eml"]
    assert skipped[0]["alarm"] == "printed"
    alarm = next(r for r in lines if r["type"] == "summary" and str(r["case_id"]).startswith("unreadable-"))
    assert "AWS から重要そうなメールが届きましたが、内容を読み取れませんでした" in str(alarm["text"])
    assert "[ACTION REQUIRED] Your AWS account may be compromised" in str(alarm["text"])


def test_a_failed_mail_is_recorded_and_retried_only_with_all(tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [hostile("binary-junk-body"), mails.compromise_notice(1)])
    state_path = tmp_path / "state.db"
    with open_state(state_path) as state:
        got, totals = run(open_path(folder), state)
        assert totals.skipped == 1 and len(got.alarms) == 1
        again, totals = run(open_path(folder), state)
        assert totals.skipped == 0 and again.alarms == [] and totals.already_seen == 2
        retried, totals = run(open_path(folder), state, options=ScanOptions(offline=True, all_mail=True))
        assert totals.skipped == 1 and len(retried.alarms) == 1


def test_imap_checkpoint_moves_past_an_unreadable_mail(imap_user):
    append(imap_user, [hostile("binary-junk-body"), mails.compromise_notice(1)])
    with open_state(":memory:") as state:
        got, totals = run(source(imap_user), state)
        assert totals.skipped == 1 and [m["kind"] for m in got.messages] == ["compromised-account"]
        assert len(got.alarms) == 1 and "imap:INBOX #1" in got.alarms[0].where
        append(imap_user, [mails.compromise_notice(2)])
        later, totals = run(source(imap_user), state)
    assert totals.skipped == 0 and later.alarms == []
    assert later.message_ids == ["<case-17100200301-2@support.amazon.com>"]


def test_an_unreadable_aws_mail_sends_its_alarm_once(smtp, tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [hostile("binary-junk-body")])
    config = config_for(smtp)
    with open_state(tmp_path / "s.db") as state:
        _, totals = scan_folder(folder, state, config)
        assert totals.sent == 1
        scan_folder(folder, state, config)
    assert len(smtp.inbox.messages) == 1
    text = smtp.inbox.messages[0].get_body(("plain",)).get_content()
    assert "内容を読み取れませんでした" in text and "https://console.aws.amazon.com/support/home" in text


def test_unreadable_mail_not_about_aws_raises_no_alarm(tmp_path):
    junk = hostile("binary-junk-body").replace(b"no-reply-aws@amazon.com", b"shop@example.org")
    junk = junk.replace(b"Amazon Web Services", b"Shop").replace(b"Your AWS account", b"Your order")
    with open_state(":memory:") as state:
        got, totals = run(open_path(mails.write_eml_folder(tmp_path / "in", [junk])), state)
    assert totals.skipped == 1 and got.alarms == []


# --- nothing from a mail is live in a sent summary ---

def _sent(smtp, tmp_path, names: list[str]) -> list[EmailMessage]:
    folder = mails.write_eml_folder(tmp_path / "in", [hostile(n) for n in names])
    with open_state(":memory:") as state:
        scan_folder(folder, state, config_for(smtp, min_severity="info"))
    assert smtp.inbox.messages
    return smtp.inbox.messages


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs.extend(v or "" for k, v in attrs if k == "href")


def _tags(html: str) -> tuple[set[str], list[str]]:
    """The elements of the HTML part and the targets of its real links (not text that looks like one)."""
    parser = _Tags()
    parser.feed(html)
    return parser.tags, parser.hrefs


INJECTIONS = ["phishing-url-in-subject", "bidi-in-sender-name", "crlf-in-encoded-subject", "url-glued-to-a-word",
              "host-in-a-url-query", "url-inside-a-url", "host-after-an-underscore", "scheme-after-a-dotted-word",
              "scheme-with-backslashes"]
# The only links a summary may hold, in text or HTML: AWS's consoles, which triage builds.
OWN_LINK = re.compile(r"https://([a-z0-9-]+\.)?(console|health)\.aws\.amazon\.com/")
CLICKABLE = re.compile(r"(?i)(https?|ftps?|wss?):[/\\]{2}")  # a scheme a client or browser follows (:\\ too)


def test_sent_summaries_hold_no_foreign_link_no_live_html_no_hidden_char_no_header(smtp, tmp_path):
    for message in _sent(smtp, tmp_path, INJECTIONS):
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for host in FOREIGN_HOSTS:
            assert host not in text and host not in html
        tags, hrefs = _tags(html)
        # Only the tags triage writes: the HTML template's own and those text_to_html makes (no <script>,
        # <img>, <iframe> or <form> from a mail).
        template = (HOSTILE.parent.parent / "templates" / "summary.html.j2").read_text(encoding="utf-8")
        ours = set(re.findall(r"<([a-z][a-z0-9]*)", template))
        assert tags <= ours | {"p", "h2", "ol", "ul", "li", "a", "br"}, tags - ours
        assert hrefs and all(OWN_LINK.match(h) for h in hrefs), hrefs
        for part in (text, html):  # no other scheme a client makes clickable, wherever it stands
            assert all(OWN_LINK.match(part, m.start()) for m in CLICKABLE.finditer(part))
        assert not HIDDEN.search(text) and not HIDDEN.search(html) and not HIDDEN.search(str(message["Subject"]))
        assert message["Bcc"] is None and "victim@example.net" not in str(message.keys())


def test_a_phishing_url_from_the_subject_is_shown_defanged(smtp, tmp_path):
    text = _sent(smtp, tmp_path, ["phishing-url-in-subject"])[0].get_body(("plain",)).get_content()
    assert "hxxps://console[.]aws[.]amazon[.]com[.]aws-login[.]example[.]net/" in text


def test_bidi_characters_are_visible_and_the_address_is_not_verified(smtp, tmp_path):
    text = _sent(smtp, tmp_path, ["bidi-in-sender-name"])[0].get_body(("plain",)).get_content()
    assert "⟨U+202E⟩" in text and "⟨U+200B⟩" in text
    assert "確認済みとは扱いません" in text and "から届いたことを確認しました" not in text


def test_crlf_in_a_subject_stays_on_its_line(smtp, tmp_path):
    text = _sent(smtp, tmp_path, ["crlf-in-encoded-subject"])[0].get_body(("plain",)).get_content()
    line = next(x for x in text.splitlines() if "AWS account alert" in x)
    assert "Bcc: victim@example[.]net" in line  # shown as words on the subject's own line, never a header


# --- refused logins fail fast and keep their exit code ---

def test_a_refused_smtp_login_stops_delivery_after_one_try(tmp_path):
    servers = smtp_server.start(refuse_logins=True)
    server = next(servers)
    try:
        smtp = SmtpSettings(host=server.host, port=server.port, tls="none", sender="t@example.jp", user="triage",
                            password_env="PW")
        config = Config(smtp=smtp, notify=NotifySettings(to=("owner@example.jp",)))
        services = Services(send=smtp_sender(smtp, config.notify.to, {"PW": "wrong"}))
        folder = mails.write_eml_folder(tmp_path / "in", [mails.compromise_notice(1, case="17100200301"),
                                                          mails.compromise_notice(1, case="17100200302"),
                                                          mails.budget_alert()])
        with open_state(tmp_path / "s.db") as state:
            _, totals = run(open_path(folder), state, config=config, services=services,
                            options=ScanOptions(no_aws=True, no_translate=True))
            assert "refused the login" in totals.delivery_stopped
            assert totals.errors == [totals.delivery_stopped]  # one line, not one per case
            assert totals.sent == 0 and server.inbox.messages == []
            assert not state.is_seen("<case-17100200301-1@support.amazon.com>")  # retried on the next scan
    finally:
        servers.close()


def test_debug_keeps_the_exit_code_of_a_refused_imap_login(imap_user, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[imap]\nhost = "127.0.0.1"\nport = {imap_user.server.port}\nuser = "{imap_user.name}"\n'
                    f'password_env = "PW"\ntls = "none"\n')
    path.chmod(0o600)
    code, _, err = cli("--debug", "scan", "--config", str(path), "--state", ":memory:", environ={"PW": "wrong"})
    assert code == 2
    assert "Traceback" in err and err.rstrip().splitlines()[-1].startswith("triage: ")


def test_a_case_whose_rendering_fails_is_skipped_with_an_alarm_and_the_others_go_on(tmp_path):
    import shutil

    from tests.scanning import Collected
    from triage import paths
    from triage.pipeline import load_context, scan

    templates = tmp_path / "templates"
    shutil.copytree(paths.templates_dir(), templates)
    money = templates / "_money.txt.j2"  # included by every summary: a user's edit that breaks it
    money.write_text("{% if case.kind == 'billing-alert' %}{{ no_such_value }}{% endif %}\n" + money.read_text())
    folder = mails.write_eml_folder(tmp_path / "in", [mails.budget_alert(), mails.compromise_notice(1)])
    ctx = load_context(Config(), paths.rules_dir(), templates, ScanOptions(offline=True), Services())
    got = Collected()
    with open_state(tmp_path / "s.db") as state:
        totals = scan(ctx, open_path(folder), state, got)
        assert [c.case.kind for c in got.cases] == ["compromised-account"]
        assert totals.skipped == 1 and len(got.alarms) == 1
        assert "no_such_value" in got.alarms[0].reason
        assert state.is_seen("<budget-1@budgets.amazonaws.com>")  # handled with an error: not met again
