"""The command line details a user notices: --debug where they type it, the table's time zone, progress
on a terminal (and none in a log), and exit statuses from one enum."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests import mails
from triage.cli import Environment, main
from triage.errors import ConfigError, ExitStatus


class Terminal(io.StringIO):
    """stderr as a terminal reports itself: what a user watching the command sees."""

    def isatty(self) -> bool:
        return True


def cli(*argv: str, stderr: io.StringIO | None = None, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    code = main(list(argv), Environment(stdout=out, stderr=err, environ=environ or {}))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_is_accepted_before_and_after_the_command(where: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.toml")
    argv = ["scan", "--config", missing]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    with pytest.raises(ConfigError, match="does not exist"):  # --debug shows the traceback: it is raised
        cli(*argv)


def test_without_debug_the_same_error_is_one_line(tmp_path: Path) -> None:
    code, out, err = cli("scan", "--config", str(tmp_path / "absent.toml"))
    assert code == ExitStatus.BAD_INPUT and out == "" and len(err.splitlines()) == 1


def test_the_table_dates_are_japan_time_and_say_so(tmp_path: Path) -> None:
    folder = mails.write_eml_folder(tmp_path / "in", [mails.compromise_notice(1)])  # sent 2026-11-11 06:00 UTC
    code, out, err = cli("scan", "--source", str(folder), "--offline", "--state", ":memory:")
    assert code == 0, err
    header, row = out.splitlines()[:2]
    assert header.startswith("DATE (JST)")
    assert row.startswith("2026-11-11 15:00 ")


def _big_mbox(tmp_path: Path) -> Path:
    return mails.write_mbox(tmp_path / "big.mbox", [mails.newsletter(i) for i in range(250)]
                            + [mails.compromise_notice(1)])


def test_a_long_scan_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    code, out, err = cli("scan", "--source", str(_big_mbox(tmp_path)), "--offline", "--state", ":memory:",
                         stderr=Terminal())
    assert code == 0
    assert "200 of 251 mails read" in err and "251 of 251 mails read" in err
    assert err.endswith("\r\x1b[K")  # the line is cleared at the end: the table starts clean
    assert "compromised-account" in out


@pytest.mark.parametrize("json", [False, True])
def test_no_progress_when_stderr_is_not_a_terminal(json: bool, tmp_path: Path) -> None:
    argv = ["scan", "--source", str(_big_mbox(tmp_path)), "--offline", "--state", ":memory:"]
    code, _, err = cli(*argv, *(["--json"] if json else []))
    assert code == 0 and "mails read" not in err and "\r" not in err


def test_json_output_keeps_stdout_clean_while_progress_goes_to_the_terminal(tmp_path: Path) -> None:
    code, out, err = cli("scan", "--source", str(_big_mbox(tmp_path)), "--offline", "--state", ":memory:", "--json",
                         stderr=Terminal())
    assert code == 0 and "251 of 251 mails read" in err
    assert all(line.startswith("{") for line in out.splitlines())


def test_an_imap_scan_counts_the_mails_it_fetches(imap_user, tmp_path: Path) -> None:
    with imap_user.client() as c:
        for n in range(1, 31):  # more than one FETCH of bodies (25 a time)
            c.append("INBOX", mails.compromise_notice(1, case=f"171002{n:05d}"))
    config = tmp_path / "config.toml"
    config.write_text(f'[imap]\nhost = "127.0.0.1"\nport = {imap_user.server.port}\nuser = "{imap_user.name}"\n'
                      f'password_env = "PW"\ntls = "none"\nfolders = ["INBOX"]\n')
    config.chmod(0o600)
    code, _, err = cli("scan", "--config", str(config), "--offline", "--state", ":memory:", "--json",
                         stderr=Terminal(), environ={"PW": imap_user.password})
    assert code == 0, err
    assert "25 of 30 mails read" in err and "30 of 30 mails read" in err
