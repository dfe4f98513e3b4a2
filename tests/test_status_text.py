"""`triage status` as text: its words come from templates/terminal_status.txt.j2 (data, like every text a
user reads), and what a server or a mail put in the state reaches the terminal with its hidden characters
made visible."""

from __future__ import annotations

import io
from pathlib import Path

from tests.test_dataset_verdict import data_copy
from triage.cli import Environment, main
from triage.state import open_state


def status(state: Path, data: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {"TRIAGE_DATA_DIR": str(data)} if data else {}
    code = main(["status", "--state", str(state)], Environment(stdout=out, stderr=err, environ=environ))
    return code, out.getvalue(), err.getvalue()


def a_state(tmp_path: Path, error: str = "the SMTP server refused") -> Path:
    path = tmp_path / "state.sqlite3"
    with open_state(str(path)) as state:
        state.outbox_put("17100200301", "d1", "summary", {})
        [item] = state.outbox_pending()
        state.outbox_failed(item, error)
        state.record_pass("imap://taro@imap.example.jp:993/INBOX", "ok")
    return path


def test_the_status_text_is_the_templates(tmp_path):
    data = data_copy(tmp_path)
    template = data / "templates" / "terminal_status.txt.j2"
    template.write_text(template.read_text(encoding="utf-8").replace("last pass:", "前回の読み取り:"),
                        encoding="utf-8")
    code, out, err = status(a_state(tmp_path), data)
    assert code == 0, err
    assert "前回の読み取り:\n  imap://taro@imap.example.jp:993/INBOX: " in out
    assert "last pass:" not in out


def test_the_status_template_missing_is_one_line_and_exit_2(tmp_path):
    data = data_copy(tmp_path)
    (data / "templates" / "terminal_status.txt.j2").unlink()
    code, out, err = status(a_state(tmp_path), data)
    assert (code, out) == (2, "")
    assert err == f"triage: the template {data / 'templates' / 'terminal_status.txt.j2'} is missing; reinstall triage\n"


def test_an_error_with_terminal_escapes_is_shown_visible(tmp_path):
    code, out, err = status(a_state(tmp_path, "550 \x1b[2J\x1b[31mrefused\u202e"))
    assert code == 0, err
    assert "\x1b" not in out and "\u202e" not in out
    assert "last error: 550 " in out and "refused" in out
