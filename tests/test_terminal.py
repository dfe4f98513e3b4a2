"""What `triage scan` and `triage explain` print on a terminal: a mail's values are inert there too.

A Subject can hold a bidi override (U+202E) that reorders what the owner reads, a zero-width space, an ANSI
escape that recolours or rewrites the terminal, CR/LF that fakes a line of triage's own output, and a
phishing link the terminal would make clickable. The terminal shows them made visible or harmless, and
triage's own links (in a printed summary) stay links. A name an intruder gave a resource in the AWS account
is shown the same way in `triage check-account`'s tables.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

from tests import mails
from tests.aws_server import AwsProxy, aws_environment
from tests.test_check_account_exit import CANNED
from triage.cli import Environment, main

# A URL first: the scan table cuts a long Subject, and every trick must still be in the cell.
HOSTILE_SUBJECT = ("https://evil.example/x \u202eUrgent\u202c \u200b\x1b[31m[ACTION REQUIRED] Your AWS account "
                   "123456789012 may be compromised\x1b[0m\r\nBcc: victim@example.net")
RAW = ("\u202e", "\u202c", "\u200b", "\x1b", "\r", "https://evil.example")


def hostile_mail(tmp_path: Path) -> Path:
    """A genuine-looking compromise notice whose Subject carries every trick (an encoded word: a header
    cannot hold a raw CR/LF)."""
    data = mails.build('"Amazon Web Services" <no-reply-aws@amazon.com>', "PLACEHOLDER",
                       "We detected activity in your AWS account 123456789012 that suggests a third party has "
                       "access.\nPlease change the root password, delete unknown IAM users and enable MFA.\n",
                       message_id="<hostile-subject@support.amazon.com>")
    encoded = base64.b64encode(HOSTILE_SUBJECT.encode()).decode()
    path = tmp_path / "in" / "hostile.eml"
    path.parent.mkdir()
    path.write_bytes(data.replace(b"Subject: PLACEHOLDER", f"Subject: =?utf-8?b?{encoded}?=".encode()))
    return path


def cli(*argv: str, tmp_path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Environment(stdout=out, stderr=err, environ={"XDG_CONFIG_HOME": str(tmp_path)}))
    assert code == 0, err.getvalue()
    return code, out.getvalue()


def assert_inert(text: str) -> None:
    for raw in RAW:
        assert raw not in text, repr(raw)
    assert "⟨U+202E⟩Urgent⟨U+202C⟩ ⟨U+200B⟩" in text  # hidden characters shown, where they were
    assert "hxxps://evil[.]example/x" in text  # the link cannot be clicked
    assert not re.search(r"^Bcc:", text, re.M)  # CR/LF did not start a line of its own


def test_the_scan_table_shows_a_hostile_subject_inert(tmp_path: Path) -> None:
    mail = hostile_mail(tmp_path)
    _, out = cli("scan", "--source", str(mail.parent), "--offline", "--state", ":memory:", tmp_path=tmp_path)
    table_row = next(line for line in out.splitlines() if line.startswith("2026-11-10 15:00 "))
    assert "no-reply-aws@amazon[.]com" in table_row and "hxxps://evil[.]example/x ⟨U+202E⟩Urgent⟨U+202C⟩" in table_row
    assert_inert(out)
    # The summary printed below the table is triage's: its own links stay links.
    assert "\ncase " in out and "https://console.aws.amazon.com" in out


def test_explain_shows_a_hostile_subject_inert(tmp_path: Path) -> None:
    mail = hostile_mail(tmp_path)
    _, out = cli("explain", str(mail), "--offline", "--state", str(tmp_path / "none.db"), tmp_path=tmp_path)
    subject = next(line for line in out.splitlines() if line.startswith("subject:"))
    assert subject == ("subject:       hxxps://evil[.]example/x ⟨U+202E⟩Urgent⟨U+202C⟩ ⟨U+200B⟩ [31m[ACTION REQUIRED] "
                       "Your AWS account 123456789012 may be compromised [0m  Bcc: victim@example[.]net")
    assert_inert(out)
    assert f"file:          {mail}" in out  # the path the owner gave keeps its dots


def test_the_account_table_shows_a_hostile_resource_name_inert(moto_server: Any) -> None:
    import boto3

    moto_server.reset()
    name = "\u202eevil.io"  # reversed text, and a host (AWS's XML cannot carry a control character)
    with aws_environment(moto_server.url):
        boto3.client("ec2", region_name="us-west-1").run_instances(
            ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}])
    proxy = AwsProxy(moto_server.url, canned=dict(CANNED))
    out = io.StringIO()
    try:
        with aws_environment(proxy.url):
            main(["check-account"], Environment(stdout=out, stderr=io.StringIO(), environ={}))
    finally:
        proxy.stop()
    row = next(line for line in out.getvalue().splitlines() if line.startswith("  instance "))
    assert "⟨U+202E⟩evil[.]io" in row and "\u202e" not in out.getvalue()
    assert " t3.micro " in row  # an instance type is AWS's name, not a host to defang
