"""The command line: parse options, call the pipeline, print. No work is done here.

Errors a user can fix are one line on stderr (`triage: …`) with exit status 2; nothing else prints a
traceback unless --debug is given. Every exit status is a member of `ExitStatus`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import traceback
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from triage import __version__, paths
from triage.cases import ClassifiedMail
from triage.config import Config, load_config
from triage.dataset import check_dataset
from triage.errors import ConfigError, ExitStatus, TriageError
from triage.output import case_record, skipped_record, summary_record
from triage.pipeline import CaseOutcome, ScanOptions, ScanTotals, Skipped
from triage.render import JST

if TYPE_CHECKING:
    from triage.account.records import Resource
    from triage.account.report import AccountReport, AccountsReport

log = logging.getLogger("triage")


@dataclass
class Environment:
    """What the CLI reads and writes; tests pass their own."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def stderr_is_tty(self) -> bool:
        return hasattr(self.stderr, "isatty") and self.stderr.isatty()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage",
        description="Find AWS security mail, check the account, and tell the owner in plain Japanese what to do.",
    )
    parser.add_argument("--version", action="version", version=f"triage {__version__}")
    parser.add_argument("--debug", action="store_true", help="log every step and show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, *, state: bool = True) -> None:
        # Also after the command (`triage scan --debug`); SUPPRESS keeps a --debug given before it.
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="log every step and show tracebacks")
        p.add_argument("--config", type=Path, help="config file (default $TRIAGE_CONFIG, else the XDG path)")
        if state:
            p.add_argument("--state", help="SQLite state file (default under the XDG state dir); :memory: for none")

    scan = commands.add_parser("scan", help="one pass: new mail → summaries")
    common(scan)
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
    common(daemon)
    _stage_flags(daemon)

    status = commands.add_parser("status", help="open cases, the outbox, the last passes (beside a running daemon)")
    common(status)
    status.add_argument("--json", action="store_true", help="one JSON object on stdout")

    ack = commands.add_parser("ack", help="record that you have seen a case: its reminders stop")
    common(ack)
    ack.add_argument("cases", nargs="*", metavar="CASE", help="case ids, as `triage status` lists them")
    ack.add_argument("--all", action="store_true", dest="ack_all", help="every case")

    check = commands.add_parser("check-account", help="the AWS account cross-check alone")
    common(check, state=False)
    check.add_argument("--json", action="store_true", help="JSON lines on stdout")
    check.add_argument("--profile", help="AWS profile (default: [aws] profile, then boto3's chain)")
    check.add_argument("--regions", help="comma-separated region codes (default: [aws] regions, or all)")
    check.add_argument("--all-accounts", action="store_true",
                       help="every account of the Organization, through [aws] organization_role")
    check.add_argument("--case", help="check again for this case and compare with its last check")
    check.add_argument("--state", help="SQLite state file with the case (default under the XDG state dir)")

    explain = commands.add_parser("explain", help="one mail: authenticity, rules, entities")
    common(explain)
    explain.add_argument("file", type=Path, help="an .eml file")
    explain.add_argument("--offline", action="store_true", help="no DNS look-ups for DKIM")
    return parser


def _since_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def _stage_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-aws", action="store_true", help="do not check the AWS account")
    p.add_argument("--no-translate", action="store_true", help="do not translate with DeepL")


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="triage: %(levelname)s: %(message)s",
        stream=env.stderr,
        force=True,
    )
    try:
        config = _config(args, env)
        if args.command not in ("status", "ack"):  # these read the state only
            check_dataset(paths.rules_dir(env.environ), paths.templates_dir(env.environ), config.rules.extra)
        handler = {"scan": _scan, "daemon": _daemon, "status": _status, "ack": _ack, "check-account": _check_account,
                   "explain": _explain}
        return handler[args.command](args, config, env)
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


def _config(args: argparse.Namespace, env: Environment) -> Config:
    explicit = args.config is not None
    path = args.config if explicit else paths.default_config_path(env.environ)
    return load_config(path, explicit=explicit)


def _state_path(args: argparse.Namespace, env: Environment) -> str:
    return str(args.state or paths.default_state_path(env.environ))


# --- scan -------------------------------------------------------------------------------------


