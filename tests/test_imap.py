"""The IMAP source against a real Dovecot: read-only, narrowed, incremental, and loud when it cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import mails
from tests.dovecot import ImapUser, free_port
from tests.imap_proxy import counting_proxy
from tests.scanning import run
from triage import paths
from triage.config import ImapSettings
from triage.errors import ConfigError, ImapConnectError, ImapLoginError, SourceError
from triage.relevance import load_narrowing
from triage.sources.imap import ImapSource
from triage.state import open_state

PASSWORD_ENV = "TRIAGE_TEST_IMAP_PASSWORD"
CORPUS = Path(__file__).parent / "corpus"


def source(user: ImapUser, *, tls: str = "none", port: int | None = None, folders: tuple[str, ...] | None = None,
           password: str | None = None) -> ImapSource:
    settings = ImapSettings(host="127.0.0.1", port=port or user.server.port, user=user.name, password_env=PASSWORD_ENV,
                            tls=tls, folders=folders)
    return ImapSource(settings, narrowing=load_narrowing(paths.rules_dir()), max_bytes=1_000_000,
                      env={PASSWORD_ENV: password or user.password})


def append(user: ImapUser, messages: list[bytes], folder: str = "INBOX") -> None:
    with user.client() as c:
        for m in messages:
            c.append(folder, m)


def test_scan_finds_the_aws_mail_among_others(imap_user):
    append(imap_user, mails.unrelated()[:1] + mails.aws_related() + mails.unrelated()[1:])
    with open_state(":memory:") as state:
        got, totals = run(source(imap_user), state)
    assert got.message_ids == sorted(["<case-17100200301-1@support.amazon.com>", "<budget-1@budgets.amazonaws.com>",
                                      "<mkt-1@amazon.com>", "<case-17100200301-2@support.amazon.com>"])
    # "laws@lawsuits.example" matches a naive SEARCH FROM "aws"; the Python re-check drops it before its body.
    assert totals.read == 4


def test_scan_changes_no_flags_and_moves_nothing(imap_user):
    append(imap_user, mails.aws_related())
    with imap_user.client() as c:
        c.select_folder("INBOX")
        before = c.get_flags(c.search(["ALL"]))
    with open_state(":memory:") as state:
        run(source(imap_user), state)
    with imap_user.client() as c:
        c.select_folder("INBOX", readonly=True)
        after = c.get_flags(c.search(["ALL"]))
        unseen = c.search(["UNSEEN"])
    def stored(flags: dict[int, tuple[bytes, ...]]) -> dict[int, set[bytes]]:
        return {uid: set(f) - {b"\\Recent"} for uid, f in flags.items()}  # \Recent belongs to a session

    assert stored(after) == stored(before)
    assert len(unseen) == len(mails.aws_related()), "every mail must still be unread"


def test_second_scan_fetches_nothing_new_then_only_the_new_mail(imap_user, tmp_path):
    append(imap_user, mails.aws_related())
    state_file = tmp_path / "state.sqlite3"
    with open_state(state_file) as state:
        _first, totals = run(source(imap_user), state)
    assert totals.read == 4
    with open_state(state_file) as state:
        again, totals = run(source(imap_user), state)
    assert (totals.read, again.messages) == (0, [])
    append(imap_user, [mails.compromise_notice(3)])
    with open_state(state_file) as state:
        third, totals = run(source(imap_user), state)
    assert totals.read == 1
    assert third.message_ids == ["<case-17100200301-3@support.amazon.com>"]


def test_all_rereads_mail_already_seen(imap_user, tmp_path):
    append(imap_user, mails.aws_related())
    state_file = tmp_path / "state.sqlite3"
    with open_state(state_file) as state:
        run(source(imap_user), state)
    with open_state(state_file) as state:
        from triage.pipeline import ScanOptions

        again, totals = run(source(imap_user), state, options=ScanOptions(offline=True, all_mail=True))
    assert totals.read == 4 and len(again.messages) == 4


def test_changed_uidvalidity_rescans_without_duplicates(imap_user, tmp_path):
    with imap_user.client() as c:
        c.create_folder("Aws")
    append(imap_user, mails.aws_related(), folder="Aws")
    state_file = tmp_path / "state.sqlite3"
    with open_state(state_file) as state:
        first, _ = run(source(imap_user, folders=("Aws",)), state)
        old = state.mailbox(f"imap://{imap_user.name}@127.0.0.1:{imap_user.server.port}/Aws")
    assert len(first.messages) == 4

    # The folder is rebuilt (as a server migration would): same mails, new UIDVALIDITY, and one new mail.
    with imap_user.client() as c:
        c.delete_folder("Aws")
        c.create_folder("Aws")
    append(imap_user, [*mails.aws_related(), mails.compromise_notice(3)], folder="Aws")

    with open_state(state_file) as state:
        second, _ = run(source(imap_user, folders=("Aws",)), state)
        new = state.mailbox(f"imap://{imap_user.name}@127.0.0.1:{imap_user.server.port}/Aws")
    assert old is not None and new is not None and new.uidvalidity != old.uidvalidity
    assert second.message_ids == ["<case-17100200301-3@support.amazon.com>"], "no mail may be reported twice"
    assert new.last_uid == 5


def test_junk_folder_is_read_by_default(imap_user):
    append(imap_user, [mails.compromise_notice(1)], folder="Junk")
    with open_state(":memory:") as state:
        got, _ = run(source(imap_user), state)
    assert got.message_ids == ["<case-17100200301-1@support.amazon.com>"]
    assert got.messages[0]["kind"] == "compromised-account"


def test_malformed_mail_is_skipped_and_the_scan_goes_on(imap_user, caplog):
    append(imap_user, [mails.compromise_notice(1)])
    junk = bytes(b for b in range(1, 32) if b not in (9, 10, 13, 27)) * 20
    with imap_user.client() as c:  # binary junk whose sender mentions AWS, so it passes the SEARCH and is fetched
        c.append("INBOX", b"From: aws@amazon.com\r\nSubject: aws\r\n\r\n" + junk)
        c.append("INBOX", b"\x00\x01\x02 not a mail at all, from amazon")
    append(imap_user, [mails.budget_alert()])
    with open_state(":memory:") as state:
        got, totals = run(source(imap_user), state)
    assert "<case-17100200301-1@support.amazon.com>" in got.message_ids
    assert "<budget-1@budgets.amazonaws.com>" in got.message_ids
    assert totals.skipped == 1  # the junk with an AWS-looking sender; the other never matched the SEARCH
    assert [where for where, _ in got.skips] == ["imap:INBOX #2"]
    assert "skipped imap:INBOX #2" in caplog.text


def test_tls_with_a_trusted_certificate(imap_user, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_user.server.ca_file))
    append(imap_user, [mails.budget_alert()])
    with open_state(":memory:") as state:
        got, _ = run(source(imap_user, tls="ssl", port=imap_user.server.tls_port), state)
    assert got.message_ids == ["<budget-1@budgets.amazonaws.com>"]


def test_starttls(imap_user, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_user.server.ca_file))
    append(imap_user, [mails.budget_alert()])
    with open_state(":memory:") as state:
        got, _ = run(source(imap_user, tls="starttls"), state)
    assert got.message_ids == ["<budget-1@budgets.amazonaws.com>"]


def test_untrusted_certificate_is_a_tls_error(imap_user, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(ImapConnectError, match=r"TLS .* failed"), open_state(":memory:") as state:
        list(source(imap_user, tls="ssl", port=imap_user.server.tls_port).batches(state, rescan=False))


def test_tls_to_a_plain_port_is_a_tls_error(imap_user):
    with pytest.raises(ImapConnectError, match="TLS"), open_state(":memory:") as state:
        list(source(imap_user, tls="ssl").batches(state, rescan=False))


def test_wrong_password_is_a_login_error(imap_user):
    with pytest.raises(ImapLoginError, match=f"refused the login for {imap_user.name}"), \
            open_state(":memory:") as state:
        list(source(imap_user, password="wrong").batches(state, rescan=False))


def test_unreachable_server(imap_user):
    with pytest.raises(ImapConnectError, match="cannot reach"), open_state(":memory:") as state:
        list(source(imap_user, port=free_port()).batches(state, rescan=False))


def test_missing_password_variable(imap_user):
    src = source(imap_user)
    src.env = {}
    with pytest.raises(ConfigError, match=PASSWORD_ENV), open_state(":memory:") as state:
        list(src.batches(state, rescan=False))


def test_missing_folder_is_a_clear_error(imap_user):
    with pytest.raises(SourceError, match="'Nope'"), open_state(":memory:") as state:
        list(source(imap_user, folders=("Nope",)).batches(state, rescan=False))


def shop_mail() -> list[bytes]:
    """Amazon's shops: order, shipping, Prime and Kindle mail that says "Amazon" and nothing about AWS."""
    return [
        mails.build('"Amazon.co.jp" <auto-confirm@amazon.co.jp>', "Amazon.co.jp ご注文の確認「USB-C ケーブル」",
                    "ご注文ありがとうございます。\n", message_id="<shop-1@amazon.co.jp>"),
        mails.build('"Amazonプライム" <prime@amazon.co.jp>', "Amazonプライム会員特典のご案内",
                    "プライム会員特典のお知らせです。\n", message_id="<shop-2@amazon.co.jp>"),
        mails.build('"Amazon.co.jp" <digital-no-reply@marketing.amazon.co.jp>', "Kindle本のご注文",
                    "Kindle本をお届けしました。\n", message_id="<shop-3@amazon.co.jp>"),
        mails.build('"Amazon.com" <shipment-tracking@amazon.com>', 'Your Amazon.com order of "Echo Dot" has shipped!',
                    "Your package is on its way.\n", message_id="<shop-4@amazon.com>"),
    ]


