"""What the libraries' log lines look like on the user's stderr: mail-parser's complaints about a mail's
headers ("Failed decoding header part", at ERROR) are not triage's errors. By default the user sees only
triage's own line about the defect; with --debug, mail-parser's lines too, named as its."""

from __future__ import annotations

import io
from pathlib import Path

from tests import mails
from triage.cli import Environment, main

# "QVdTQ" is five base64 characters: no padding can make it whole, and the email package gives up on it.
BROKEN_SUBJECT = "=?utf-8?b?QVdTQ?= account notice"
BROKEN_NAME = "=?utf-8?b?QVdTQ?="  # an attachment's file name: mail-parser logs its failure to decode it


def scan(tmp_path: Path, *options: str) -> tuple[int, str]:
    mail = (f"From: Amazon Web Services <no-reply-aws@amazon.com>\nTo: owner@example.jp\nSubject: {BROKEN_SUBJECT}\n"
            "Date: Tue, 10 Nov 2026 06:00:00 +0000\nMessage-ID: <broken-subject@amazon.com>\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nHello from AWS.\n'
            f"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename={BROKEN_NAME}\n"
            "Content-Transfer-Encoding: base64\n\nQUJD\n--b--\n")
    folder = mails.write_eml_folder(tmp_path / "in", [mail.encode()])
    err = io.StringIO()
    code = main([*options, "scan", "--source", str(folder), "--offline", "--all", "--state", ":memory:", "--json"],
                Environment(stdout=io.StringIO(), stderr=err, environ={}))
    return code, err.getvalue()


def test_mail_parsers_header_errors_are_not_shown_as_triages_errors(tmp_path):
    code, err = scan(tmp_path)
    assert code == 0
    assert "ERROR" not in err and "Failed decoding" not in err and BROKEN_NAME not in err
    [line] = err.splitlines()
    assert line.startswith("triage: WARNING: mail ") and line.endswith(
        "has defects, read as well as possible: broken base64 in an encoded word")


def test_with_debug_mail_parsers_lines_are_shown_as_its_own(tmp_path):
    code, err = scan(tmp_path, "--debug")
    assert code == 0
    assert f"triage: DEBUG: mail-parser (error): Failed decoding header part: {BROKEN_NAME}\n" in err
    assert "ERROR" not in err