def _scan(args: argparse.Namespace, config: Config, env: Environment) -> int:
    from triage.pipeline import load_context, scan
    from triage.services import services_from_config
    from triage.sources import open_source
    from triage.state import open_state

    options = ScanOptions(all_mail=args.all_mail, no_aws=args.no_aws, no_translate=args.no_translate,
                          no_send=args.no_send, offline=args.offline)
    rules_dir = paths.rules_dir(env.environ)
    source = open_source(args.source, config.imap, max_bytes=config.mail.max_bytes, rules_dir=rules_dir,
                         env=env.environ, forwarders=config.notify.allowed_forwarders, since=args.since)
    progress = Progress(env, "mails read")
    reporter: JsonReporter | TableReporter = JsonReporter(env, progress) if args.json else TableReporter(env, progress)
    with open_state(_state_path(args, env)) as state:
        # Built inside: the translation stage keeps its cache and glossary id in the state.
        services = services_from_config(config, options, env.environ, state=state)
        ctx = load_context(config, rules_dir, paths.templates_dir(env.environ), options, services)
        totals = scan(ctx, source, state, reporter)
    reporter.finish(totals)
    problem = totals.interrupted or (totals.errors[0] if totals.errors else "")
    if problem:
        print(f"triage: {problem}", file=env.stderr)
        return int(ExitStatus.BAD_INPUT)
    return int(ExitStatus.OK)


class Progress:
    """One line on stderr, redrawn in place, while long work runs: `[####......] 1200 of 5000 mails read`.
    Only when stderr is a terminal; a log file or a pipe gets nothing."""

    def __init__(self, env: Environment, what: str) -> None:
        self.env = env
        self.what = what
        self.shown = False

    def update(self, done: int, total: int | None) -> None:
        if not self.env.stderr_is_tty:
            return
        if total:
            total = max(total, done)  # a source's count is an estimate; never show more done than in all
            line = f"{_bar(done, total)} {done} of {total} {self.what}"
        else:
            line = f"{done} {self.what}"
        print(f"\r{line}\x1b[K", end="", file=self.env.stderr, flush=True)
        self.shown = True

    def finish(self) -> None:
        """Clear the line, so what follows on the terminal starts clean."""
        if self.shown:
            print("\r\x1b[K", end="", file=self.env.stderr, flush=True)
            self.shown = False


class JsonReporter:
    def __init__(self, env: Environment, progress: Progress) -> None:
        self.env = env
        self._progress = progress

    def _line(self, record: Mapping[str, object]) -> None:
        print(json.dumps(record, ensure_ascii=False), file=self.env.stdout, flush=True)

    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None:
        self._line(record)

    def skipped(self, item: Skipped) -> None:
        for record in skipped_record(item):
            self._line(record)

    def case(self, outcome: CaseOutcome) -> None:
        self._line(case_record(outcome))
        printed = summary_record(outcome)
        if printed:
            self._line(printed)

    def progress(self, done: int, total: int | None) -> None:
        self._progress.update(done, total)

    def finish(self, totals: ScanTotals) -> None:
        self._progress.finish()


class TableReporter:
    """A compact table of the mails about AWS, then each case and its summary. Dates are Japan time, as in
    the summaries, and the column says so."""

    def __init__(self, env: Environment, progress: Progress) -> None:
        self.env = env
        self.rows: list[tuple[str, ...]] = []
        self.outcomes: list[CaseOutcome] = []
        self._progress = progress
        self.alarms: list[Skipped] = []

    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None:
        date = item.mail.date.astimezone(JST).strftime("%Y-%m-%d %H:%M") if item.mail.date else "-"
        self.rows.append((date, item.severity, item.kind, item.authenticity.verdict,
                          item.mail.sender.address or "-", item.mail.subject or "-"))

    def skipped(self, item: Skipped) -> None:
        if item.alarm is not None:
            self.alarms.append(item)

    def case(self, outcome: CaseOutcome) -> None:
        self.outcomes.append(outcome)

    def progress(self, done: int, total: int | None) -> None:
        self._progress.update(done, total)

    def finish(self, totals: ScanTotals) -> None:
        out = self.env.stdout
        self._progress.finish()
        if self.rows:
            print(_table(("DATE (JST)", "SEVERITY", "KIND", "AUTH", "FROM", "SUBJECT"), self.rows), file=out)
        else:
            print("No new mail about AWS.", file=out)
        quiet = [o for o in self.outcomes if o.delivery == "skipped"]
        for outcome in self.outcomes:
            if outcome.delivery == "skipped":
                continue
            c = outcome.case
            status = outcome.delivery + (f" ({outcome.reason})" if outcome.reason else "")
            print(f"\ncase {c.case_id}: {c.kind}, {c.severity}, {len(c.keys)} mail(s); summary {status}", file=out)
            if outcome.delivery == "printed" and outcome.summary is not None:
                print("-" * 72, file=out)
                print(outcome.summary.text.rstrip(), file=out)
                print("-" * 72, file=out)
        for alarm in self.alarms:
            print(f"\nunreadable AWS-looking mail {alarm.where}: alarm {alarm.delivery}", file=out)
            if alarm.delivery == "printed" and alarm.alarm is not None:
                print("-" * 72, file=out)
                print(alarm.alarm.text.rstrip(), file=out)
                print("-" * 72, file=out)
        if quiet:
            print(f"\n{len(quiet)} case(s) needed no summary: "
                  + ", ".join(f"{o.case.case_id} ({o.case.kind}: {o.reason})" for o in quiet), file=out)
        print(f"\n{_totals_line(totals)}", file=out)