def test_shop_mail_from_amazon_is_never_fetched(dovecot, imap_user):
    # A shop look-alike from another domain is still read (it may be phishing), and so is AWS mail sent from
    # amazon.com; only the shops' own mail is left on the server after the header check.
    lookalike = mails.build('"Amazon.co.jp" <info@mailer-77.example>', "Amazon.co.jp お支払い方法を更新してください",
                            "支払い方法を確認してください。\n", message_id="<fake-shop@mailer-77.example>", auth=None)
    append(imap_user, shop_mail() + mails.aws_related() + [lookalike])
    aws_uids = list(range(len(shop_mail()) + 1, len(shop_mail()) + len(mails.aws_related()) + 2))
    with counting_proxy(dovecot) as proxy, open_state(":memory:") as state:
        got, totals = run(source(imap_user, port=proxy.port), state)
    assert sorted(proxy.body_fetches()) == aws_uids
    assert not [m for m in got.message_ids if m.startswith("<shop-")]
    assert totals.read == len(mails.aws_related()) + 1


def list_mail(sender: str, subject: str, body: str, n: int, *, signer: str | None = None,
              return_path: str | None = None) -> bytes:
    """Another organisation's list mail as it arrives: Return-Path, DKIM-Signature and List-Id above it."""
    domain = sender.rpartition("@")[2].strip(">")
    head = (f"Return-Path: <{return_path or 'bounce-' + str(n) + '@' + domain}>\n"
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n\td={signer or domain}; s=s1;\n"
            f"\th=From:To:Subject; bh=AAAA; b=BBBB\n"
            f"List-Id: <news.{domain}>\nList-Unsubscribe: <https://{domain}/unsubscribe/{n}>\n")
    return head.encode() + mails.build(sender, subject, body, message_id=f"<list-{n}@{domain}>")


