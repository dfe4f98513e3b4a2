"""The command line's definition: every command and its options, as `triage --help` shows them.

Only the grammar lives here (HTTPie's `cli/definition.py`): parsing a value that is wrong (a date) is a usage
error; nothing runs, reads a file or prints.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from triage import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage",
        description="Find AWS security mail, check the account, and tell the owner in plain Japanese what to do.",
    )
    parser.add_argument("--version", action="version", version=f"triage {__version__}")
    parser.add_argument("--debug", action="store_true", help="log every step and show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = commands.add_parser("scan", help="one pass: new mail → summaries")
    _common(scan)
    scan.add_argument("--source", help="imap, or a path: mbox file, Maildir, folder of .eml, one .eml")
    scan.add_argument("--all", action="store_true", dest="all_mail", help="process mail already seen")
    scan.add_argument("--json", action="store_true", help="JSON lines on stdout instead of the table")
    scan.add_argument("--since", type=_since_date, metavar="YYYY-MM-DD",
                      help="only mail from this day on (for the first scan of a big mailbox; default all)")
    _stage_flags(scan)
    scan.add_argument("--no-send", action="store_true", help="print the summaries instead of sending them")
    scan.add_argument("--offline", action="store_true",
                      help="no network at all: --no-aws --no-translate --no-send, and no DNS")

    daemon = commands.add_parser("daemon", help="the same pipeline forever (IMAP IDLE)")
    _common(daemon)
    _stage_flags(daemon)

    status = commands.add_parser("status", help="open cases, the outbox, the last passes (beside a running daemon)")
    _common(status)
    status.add_argument("--json", action="store_true", help="one JSON object on stdout")

    ack = commands.add_parser("ack", help="record that you have seen a case: its reminders stop")
    _common(ack)
    ack.add_argument("cases", nargs="*", metavar="CASE", help="case ids, as `triage status` lists them")
    ack.add_argument("--all", action="store_true", dest="ack_all", help="every case")

    check = commands.add_parser("check-account", help="the AWS account cross-check alone")
    _common(check, state=False)
    check.add_argument("--json", action="store_true", help="JSON lines on stdout")
    check.add_argument("--profile", help="AWS profile (default: [aws] profile, then boto3's chain)")
    check.add_argument("--regions", help="comma-separated region codes (default: [aws] regions, or all)")
    check.add_argument("--all-accounts", action="store_true",
                       help="every account of the Organization, through [aws] organization_role")
    check.add_argument("--case", help="check again for this case and compare with its last check")
    check.add_argument("--state", help="SQLite state file with the case (default under the XDG state dir)")

    explain = commands.add_parser("explain", help="one mail: authenticity, rules, entities")
    _common(explain)
    explain.add_argument("file", type=Path, help="an .eml file")
    explain.add_argument("--offline", action="store_true", help="no DNS look-ups for DKIM")
    return parser


def _common(p: argparse.ArgumentParser, *, state: bool = True) -> None:
    # Also after the command (`triage scan --debug`); SUPPRESS keeps a --debug given before it.
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="log every step and show tracebacks")
    p.add_argument("--config", type=Path, help="config file (default $TRIAGE_CONFIG, else the XDG path)")
    if state:
        p.add_argument("--state", help="SQLite state file (default under the XDG state dir); :memory: for none")


def _since_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def _stage_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-aws", action="store_true", help="do not check the AWS account")
    p.add_argument("--no-translate", action="store_true", help="do not translate with DeepL")