def _totals_line(t: ScanTotals) -> str:
    parts = [f"{t.read} mail(s) read", f"{t.reported} about AWS"]
    if t.already_seen:
        parts.append(f"{t.already_seen} seen before")
    if t.skipped:
        parts.append(f"{t.skipped} skipped (unreadable or malformed, see the log)")
    if t.defective:
        parts.append(f"{t.defective} read despite defects")
    parts.append(f"{t.cases} case(s)")
    parts.append(f"{t.sent} summary(ies) sent, {t.printed} printed")
    return ", ".join(parts)


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = width * done // total
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """Cut `text` to `width` terminal columns (wide characters count two) and pad it."""
    text = " ".join(text.split())
    if _width(text) > width:
        out, used = "", 0
        for ch in text:
            w = _width(ch)
            if used + w > width - 1:
                break
            out, used = out + ch, used + w
        text = out + "…"
    return text + " " * (width - _width(text))


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    limits = (16, 8, 19, 4, 32, 60)
    widths = [min(limit, max(_width(r[i]) for r in (header, *rows))) for i, limit in enumerate(limits)]
    lines = ["  ".join(_fit(v, w) for v, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]
    return "\n".join(lines)


# --- other commands ---------------------------------------------------------------------------


def _daemon(args: argparse.Namespace, config: Config, env: Environment) -> int:
    import signal
    import threading

    from triage.daemon import run_daemon

    stop, reload_asked = threading.Event(), threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: reload_asked.set())
    logging.getLogger("triage").setLevel(logging.DEBUG if args.debug else logging.INFO)
    options = ScanOptions(no_aws=args.no_aws, no_translate=args.no_translate)
    return run_daemon(config, options, _state_path(args, env), env.environ, stop=stop,
                      reload=lambda: _config(args, env), reload_asked=reload_asked)


def _status(args: argparse.Namespace, config: Config, env: Environment) -> int:
    from triage.classify import load_rules
    from triage.state import holder, open_state
    from triage.status import gather, status_json, status_text

    path = _state_path(args, env)
    kinds = load_rules(paths.rules_dir(env.environ), config.rules.extra).kinds
    with open_state(path, shared=True) as state:
        report = gather(state, holder(path), kinds, config.notify.remind_every_hours)
    if args.json:
        print(json.dumps(status_json(report), ensure_ascii=False), file=env.stdout)
    else:
        print(status_text(report), end="", file=env.stdout)
    return int(ExitStatus.OK)


def _ack(args: argparse.Namespace, config: Config, env: Environment) -> int:
    from triage.state import open_state

    if bool(args.cases) == args.ack_all:
        raise ConfigError("name the cases to acknowledge (see `triage status`), or give --all")
    with open_state(_state_path(args, env), shared=True) as state:
        found = state.acknowledge(None if args.ack_all else list(args.cases))
    missing = [c for c in args.cases if c not in found]
    if missing:
        raise ConfigError(f"no case {', '.join(missing)} in the state (nothing was acknowledged); "
                          f"`triage status` lists the cases")
    for case_id in found:
        print(f"acknowledged {case_id}: no more reminders until a new mail comes for it", file=env.stdout)
    return int(ExitStatus.OK)


