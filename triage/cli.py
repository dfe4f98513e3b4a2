"""The command line: parse the options, call the command, map its errors to exit statuses, print.

The commands are in triage.commands, the options in triage.arguments, the terminal's texts in
triage.terminal; this module only prints what they hand it. Errors a user can fix are one line on stderr
(`triage: …`) with exit status 2; nothing else prints a traceback unless --debug is given. Every exit status
is a member of `ExitStatus`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from triage import logconfig
from triage.arguments import build_parser
from triage.commands import Streams, run
from triage.errors import ExitStatus, TriageError


@dataclass
class Environment:
    """What the CLI reads and writes; tests pass their own."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def stderr_is_tty(self) -> bool:
        return hasattr(self.stderr, "isatty") and self.stderr.isatty()


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    args = build_parser().parse_args(argv)
    logconfig.configure(env.stderr, debug=args.debug)
    try:
        return run(args, streams(env))
    except TriageError as exc:
        if args.debug:  # the traceback for the curious; the exit status stays the error's
            traceback.print_exc(file=env.stderr)
        print(f"triage: {exc}", file=env.stderr)
        return int(exc.exit_status)
    except KeyboardInterrupt:
        print("triage: interrupted", file=env.stderr)
        return int(ExitStatus.INTERRUPTED)
    except BrokenPipeError:  # the reader went away (`triage scan | head`): stop quietly, as Unix tools do
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitStatus.BROKEN_PIPE)


def streams(env: Environment) -> Streams:
    """The only way a command's text reaches the user: printed here, a line at a time, flushed (a JSON line
    is read as it comes); the progress line only when stderr is a terminal."""

    def out(text: str) -> None:
        print(text, file=env.stdout, flush=True)

    def err(line: str) -> None:
        print(line, file=env.stderr, flush=True)

    def redraw(line: str) -> None:
        print(line, end="", file=env.stderr, flush=True)

    return Streams(environ=env.environ, out=out, err=err, redraw=redraw if env.stderr_is_tty else None)
