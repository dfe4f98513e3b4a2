"""The one error family users see.

Every message is a single line that names the problem and, where there is one, the fix. The CLI prints
`triage: <message>` and exits with the error's status; it never shows a traceback for these.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Every exit status of `triage`; README.md's table lists the same."""

    OK = 0  # finished; for check-account: every region and every account-wide part was seen
    FAILURE = 1  # a bug or a refused AWS call: the run cannot be trusted
    BAD_INPUT = 2  # bad config, missing data, bad source, refused login, undelivered summary: the user can fix it
    PARTIAL_CHECK = 3  # check-account finished, but part of the account could not be checked (a gap)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells count it)
    BROKEN_PIPE = 141  # the reader of stdout went away (128 + SIGPIPE)


class TriageError(Exception):
    """Base of every error a user can act on."""

    exit_status: ExitStatus = ExitStatus.BAD_INPUT


class ConfigError(TriageError):
    """The configuration file or a command-line option is wrong."""


class SourceError(TriageError):
    """A mail source cannot be read (missing path, unreadable mbox, IMAP failure)."""


class SourceLostError(SourceError):
    """The source went away part-way (the IMAP connection dropped): the mail read so far is handled and kept,
    and reading again goes on from there. The message states only that; `scan` adds its advice (run it
    again), the daemon its own (it reconnects by itself)."""


class ImapLoginError(SourceError):
    """The IMAP server refused the credentials."""


class ImapConnectError(SourceError):
    """The IMAP server could not be reached, or TLS failed."""


class TokenCommandError(TriageError):
    """An OAuth2 token command failed, timed out or printed no token."""


class StateError(TriageError):
    """The SQLite state file cannot be opened or is from an unknown version."""


class RulesError(TriageError):
    """A rules file is malformed."""


class DataError(TriageError):
    """triage's own data (rules/, templates/) is missing or incomplete: an install or TRIAGE_DATA_DIR fault."""


class NotifyError(TriageError):
    """The summary could not be delivered."""


class NotifyLoginError(NotifyError):
    """The SMTP server refused the login: no summary can go out in this run."""


class AwsCheckError(TriageError):
    """The AWS account check could not start at all (no credentials, bad profile)."""


class RefusedAwsCall(TriageError):
    """A mutating AWS call was attempted. This is a bug in triage and fails the run."""

    exit_status = ExitStatus.FAILURE