def _check_account(args: argparse.Namespace, config: Config, env: Environment) -> int:
    from dataclasses import replace

    from triage.account import SweepLimits, check_account, json_records

    aws = config.aws
    if args.profile:
        aws = replace(aws, profile=args.profile)
    if args.regions:
        aws = replace(aws, regions=_region_codes(args.regions))
    if args.case:
        return _recheck(args, config, aws, env)
    progress = Progress(env, "regions read")
    if args.all_accounts:
        return _check_all_accounts(aws, config, env, progress, as_json=args.json)
    try:
        report = check_account(aws, config.billing, rules_dir=paths.rules_dir(env.environ), limits=SweepLimits(),
                               progress=progress.update)
    finally:
        progress.finish()
    if args.json:
        for record in json_records(report):
            print(json.dumps(record, ensure_ascii=False), file=env.stdout)
    else:
        print(_account_text(report), file=env.stdout)
    # A partial check is not a clean one: cron and scripts must be able to tell them apart.
    return int(ExitStatus.OK if _checked_everything(report) else ExitStatus.PARTIAL_CHECK)


def _recheck(args: argparse.Namespace, config: Config, aws: Any, env: Environment) -> int:
    """check-account --case: check again, compare with the case's last check, and keep this one."""
    from triage.account import AccountsReport, SweepLimits, check_account, check_accounts, json_records
    from triage.account.recheck import AccountsProgress, recheck_scope
    from triage.account.remediation import load_remediation_rules
    from triage.pipeline import remember_check
    from triage.render import load_texts, render_progress
    from triage.state import open_state

    rules_dir = paths.rules_dir(env.environ)
    remediation = load_remediation_rules(rules_dir)
    texts = load_texts(paths.templates_dir(env.environ))
    with open_state(_state_path(args, env)) as state:
        if not state.has_case(args.case):
            raise ConfigError(f"--case {args.case}: no such case in the state {state.where}; "
                              f"run `triage scan` first, or give the state with --state")
        # The accounts the case's last check covered, each compared with its own last state.
        named, organization = recheck_scope(state.last_check(args.case))
        sweep_progress = Progress(env, "regions read")
        start = state.case_first_date(args.case)
        try:
            report: Any = (check_accounts(aws, config.billing, named_accounts=named,
                                          all_accounts=organization and bool(aws.organization_role),
                                          incident_start=start, rules_dir=rules_dir, progress=sweep_progress.update)
                           if named or organization else
                           check_account(aws, config.billing, incident_start=start, rules_dir=rules_dir,
                                         limits=SweepLimits(), progress=sweep_progress.update))
        finally:
            sweep_progress.finish()
        progress = remember_check(state, args.case, report, remediation)
    assert progress is not None
    if args.json:
        records = json_records(report)
        resources = [r for r in records if r["type"] == "resource"]
        compared = progress.records() if isinstance(progress, AccountsProgress) else [progress.record()]
        print("\n".join(json.dumps(r, ensure_ascii=False) for r in
                        [*resources, *compared, *(r for r in records if r["type"] != "resource")]), file=env.stdout)
    else:
        print(_accounts_text(report) if isinstance(report, AccountsReport) else _account_text(report),
              file=env.stdout)
        print(render_progress(progress, texts).rstrip(), file=env.stdout)
    complete = _all_checked(report) if isinstance(report, AccountsReport) else _checked_everything(report)
    return int(ExitStatus.OK if complete else ExitStatus.PARTIAL_CHECK)


def _check_all_accounts(aws: Any, config: Config, env: Environment, progress: Progress, *, as_json: bool) -> int:
    """--all-accounts: every account of the Organization, each with its own tables (or JSON lines)."""
    from triage.account import check_accounts, json_records

    try:
        many = check_accounts(aws, config.billing, all_accounts=True, rules_dir=paths.rules_dir(env.environ),
                              progress=progress.update)
    finally:
        progress.finish()
    if as_json:
        for record in json_records(many):
            print(json.dumps(record, ensure_ascii=False), file=env.stdout)
    else:
        print(_accounts_text(many), file=env.stdout)
    return int(ExitStatus.OK if _all_checked(many) else ExitStatus.PARTIAL_CHECK)


def _accounts_text(many: AccountsReport) -> str:
    from triage.account import AccountReport

    parts = [f"Organization of management account {many.management_account}: {len(many.reports)} accounts"
             if many.management_account else f"{len(many.reports)} AWS accounts"]
    parts += [_account_text(r) if isinstance(r, AccountReport)
              else f"AWS account {r.account_id}: NOT CHECKED: {r.reason}" for r in many.reports]
    return "\n\n".join(parts)