def test_other_organisations_list_mail_that_names_aws_is_never_fetched(dovecot, imap_user):
    # Clouds, SaaS and CI that write "AWS" in the subject of their own signed list mail: left on the server
    # after the header check. What may still be about AWS is fetched: a forward from the owner's allowed
    # address, a scanner's alert, a threat, a list mail whose bounces go elsewhere.
    body = "Connect your AWS account and see every EC2 instance. Export your logs to Amazon S3.\n"
    dropped = [
        list_mail("Datadog <alert@datadoghq.com>", "[Monitor] High latency on api (AWS integration)", body, 1),
        list_mail("GitHub <notifications@github.com>", "[kumo/app] Deploy to AWS failed on main", body, 2),
        list_mail("Google Cloud <CloudPlatform-noreply@google.com>", "Move from AWS to Google Cloud", body, 3),
        list_mail("Microsoft Azure <azure-noreply@microsoft.com>", "Azure vs AWS: the 2026 comparison", body, 4),
        list_mail("Cloudflare <noreply@notify.cloudflare.com>", "R2: no egress fees, unlike AWS S3", body, 5,
                  signer="cloudflare.com"),
        list_mail("Slack <feedback@slack.com>", "New in Slack: AWS Chatbot alerts in channels", body, 6),
    ]
    notice = (CORPUS / "billing-budgets-exceeded.eml").read_bytes()
    kept = [
        list_mail("Taro <owner@example.jp>", "Fwd: AWS Chatbot alerts in channels", "---------- Forwarded message "
                  "----------\n" + notice.decode("utf-8", "replace"), 7),
        list_mail("GitHub <noreply@github.com>", "[kumo/app] Secret scanning alert: Amazon AWS Access Key ID", body, 8),
        list_mail("Cloud News <editor@cloud-news.example>", "Your AWS account will be suspended: verify now", body, 9),
        list_mail("GitHub <notifications@github.com>", "[kumo/app] Deploy to AWS failed on main", body, 10,
                  return_path="bounce@mailer.example"),
    ]
    append(imap_user, dropped + kept)
    with counting_proxy(dovecot) as proxy, open_state(":memory:") as state:
        src = source(imap_user, port=proxy.port)
        src.narrowing = load_narrowing(paths.rules_dir(), ("owner@example.jp",))  # the owner forwards
        run(src, state)
    assert sorted(proxy.body_fetches()) == list(range(len(dropped) + 1, len(dropped) + len(kept) + 1))
