"""How the command line logs: one handler on stderr, `triage: LEVEL: message`, DEBUG with --debug, else
WARNING and up.

The libraries we use log through the same handler, and the handler makes what they hand it readable:

- a log call whose arguments do not fit its format (imaplib, when a connection breaks, replays its last
  lines through imapclient's logger with a timestamp as an argument) is shown as its text and arguments,
  never as a "--- Logging error ---" traceback.
"""

from __future__ import annotations

import logging
from typing import IO

FORMAT = "triage: %(levelname)s: %(message)s"


class ReadableRecords(logging.Filter):
    """Turns a record whose message cannot be formatted into one that can: its text, then its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.getMessage()
        except (TypeError, ValueError, KeyError):
            record.msg, record.args = f"{record.msg} {record.args!r}", None
        return True


def configure(stream: IO[str], *, debug: bool) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(ReadableRecords())
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler], force=True)