def _all_checked(many: AccountsReport) -> bool:
    """An account that could not be checked, or a gap in one that was, is a partial check."""
    from triage.account import AccountReport

    complete = all(isinstance(r, AccountReport) and _checked_everything(r) for r in many.reports)
    return complete and not many.organization_gap


def _region_codes(text: str) -> tuple[str, ...]:
    import re

    codes = tuple(c.strip() for c in text.split(",") if c.strip())
    for code in codes:
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", code):
            raise ConfigError(f"--regions: {code!r} is not a region code (like ap-northeast-1)")
    if not codes:
        raise ConfigError("--regions needs at least one region code, comma-separated")
    return codes


def _checked_everything(report: AccountReport) -> bool:
    """Every region swept whole, and IAM and cost too: no gap of any kind."""
    return report.every_region_checked and not report.gaps


def _account_text(report: AccountReport) -> str:
    """The human form: the account, one table per region (with its Japanese name), cost, and a closing line
    that says plainly whether every region was checked."""
    from triage.account.records import GLOBAL

    out = [
        f"AWS account {report.account_id}, checked read-only as {report.caller_arn} "
        f"at {report.checked_at:%Y-%m-%d %H:%M} UTC ({report.seconds:.1f} s)",
    ]
    if report.root is None:
        out.append("Root user: MFA and access keys could not be checked")
    else:
        out.append(f"Root user: MFA {'on' if report.root.mfa else 'OFF (!)'}, "
                   f"access keys {'PRESENT (!)' if report.root.access_keys else 'none'}")
    header = ("TYPE", "ID", "NAME", "STATE", "DETAIL", "CREATED", "SUSPICIOUS BECAUSE")
    for view in report.by_region:
        out.append("")
        out.append(f"{view.code}  {view.name.full}  - {view.count} found, {view.suspicious} suspicious, "
                   f"about {view.hourly_usd:,.2f} USD/hour")
        rows = [_resource_row(r) for r in report.in_region(view.code)]
        if rows:
            out.append(_account_table(header, rows))
        for gap in view.gaps:
            out.append(f"  NOT CHECKED: {gap.reason}")
    global_rows = [_resource_row(r) for r in report.in_region(GLOBAL)]
    if global_rows:
        out.append("")
        out.append("global  IAM and account-wide")
        out.append(_account_table(header, global_rows))
    if report.empty_regions:
        out.append("")
        out.append("Checked, nothing found: " + ", ".join(f"{n.code} {n.name}" for n in report.empty_regions))
    out.append("")
    out.append(_cost_line(report))
    problems = [f"  {g.region} {g.service}: {g.reason}" for g in report.gaps
                if g.region == GLOBAL or g.region not in report.regions_skipped]
    skipped = report.regions_skipped
    if skipped:
        out.append("Regions not checked:")
        out += [f"  {code} {report.region_name(code).name}: {reason}"
                + (f" (Cost Explorer: {report.unswept_spend[code]:,.2f} USD spent there this month)"
                   if code in report.unswept_spend else "")
                for code, reason in skipped.items()]
    if problems:
        out.append("Parts not checked:")
        out += problems
    out.append("")
    out.append(_closing_line(report))
    return "\n".join(out)


def _resource_row(r: Resource) -> tuple[str, ...]:
    created = r.created.strftime("%Y-%m-%d %H:%M") if r.created else "-"
    return (r.resource_type, r.id, r.name or "-", r.state or "-", _detail_cell(r), created,
            ", ".join(r.reasons) if r.suspicious else "-")


def _detail_cell(r: Resource) -> str:
    d = r.detail
    if d.get("instance_type"):
        return str(d["instance_type"])
    if d.get("size_gb"):
        return f"{d['size_gb']} GB"
    if r.resource_type == "security-group":
        return "open: " + ",".join(d.get("open_to_internet") or ["-"])
    if r.resource_type == "access-key":
        return f"user {d.get('user')}"
    if r.resource_type == "iam-user":
        return "admin" if d.get("admin") else "-"
    return "-"


