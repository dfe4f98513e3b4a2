"""OAuth2 logins end to end: Dovecot's oauth2 passdb and an OAuth2-only aiosmtpd, both asking a real token
introspection server about every token; the token command is a real program run for each login."""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import dovecot as dovecot_server
from tests import mails, smtp_oauth2, token_server
from tests.daemons import OFFLINE, DaemonThreads, wait_until
from tests.dovecot import Dovecot, ImapUser
from tests.scanning import run
from tests.smtp import SmtpServer
from tests.token_server import TokenServer
from triage import oauth2, paths
from triage.cli import Environment, main
from triage.config import Config, ImapSettings, NotifySettings, SmtpSettings, parse_config
from triage.daemon import OAUTH2_REFUSALS
from triage.errors import ConfigError, ImapLoginError, NotifyError, TokenCommandError
from triage.notify import smtp_sender
from triage.pipeline import Services
from triage.relevance import load_narrowing
from triage.sources.imap import ImapSource
from triage.state import open_state

# --- servers and the token tool -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    yield from token_server.start()


@pytest.fixture(scope="module")
def oauth_dovecot(tokens: TokenServer) -> Iterator[Dovecot]:
    """Dovecot offering XOAUTH2 and OAUTHBEARER (as Gmail does)."""
    yield from dovecot_server.start(oauth2_url=tokens.url)


@pytest.fixture(scope="module")
def xoauth2_dovecot(tokens: TokenServer) -> Iterator[Dovecot]:
    """Dovecot offering XOAUTH2 only (as Microsoft 365 does)."""
    yield from dovecot_server.start(oauth2_url=tokens.url, oauth2_mechanisms=("xoauth2",))


@pytest.fixture
def user(oauth_dovecot: Dovecot) -> ImapUser:
    return oauth_dovecot.add_user()


@pytest.fixture
def oauth_smtp(tokens: TokenServer) -> Iterator[SmtpServer]:
    yield from smtp_oauth2.start(tokens)


@dataclass(frozen=True)
class TokenTool:
    """tests/token_command.py in a folder of its own: what it hands out, and how often it was run."""

    folder: Path

    @property
    def command(self) -> str:
        script = Path(__file__).parent / "token_command.py"
        return " ".join(shlex.quote(str(p)) for p in (sys.executable, script, self.folder))

    def hand_out(self, *tokens: str) -> None:
        (self.folder / "queue").write_text("".join(f"{t}\n" for t in tokens))

    @property
    def runs(self) -> int:
        path = self.folder / "runs"
        return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture
def tool(tmp_path: Path) -> TokenTool:
    folder = tmp_path / "tool"
    folder.mkdir()
    return TokenTool(folder)


def imap_source(user: ImapUser, command: str, *, tls: str = "none") -> ImapSource:
    settings = ImapSettings(host="127.0.0.1", port=user.server.tls_port if tls == "ssl" else user.server.port,
                            user=user.name, tls=tls, oauth2_token_command=command)
    return ImapSource(settings, narrowing=load_narrowing(paths.rules_dir()), max_bytes=1_000_000, env={})


def smtp_settings(smtp: SmtpServer, user: str, command: str) -> SmtpSettings:
    return SmtpSettings(host=smtp.host, port=smtp.port, tls="none", sender="triage@example.jp", user=user,
                        oauth2_token_command=command)


def append(user: ImapUser, *messages: bytes) -> None:
    with user.client() as c:
        for m in messages:
            c.append("INBOX", m)


def oauth2_logins(server: Dovecot, user: str) -> list[str]:
    """The SASL mechanism of each login Dovecot logged for `user`, but the tests' own password logins."""
    log = (server.root / "dovecot.log").read_text()
    methods = [line.split("method=")[1].split(",")[0] for line in log.splitlines()
               if "imap-login: Info: Login:" in line and f"user=<{user}>" in line]
    return [m for m in methods if m != "PLAIN"]


