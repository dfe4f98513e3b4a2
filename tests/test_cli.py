"""The command line as a user meets it: output formats, exit codes, one-line errors."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tests import mails
from tests.dovecot import free_port
from triage.cli import Environment, main

ROOT = Path(__file__).parent.parent


def cli(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Environment(stdout=out, stderr=err, environ=environ or {}))
    return code, out.getvalue(), err.getvalue()


def test_json_lines_one_per_mail(tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", mails.aws_related() + mails.unrelated())
    code, out, err = cli("scan", "--source", str(folder), "--offline", "--json", "--all", "--state", ":memory:")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    messages = [x for x in lines if x["type"] == "message"]
    assert len(messages) == len(mails.aws_related()) + len(mails.unrelated())
    for m in messages:
        assert set(m) == {"type", "message_id", "date", "from", "subject", "kind", "severity", "authenticity",
                          "rule", "case_id", "account_ids"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["date"])
    notice = next(m for m in messages if m["message_id"] == "<case-17100200301-1@support.amazon.com>")
    assert notice["kind"] == "compromised-account" and notice["severity"] == "critical"
    assert notice["case_id"] == "17100200301" and notice["account_ids"] == ["123456789012"]
    cases = [x for x in lines if x["type"] == "case"]
    compromise = next(c for c in cases if c["case_id"] == "17100200301")
    assert compromise["summary"] == "printed" and len(compromise["message_ids"]) == 2
    summaries = [x for x in lines if x["type"] == "summary"]
    assert any("いますぐやること" in s["text"] for s in summaries)


def test_other_mail_is_reported_only_with_all(tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", [*mails.unrelated(), mails.budget_alert()])
    code, out, _ = cli("scan", "--source", str(folder), "--offline", "--json", "--state", ":memory:")
    kinds = [json.loads(line).get("kind") for line in out.splitlines() if '"type": "message"' in line]
    assert code == 0 and kinds == ["billing-alert"]


def test_human_table_and_totals(tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", mails.aws_related())
    (folder / "broken.eml").write_bytes(b"")
    code, out, err = cli("scan", "--source", str(folder), "--offline", "--state", ":memory:")
    assert code == 0
    assert out.splitlines()[0].split() == ["DATE", "(JST)", "SEVERITY", "KIND", "AUTH", "FROM", "SUBJECT"]
    assert "compromised-account" in out
    assert "1 skipped (unreadable or malformed, see the log)" in out
    assert "broken.eml" in err


def test_demo_prints_japanese_summaries():
    code, out, err = cli("scan", "--source", str(ROOT / "examples" / "inbox.mbox"), "--offline", "--state", ":memory:")
    assert code == 0, err
    assert "【緊急】AWS アカウントが第三者に使われている可能性があります" in out
    assert "■ いますぐやること" in out
    assert "フィッシング" in out


def test_state_file_makes_the_second_scan_quiet(tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", mails.aws_related())
    state = str(tmp_path / "state.sqlite3")
    cli("scan", "--source", str(folder), "--offline", "--json", "--state", state)
    code, out, _ = cli("scan", "--source", str(folder), "--offline", "--json", "--state", state)
    assert code == 0 and out == ""


def _one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("triage: "), err
    for needle in needles:
        assert needle in lines[0]


def test_missing_config(tmp_path):
    _one_line_error(*cli("scan", "--config", str(tmp_path / "none.toml"), "--source", str(tmp_path)), "does not exist")


def test_malformed_config(tmp_path):
    (tmp_path / "c.toml").write_text("[imap\n")
    _one_line_error(*cli("scan", "--config", str(tmp_path / "c.toml"), "--source", str(tmp_path)), "not valid TOML")


def test_config_from_environment_variable(tmp_path):
    (tmp_path / "c.toml").write_text("[notify]\nmin_severity = 'loud'\n")
    _one_line_error(*cli("scan", "--source", str(tmp_path), environ={"TRIAGE_CONFIG": str(tmp_path / "c.toml")}),
                    "min_severity")


def test_unknown_source_path(tmp_path):
    _one_line_error(*cli("scan", "--source", str(tmp_path / "nowhere"), "--state", ":memory:"), "does not exist")


def test_not_an_mbox(tmp_path):
    (tmp_path / "inbox.mbox").write_text("just some notes\n")
    _one_line_error(*cli("scan", "--source", str(tmp_path / "inbox.mbox"), "--state", ":memory:"), "not an mbox")


def test_no_source_and_no_imap(tmp_path):
    _one_line_error(*cli("scan", "--state", ":memory:", environ={"XDG_CONFIG_HOME": str(tmp_path)}), "--source")


def test_unusable_state_file(tmp_path):
    (tmp_path / "state").write_bytes(b"garbage" * 200)
    folder = mails.write_eml_folder(tmp_path / "in", [mails.budget_alert()])
    _one_line_error(*cli("scan", "--source", str(folder), "--state", str(tmp_path / "state")), "not a triage database")


def _imap_config(tmp_path: Path, host: str, port: int, user: str, tls: str = "none") -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[imap]\nhost = "{host}"\nport = {port}\nuser = "{user}"\npassword_env = "PW"\ntls = "{tls}"\n')
    path.chmod(0o600)
    return str(path)


def test_imap_login_failure(imap_user, tmp_path):
    config = _imap_config(tmp_path, "127.0.0.1", imap_user.server.port, imap_user.name)
    _one_line_error(*cli("scan", "--config", config, "--state", ":memory:", environ={"PW": "wrong"}),
                    "refused the login", imap_user.name)


def test_imap_scan_through_the_cli(imap_user, tmp_path):
    with imap_user.client() as c:
        c.append("INBOX", mails.compromise_notice(1))
    config = _imap_config(tmp_path, "127.0.0.1", imap_user.server.port, imap_user.name)
    code, out, err = cli("scan", "--config", config, "--offline", "--json", "--state", ":memory:",
                         environ={"PW": imap_user.password})
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["kind"] == "compromised-account"


def test_unreachable_imap_server(tmp_path):
    config = _imap_config(tmp_path, "127.0.0.1", free_port(), "owner")
    _one_line_error(*cli("scan", "--config", config, "--state", ":memory:", environ={"PW": "x"}), "cannot reach")


def test_imap_tls_failure(imap_user, tmp_path):
    config = _imap_config(tmp_path, "127.0.0.1", imap_user.server.tls_port, imap_user.name, tls="ssl")
    _one_line_error(*cli("scan", "--config", config, "--state", ":memory:", environ={"PW": imap_user.password}),
                    "TLS")


def test_imap_password_variable_missing(imap_user, tmp_path):
    config = _imap_config(tmp_path, "127.0.0.1", imap_user.server.port, imap_user.name)
    _one_line_error(*cli("scan", "--config", config, "--state", ":memory:"), "$PW is not set")


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["scan", "--bogus"], Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ={}))
    assert exc.value.code == 2


def test_unreadable_mbox(tmp_path, monkeypatch):
    # As root, chmod 000 does not stop a read; make the open fail as it would for another user.
    box = mails.write_mbox(tmp_path / "inbox.mbox", [mails.budget_alert()])
    real_open = Path.open

    def denied(self: Path, *args: object, **kwargs: object):
        if self == box:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", denied)
    _one_line_error(*cli("scan", "--source", str(box), "--state", ":memory:"), "Permission denied", str(box))