def _account_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    limits = (20, 28, 20, 12, 18, 16, 70)
    widths = [min(limit, max(_width(r[i]) for r in (header, *rows))) for i, limit in enumerate(limits)]
    lines = ["  " + "  ".join(_fit(v, w) for v, w in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    return "\n".join(lines)


def _cost_line(report: AccountReport) -> str:
    rate = report.jpy_per_usd
    parts = []
    if report.cost is not None:
        final = " so far, not final" if report.cost.estimated else ""
        total = report.cost.total_usd
        parts.append(f"month to date {total:,.2f} USD (~{total * rate:,.0f} JPY{final})")
    else:
        parts.append("month to date: not known")
    if report.forecast_usd is not None:
        parts.append(f"AWS forecast for the month {report.forecast_usd:,.2f} USD")
    parts.append(f"running now ~{report.burn.hourly_usd:,.2f} USD/hour (~{report.burn.hourly_usd * rate:,.0f} JPY; "
                 f"triage's estimate at list prices)")
    return "Cost: " + "; ".join(parts)


def _closing_line(report: AccountReport) -> str:
    swept = len(report.regions_swept)
    if _checked_everything(report):
        return f"Every region was checked ({swept} regions), and IAM and cost too: nothing was left out."
    if report.every_region_checked:
        return (f"Every region was checked ({swept} regions); {len(report.global_gaps)} account-wide part(s) "
                f"could not be checked (listed above).")
    skipped = report.regions_skipped
    partial = sorted({g.region for g in report.regional_gaps})
    parts = []
    if skipped:
        parts.append(f"{len(skipped)} region(s) were not checked ({', '.join(skipped)})")
    if partial:
        parts.append(f"{len(partial)} region(s) were checked only in part ({', '.join(partial)})")
    if report.global_gaps:
        parts.append(f"{len(report.global_gaps)} account-wide part(s) could not be checked")
    return f"NOT everything was checked: {'; '.join(parts)}. {swept} region(s) were swept."


def _explain(args: argparse.Namespace, config: Config, env: Environment) -> int:
    from triage.explain import explain_file
    from triage.state import read_known_accounts

    known = tuple(read_known_accounts(_state_path(args, env)))
    explanations = explain_file(args.file, config, rules_dir=paths.rules_dir(env.environ), offline=args.offline,
                                known=known)
    print("\n\n".join(_explanation_text(e) for e in explanations), file=env.stdout)
    return int(ExitStatus.OK)


def _forward_lines(e: Any) -> list[str]:
    """A forward: unwrapped by whom and how (the lines below are then the original's), or why not."""
    if e.refused:
        return [f"forward:       not unwrapped: {e.refused}"]
    f = e.forward
    if f is None:
        return []
    how = f"attached ({f.client})" if f.how == "attachment" else f"inline ({f.client} block)"
    note = "" if f.verifiable else "; the original cannot be verified"
    return [f"forwarded by:  {f.forwarder} (authenticated), unwrapped: {how}{note}",
            "original:      (everything below is about the forwarded original)"]


def _explanation_text(e: Any) -> str:
    """The verdict with its reasons, every matched rule (the chosen one marked), the signals, the entities."""
    c = e.classification
    lines = [
        f"file:          {e.path}",
        *_forward_lines(e),
        f"from:          {e.mail.sender}",
        f"subject:       {e.mail.subject}",
        f"date:          {e.mail.date.isoformat() if e.mail.date else '-'}",
        f"authenticity:  {e.authenticity.verdict}",
    ]
    lines += [f"  - {r}" for r in e.authenticity.reasons]
    lines.append(f"kind:          {c.kind} ({c.severity})")
    lines.append(f"rule:          {c.rule}" + (f"  [text: {c.text}]" if c.text != c.kind else ""))
    rules = {r.name: r for r in e.matched_rules}
    if c.matched:
        lines.append("matched rules: (the first was chosen)")
        for i, name in enumerate(c.matched):
            rule = rules.get(name)
            detail = f"{rule.kind}, {rule.severity}" + (f", priority {rule.priority}" if rule.priority else "") \
                if rule else ""
            where = f"  {rule.source}" if rule and rule.source else ""
            lines.append(f"  {'*' if i == 0 else ' '} {name}" + (f" ({detail})" if detail else "") + where)
    else:
        lines.append("matched rules: none (kind other)")
    if c.evidence:
        lines.append("signals:")
        lines += [f"  - {s}" for s in c.evidence]
    lines.append("owner's accounts:" + ("" if e.owner_accounts else " none known yet"))
    lines += [f"  - {account}: {where}" for account, where in e.owner_accounts]
    found = [(name, values) for name, values in e.entities.items() if values]
    if found:
        lines.append("entities:")
        for name, values in found:
            lines.append(f"  {name + ':':<16}{', '.join(str(v) for v in values)}")
    if e.mail.defects:
        lines.append("defects:       " + "; ".join(e.mail.defects))
    return "\n".join(lines)