def secret_forms(token: str, user: str) -> list[str]:
    """The token as it could leak: itself, and inside either SASL message, base64 or not."""
    forms = [token]
    for mechanism in oauth2.MECHANISMS:
        for port in (143, 25, 587):
            message = oauth2.initial_response(mechanism, user, token, host="127.0.0.1", port=port)
            forms += [message, base64.b64encode(message.encode()).decode()]
    forms.append(base64.b64encode(token.encode()).decode()[:40])
    return forms


# --- the SASL messages and the choice of mechanism ----------------------------------------------


def test_oauthbearer_message_is_the_one_of_rfc_7628():
    # RFC 7628 section 4.1, with its example token; the user name is escaped as RFC 5801 says.
    got = oauth2.initial_response("OAUTHBEARER", "user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
                                  host="server.example.com", port=143)
    assert got == ("n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                   "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01")
    assert oauth2.initial_response("OAUTHBEARER", "a,b=c", "t", host="h", port=1).startswith("n,a=a=2Cb=3Dc,\x01")


def test_xoauth2_message_is_the_one_google_documents():
    got = oauth2.initial_response("XOAUTH2", "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
                                  host="imap.gmail.com", port=993)
    assert base64.b64encode(got.encode()).decode() == (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRH"
        "RXVZMjl0Q2cBAQ==")


def test_oauthbearer_is_chosen_where_offered_else_xoauth2():
    assert oauth2.choose_mechanism(["PLAIN", "XOAUTH2", "OAUTHBEARER"]) == "OAUTHBEARER"
    assert oauth2.choose_mechanism(["plain", "xoauth2"]) == "XOAUTH2"
    assert oauth2.choose_mechanism(["PLAIN", "LOGIN"]) is None


# --- the token command -----------------------------------------------------------------------------


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


def test_a_failing_token_command_is_one_line_naming_it(tmp_path):
    script = tmp_path / "expired-refresh"
    script.write_text("#!/bin/sh\necho 'oama: invalid_grant: token has been revoked' >&2\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(TokenCommandError) as caught:
        oauth2.TokenCommand(f"{script} taro@example.jp", "imap").token()
    text = one_line(caught.value)
    assert f"[imap] oauth2_token_command ({script} taro@example.jp) failed with exit status 3" in text
    assert "invalid_grant: token has been revoked" in text
    assert caught.value.exit_status == 2


def test_a_failing_command_that_printed_a_token_on_stderr_does_not_show_it():
    # Its last stderr line is shown to help, and logged by the daemon at every retry: a token in it (a
    # wrapper run with `set -x`, a tool's debug output) is masked, the words around it kept.
    token = "ya29.a0AfB_byC1x2y3z4w5v6u7t8s9r0q-ZZ9"
    command = f"sh -c 'echo \"+ curl -H Authorization: Bearer {token} /home/taro/.config/m365.token\" >&2; exit 4'"
    with pytest.raises(TokenCommandError) as caught:
        oauth2.TokenCommand(command, "imap").token()
    text = one_line(caught.value).replace(command, "")
    assert token not in text and token[:12] not in text
    assert "failed with exit status 4: + curl -H Authorization: Bearer [token] /home/taro/.config/m365.token" in text


def test_a_token_command_that_hangs_is_stopped():
    started = time.monotonic()
    with pytest.raises(TokenCommandError) as caught:
        oauth2.TokenCommand("sleep 30", "smtp", timeout=0.5).token()
    assert "[smtp] oauth2_token_command (sleep 30) did not finish within 0.5 s" in one_line(caught.value)
    assert time.monotonic() - started < 20, "the command must be stopped, not waited for"


def test_a_token_command_that_prints_nothing_or_too_much_is_refused():
    with pytest.raises(TokenCommandError, match=r"\(true\) printed no token"):
        oauth2.TokenCommand("true", "imap").token()
    with pytest.raises(TokenCommandError, match="printed more than one token"):
        oauth2.TokenCommand("printf 'warning: cache stale\\nya29.abc\\n'", "imap").token()


def test_a_token_command_that_prints_without_end_is_stopped_at_a_bound():
    # `yes`, or a tool that dumps a whole file: read up to a bound, never into memory without end.
    for command in ("yes", "head -c 200000 /dev/zero"):
        with pytest.raises(TokenCommandError, match=r"printed more than 64 KiB, far more than an access token"):
            oauth2.TokenCommand(command, "imap", timeout=20).token()


def test_a_token_with_a_control_character_is_refused():
    # ^A separates the SASL fields the token is sent in: a token must not be able to add one.
    for printed in ("ya29.abc\\001auth=x", "ya29.abc\\000def", "ya29.äbc"):
        with pytest.raises(TokenCommandError, match="printed characters no access token holds"):
            oauth2.TokenCommand(f"printf '{printed}'", "smtp").token()


def _running(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if marker in cmdline.read_bytes().decode(errors="replace"):
                found.append(cmdline.parent.name)
    return found


def test_a_hung_pipeline_leaves_no_process_behind():
    # The time-out ends the command's whole process group, not only the shell: logins in a daemon that
    # retries must not pile up hung helpers.
    marker = f"{os.getpid() % 1000 + 1000}.25"
    with pytest.raises(TokenCommandError, match=r"did not finish within 0\.5 s"):
        oauth2.TokenCommand(f"sh -c 'sleep {marker} | cat'", "imap", timeout=0.5).token()
    # Killed at once; gone from /proc when the kernel has finished it (a moment on a loaded machine).
    assert wait_until(lambda: _running(f"sleep\x00{marker}") == [])


def test_a_command_that_leaves_a_child_in_the_background_is_not_waited_for():
    marker = f"{os.getpid() % 1000 + 1000}.75"
    command = oauth2.TokenCommand(f"sh -c 'printf ya29.token; sleep {marker} &'", "imap", timeout=20)
    started = time.monotonic()
    assert command.token() == "ya29.token"
    assert time.monotonic() - started < 15, "the token was printed and the command ended: no time-out"
    assert wait_until(lambda: _running(f"sleep\x00{marker}") == [])


def test_a_token_command_that_is_not_there_is_named():
    command = oauth2.TokenCommand("/nonexistent/oama access taro@example.jp", "smtp")
    with pytest.raises(ConfigError, match=r"\[smtp\] oauth2_token_command: the program '/nonexistent/oama' is not"):
        command.check()
    with pytest.raises(TokenCommandError, match=r"\(/nonexistent/oama access taro@example.jp\) cannot be run"):
        command.token()


# --- configuration ---------------------------------------------------------------------------------


def test_smtp_takes_an_oauth2_token_command_and_needs_a_user():
    config = parse_config({"smtp": {"host": "smtp.gmail.com", "from": "taro@gmail.com", "user": "taro@gmail.com",
                                    "oauth2_token_command": "oama access taro@gmail.com"}})
    assert config.smtp is not None and config.smtp.oauth2_token_command == "oama access taro@gmail.com"
    with pytest.raises(ConfigError, match=r"\[smtp\] oauth2_token_command needs \[smtp\] user"):
        parse_config({"smtp": {"host": "smtp.gmail.com", "from": "t@gmail.com", "oauth2_token_command": "oama"}})


@pytest.mark.parametrize("section", ["imap", "smtp"])
def test_a_password_and_a_token_command_together_are_refused(section):
    table = {"host": "mail.example.jp", "user": "u", "from": "u@example.jp", "password_env": "PW",
             "oauth2_token_command": "oama access u"}
    if section == "imap":
        del table["from"]
    with pytest.raises(ConfigError, match=rf"\[{section}\] has both password_env and oauth2_token_command"):
        parse_config({section: table})


# --- IMAP: scan ------------------------------------------------------------------------------------


def test_scan_logs_in_with_a_token_by_oauthbearer(user, tokens, tool):
    append(user, mails.compromise_notice(1), mails.newsletter(1))
    tool.hand_out(tokens.issue(user.name))
    with open_state(":memory:") as state:
        got, _ = run(imap_source(user, tool.command), state)
    assert got.message_ids == ["<case-17100200301-1@support.amazon.com>"]
    assert oauth2_logins(user.server, user.name) == ["OAUTHBEARER"], "Dovecot offers it, so it is chosen"
    assert tool.runs == 1


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_scan_logs_in_with_a_token_over_tls(user, tokens, tool, monkeypatch, tls):
    monkeypatch.setenv("SSL_CERT_FILE", str(user.server.ca_file))
    append(user, mails.budget_alert())
    tool.hand_out(tokens.issue(user.name))
    with open_state(":memory:") as state:
        got, _ = run(imap_source(user, tool.command, tls=tls), state)
    assert got.message_ids == ["<budget-1@budgets.amazonaws.com>"]
    assert oauth2_logins(user.server, user.name) == ["OAUTHBEARER"]


def test_scan_uses_xoauth2_where_it_is_the_only_oauth2_login(xoauth2_dovecot, tokens, tool):
    user = xoauth2_dovecot.add_user()
    append(user, mails.compromise_notice(1))
    tool.hand_out(tokens.issue(user.name))
    with open_state(":memory:") as state:
        got, _ = run(imap_source(user, tool.command), state)
    assert got.message_ids == ["<case-17100200301-1@support.amazon.com>"]
    assert oauth2_logins(xoauth2_dovecot, user.name) == ["XOAUTH2"]


def test_an_expired_token_is_replaced_by_running_the_command_again(user, tokens, tool):
    append(user, mails.compromise_notice(1))
    expired, fresh = tokens.issue(user.name, lifetime=-60), tokens.issue(user.name)
    tool.hand_out(expired, fresh)
    with open_state(":memory:") as state:
        got, _ = run(imap_source(user, tool.command), state)
    assert got.message_ids == ["<case-17100200301-1@support.amazon.com>"]
    assert tool.runs == 2
    assert tokens.asked[-2:] == [expired, fresh], "Dovecot was asked about both, in that order"


def test_a_password_server_without_oauth2_is_one_clear_line(dovecot, tool):
    plain_user = dovecot.add_user()
    with open_state(":memory:") as state, pytest.raises(ImapLoginError) as caught:
        run(imap_source(plain_user, tool.command), state)
    assert "offers no OAuth2 login (neither OAUTHBEARER nor XOAUTH2; it offers PLAIN, LOGIN)" in one_line(caught.value)
    assert tool.runs == 0, "no token is fetched for a server that cannot take it"


def write_config(tmp_path: Path, user: ImapUser, command: str, smtp: SmtpServer | None = None) -> Path:
    text = (f'[imap]\nhost = "127.0.0.1"\nport = {user.server.port}\nuser = "{user.name}"\ntls = "none"\n'
            f"oauth2_token_command = '''{command}'''\n")
    if smtp is not None:
        text += (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\ntls = "none"\nfrom = "triage@example.jp"\n'
                 f"user = \"{user.name}\"\noauth2_token_command = '''{command}'''\n"
                 f'[notify]\nto = ["owner@example.jp"]\n')
    path = tmp_path / "triage.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


def test_a_refused_token_is_one_line_and_exit_2(user, tokens, tool, tmp_path):
    revoked = tokens.issue(user.name)
    tokens.revoke(revoked)
    tool.hand_out(revoked)
    code, _, err = cli("scan", "--config", str(write_config(tmp_path, user, tool.command)),
                         "--state", str(tmp_path / "state"), "--no-aws", "--no-translate")
    assert code == 2
    assert err == (f"triage: the IMAP server 127.0.0.1 refused the OAuth2 token for {user.name} (2 fresh tokens from "
                   f"[imap] oauth2_token_command); check [imap] user and that the token is for this account with "
                   f"IMAP access\n")
    assert tool.runs == 2, "a refused token is replaced once by running the command again"


def test_a_failing_token_command_ends_the_scan_with_exit_2(user, tmp_path):
    code, _, err = cli("scan", "--config", str(write_config(tmp_path, user, "false")),
                       "--state", str(tmp_path / "state"), "--no-aws", "--no-translate")
    assert code == 2
    assert err == "triage: [imap] oauth2_token_command (false) failed with exit status 1; run it by hand to see why\n"


def test_the_token_never_reaches_the_log_even_with_debug(user, tokens, tool, oauth_smtp, tmp_path, caplog):
    append(user, mails.compromise_notice(1))
    expired, fresh = tokens.issue(user.name, lifetime=-60), tokens.issue(user.name)
    tool.hand_out(expired, fresh)  # the refusal path is logged too
    caplog.set_level(logging.DEBUG)
    code, out, err = cli("--debug", "scan", "--config", str(write_config(tmp_path, user, tool.command, oauth_smtp)),
                         "--state", str(tmp_path / "state"), "--no-aws", "--no-translate")
    assert code == 0, err
    assert len(oauth_smtp.inbox.messages) == 1 and oauth_smtp.inbox.logins == [("OAUTHBEARER", user.name)]
    assert "refused the OAuth2 token" in err and "DEBUG" in err, "the debug log was on and saw the logins"
    logged = err + out + caplog.text + (user.server.root / "dovecot.log").read_text()
    for token in (expired, fresh):
        for form in secret_forms(token, user.name):
            assert form not in logged


# --- SMTP ------------------------------------------------------------------------------------------


def summary_config(smtp: SmtpServer, user: str, command: str) -> Config:
    return Config(smtp=smtp_settings(smtp, user, command), notify=NotifySettings(to=("owner@example.jp",)))


def send_one(tmp_path: Path, config: Config) -> int:
    folder = mails.write_eml_folder(tmp_path / "in", [mails.compromise_notice(1)])
    assert config.smtp is not None
    from triage.sources.files import open_path

    with open_state(":memory:") as state:
        _, totals = run(open_path(folder), state, config=config, options=OFFLINE,
                        services=Services(send=smtp_sender(config.smtp, config.notify.to, {})))
    return totals.sent


@pytest.mark.parametrize(("offered", "used"), [(("XOAUTH2", "OAUTHBEARER"), "OAUTHBEARER"), (("XOAUTH2",), "XOAUTH2")])
def test_the_summary_is_sent_with_a_token(tokens, tool, tmp_path, offered, used):
    server = smtp_oauth2.start(tokens, offered)
    smtp = next(server)
    try:
        tool.hand_out(tokens.issue("taro@example.jp"))
        assert send_one(tmp_path, summary_config(smtp, "taro@example.jp", tool.command)) == 1
        assert smtp.inbox.logins == [(used, "taro@example.jp")]
        assert "17100200301" in smtp.inbox.messages[0]["Subject"]
    finally:
        server.close()


def test_smtp_replaces_an_expired_token_by_running_the_command_again(tokens, tool, oauth_smtp, tmp_path):
    tool.hand_out(tokens.issue("taro@example.jp", lifetime=-60), tokens.issue("taro@example.jp"))
    assert send_one(tmp_path, summary_config(oauth_smtp, "taro@example.jp", tool.command)) == 1
    assert oauth_smtp.inbox.refusals == 1 and len(oauth_smtp.inbox.logins) == 1
    assert tool.runs == 2


def test_smtp_refusing_the_token_is_one_line_naming_the_setting(tokens, tool, oauth_smtp):
    tool.hand_out(tokens.issue("someone-else@example.jp"))
    send = smtp_sender(smtp_settings(oauth_smtp, "taro@example.jp", tool.command), ("owner@example.jp",), {})
    from triage.render import Summary

    summary = Summary(case_id="c", digest="d", kind="compromised-account", severity="high", subject="s", text="t",
                      html="<p>t</p>", reply="")
    with pytest.raises(NotifyError) as caught:
        send(summary)
    assert one_line(caught.value) == (
        f"the SMTP server 127.0.0.1:{oauth_smtp.port} refused the OAuth2 token for taro@example.jp (2 fresh tokens "
        f"from [smtp] oauth2_token_command); check [smtp] user and that the token allows sending mail")
    assert oauth_smtp.inbox.messages == [] and tool.runs == 2


def test_a_missing_smtp_token_program_fails_before_any_mail_is_read(oauth_smtp):
    settings = smtp_settings(oauth_smtp, "taro@example.jp", "/nonexistent/mutt_oauth2.py token.json")
    with pytest.raises(ConfigError, match=r"'/nonexistent/mutt_oauth2\.py' is not found"):
        smtp_sender(settings, ("owner@example.jp",), {})


# --- the daemon ------------------------------------------------------------------------------------


@pytest.fixture
def daemons(tmp_path) -> Iterator[DaemonThreads]:
    threads = DaemonThreads(tmp_path / "state.sqlite3", {})
    yield threads
    threads.stop_all()


def daemon_config(user: ImapUser, smtp: SmtpServer, command: str) -> Config:
    return Config(imap=imap_source(user, command).settings, smtp=smtp_settings(smtp, user.name, command),
                  notify=NotifySettings(to=("owner@example.jp",), remind_every_hours=0))


def test_the_daemon_logs_in_again_with_a_fresh_token_after_a_drop(daemons, user, tokens, tool, oauth_smtp, caplog):
    caplog.set_level(logging.DEBUG)
    first = tokens.issue(user.name)
    tool.hand_out(first)
    daemons.start(daemon_config(user, oauth_smtp, tool.command))
    assert wait_until(lambda: tool.runs >= 3), "one login for the scan, one per IDLE watcher (INBOX, Junk)"
    time.sleep(1.0)  # the daemon now waits in IDLE
    # An hour later: the first token has expired, and the tool now hands out a new one.
    tokens.grants[first].expires_at = 0
    fresh = tokens.issue(user.name)
    tool.hand_out(fresh)
    runs_before = tool.runs
    subprocess.run(["doveadm", "-c", str(user.server.root / "dovecot.conf"), "kick", user.name],
                   check=True, capture_output=True)
    append(user, mails.compromise_notice(1))
    assert wait_until(lambda: len(oauth_smtp.inbox.messages) == 1, seconds=20), daemons.errors
    assert tool.runs > runs_before, "each login ran the command again"
    assert fresh in tokens.asked
    assert not daemons.errors
    for token in (first, fresh):
        for form in secret_forms(token, user.name):
            assert form not in caplog.text


def test_a_token_that_keeps_being_refused_ends_the_daemon_with_exit_2(daemons, user, tokens, tool, oauth_smtp,
                                                                      caplog):
    revoked = tokens.issue(user.name)
    tokens.revoke(revoked)
    tool.hand_out(revoked)
    thread = daemons.start(daemon_config(user, oauth_smtp, tool.command))
    thread.join(timeout=30)
    assert not thread.is_alive(), "a token refused again and again must end the daemon"
    [error] = daemons.errors
    assert isinstance(error, ImapLoginError) and error.exit_status == 2
    assert "refused the OAuth2 token" in str(error)
    assert tool.runs == OAUTH2_REFUSALS * oauth2.LOGIN_ATTEMPTS, "each try ran the command for a fresh token"
    assert caplog.text.count("trying again in") == OAUTH2_REFUSALS - 1, "with backoff in between"
