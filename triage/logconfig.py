"""How the command line logs: one handler on stderr, `triage: LEVEL: message`, DEBUG with --debug, else
WARNING and up.

The libraries we use log through the same handler, and the handler makes what they hand it readable:

- a log call whose arguments do not fit its format (imaplib, when a connection breaks, replays its last
  lines through imapclient's logger with a timestamp as an argument) is shown as its text and arguments,
  never as a "--- Logging error ---" traceback;
- mail-parser logs what it cannot decode in a mail's headers at ERROR ("Failed decoding header part: …"),
  though nothing is wrong with triage and the mail is read anyway (triage names the defect itself, in its
  "has defects, read as well as possible" line). Its lines are shown only with --debug, as DEBUG lines
  that say they are mail-parser's, and at which level it wrote them.
"""

from __future__ import annotations

import logging
from typing import IO

FORMAT = "triage: %(levelname)s: %(message)s"
# Libraries whose log lines speak of the mail, not of a fault: logger name → the name the line shows.
ABOUT_THE_MAIL = {"mailparser": "mail-parser"}


class ReadableRecords(logging.Filter):
    """Turns a record whose message cannot be formatted into one that can: its text, then its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.getMessage()
        except (TypeError, ValueError, KeyError):
            record.msg, record.args = f"{record.msg} {record.args!r}", None
        return True


class AboutTheMail(logging.Filter):
    """The lines of the libraries in ABOUT_THE_MAIL: none by default; with --debug, as DEBUG lines named for
    their library."""

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self.debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        library = next((shown for name, shown in ABOUT_THE_MAIL.items()
                        if record.name == name or record.name.startswith(name + ".")), None)
        if library is None:
            return True
        if not self.debug:
            return False
        said = "" if record.levelno <= logging.DEBUG else f" ({record.levelname.lower()})"
        record.msg, record.args = f"{library}{said}: {record.getMessage()}", None
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


def configure(stream: IO[str], *, debug: bool) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(ReadableRecords())  # first: the filters after it may format the message
    handler.addFilter(AboutTheMail(debug))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler], force=True)
