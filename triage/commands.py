"""The commands: each takes the parsed options, calls the pipeline or the account check, and hands its text
to the output functions cli.py gives it; it returns the exit status (a member of `ExitStatus`).

A command never prints: `Streams` carries the functions that do. The heavy parts (the pipeline, boto3,
jinja2) are imported inside the command that uses them, so a command loads only what it runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from triage import paths
from triage.config import Config, load_config
from triage.dataset import check_dataset
from triage.errors import ConfigError, ExitStatus, SourceError, SourceLostError
from triage.reporters import ProgressLine, Write

if TYPE_CHECKING:
    from triage.account.report import AccountReport, AccountsReport
    from triage.config import AwsSettings
    from triage.terminal import TerminalText


@dataclass(frozen=True)
class Streams:
    """Where a command's output goes, as functions cli.py gives (only the CLI prints)."""

    environ: Mapping[str, str]
    out: Write  # a text to stdout; a newline follows it
    err: Write  # a line to stderr
    redraw: Write | None  # the progress line on stderr; None when stderr is not a terminal


def run(args: argparse.Namespace, streams: Streams) -> int:
    config = load_config_for(args, streams.environ)
    if args.command not in ("status", "ack"):  # these read the state only
        from triage.terminal import TEMPLATES

        # The terminal's templates too: before a scan sends anything, not when it prints its table.
        env = streams.environ
        check_dataset(paths.rules_dir(env), paths.templates_dir(env), config.rules.extra, entries=TEMPLATES,
                      cache_dir=paths.cache_dir(env))
    return COMMANDS[args.command](args, config, streams)


def load_config_for(args: argparse.Namespace, environ: Mapping[str, str]) -> Config:
    explicit = args.config is not None
    path = args.config if explicit else paths.default_config_path(environ)
    return load_config(path, explicit=explicit)


def _state_path(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    return str(args.state or paths.default_state_path(environ))


def _terminal(streams: Streams) -> TerminalText:
    from triage.terminal import TerminalText

    return TerminalText(paths.templates_dir(streams.environ))


def scan(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    from triage.pipeline import ScanOptions, lazy_context
    from triage.pipeline import scan as scan_mail
    from triage.reporters import JsonReporter, TableReporter
    from triage.services import services_from_config
    from triage.sources import open_source
    from triage.state import open_state

    env = streams.environ
    options = ScanOptions(all_mail=args.all_mail, no_aws=args.no_aws, no_translate=args.no_translate,
                          no_send=args.no_send, offline=args.offline)
    rules_dir = paths.rules_dir(env)
    source = open_source(args.source, config.imap, max_bytes=config.mail.max_bytes, rules_dir=rules_dir,
                         env=env, forwarders=config.notify.allowed_forwarders, since=args.since)
    progress = ProgressLine(streams.redraw, "mails read")
    reporter = (JsonReporter(streams.out, progress) if args.json
                else TableReporter(streams.out, progress, _terminal(streams)))
    with open_state(_state_path(args, env)) as state:
        # Built inside: the translation stage keeps its cache and glossary id in the state. The rules and
        # texts are loaded once there is mail to read (run() checked them whole): a scan with nothing new
        # neither compiles a rule nor imports the stages.
        services = services_from_config(config, options, env, state=state)
        ctx = lazy_context(config, rules_dir, paths.templates_dir(env), options, services)
        try:
            totals = scan_mail(ctx, source, state, reporter)
        except SourceLostError as exc:
            raise SourceLostError(_scan_again(exc)) from None
    reporter.finish(totals)
    problem = _scan_again(totals.interrupted) if totals.interrupted else (totals.errors[0] if totals.errors else "")
    if problem:
        streams.err(f"triage: {problem}")
        return int(ExitStatus.BAD_INPUT)
    return int(ExitStatus.OK)


def _scan_again(exc: SourceError) -> str:
    """A scan cut short by a lost connection ends; running it again goes on where it stopped. (The daemon
    reconnects by itself, and says so instead.)"""
    return f"{exc}, run the scan again" if isinstance(exc, SourceLostError) else str(exc)


def daemon(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    import signal
    import threading

    from triage.daemon import run_daemon
    from triage.pipeline import ScanOptions

    stop, reload_asked = threading.Event(), threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: reload_asked.set())
    logging.getLogger("triage").setLevel(logging.DEBUG if args.debug else logging.INFO)
    options = ScanOptions(no_aws=args.no_aws, no_translate=args.no_translate)
    return run_daemon(config, options, _state_path(args, streams.environ), streams.environ, stop=stop,
                      reload=lambda: load_config_for(args, streams.environ), reload_asked=reload_asked)


def status(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    from triage.classify import load_rules
    from triage.render import check_templates
    from triage.state import holder, open_state
    from triage.status import gather, status_json

    path = _state_path(args, streams.environ)
    kinds = load_rules(paths.rules_dir(streams.environ), config.rules.extra).kinds
    if not args.json:  # its one template, before the state is opened
        check_templates(paths.templates_dir(streams.environ), ("terminal_status.txt.j2",))
    with open_state(path, shared=True) as state:
        report = gather(state, holder(path), kinds, config.notify.remind_every_hours)
    streams.out(json.dumps(status_json(report), ensure_ascii=False) if args.json
                else _terminal(streams).status(report))
    return int(ExitStatus.OK)


def ack(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    from triage.state import open_state

    if bool(args.cases) == args.ack_all:
        raise ConfigError("name the cases to acknowledge (see `triage status`), or give --all")
    with open_state(_state_path(args, streams.environ), shared=True) as state:
        found = state.acknowledge(None if args.ack_all else list(args.cases))
    missing = [c for c in args.cases if c not in found]
    if missing:
        raise ConfigError(f"no case {', '.join(missing)} in the state (nothing was acknowledged); "
                          f"`triage status` lists the cases")
    for case_id in found:
        streams.out(f"acknowledged {case_id}: no more reminders until a new mail comes for it")
    return int(ExitStatus.OK)


def check_account(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    from triage.account import SweepLimits, json_records
    from triage.account import check_account as check

    aws = config.aws
    if args.profile:
        aws = replace(aws, profile=args.profile)
    if args.regions:
        aws = replace(aws, regions=region_codes(args.regions))
    if args.case:
        return _recheck(args, config, aws, streams)
    progress = ProgressLine(streams.redraw, "regions read")
    if args.all_accounts:
        return _check_all_accounts(aws, config, streams, progress, as_json=args.json)
    try:
        report = check(aws, config.billing, rules_dir=paths.rules_dir(streams.environ), limits=SweepLimits(),
                       progress=progress.update)
    finally:
        progress.finish()
    if args.json:
        for record in json_records(report):
            streams.out(json.dumps(record, ensure_ascii=False))
    else:
        streams.out(_terminal(streams).account(report, complete=checked_everything(report)))
    # A partial check is not a clean one: cron and scripts must be able to tell them apart.
    return int(ExitStatus.OK if checked_everything(report) else ExitStatus.PARTIAL_CHECK)


def _recheck(args: argparse.Namespace, config: Config, aws: AwsSettings, streams: Streams) -> int:
    """check-account --case: check again, compare with the case's last check, and keep this one. A case
    whose last check covered several accounts is checked on those again, each compared with its own."""
    from triage.account import AccountsReport, SweepLimits, check_account, check_accounts, json_records
    from triage.account.recheck import AccountsProgress, recheck_scope
    from triage.account.remediation import load_remediation_rules
    from triage.render import load_texts, render_progress
    from triage.stages import remember_check
    from triage.state import open_state

    rules_dir = paths.rules_dir(streams.environ)
    remediation = load_remediation_rules(rules_dir)
    texts = load_texts(paths.templates_dir(streams.environ))
    with open_state(_state_path(args, streams.environ)) as state:
        if not state.has_case(args.case):
            raise ConfigError(f"--case {args.case}: no such case in the state {state.where}; "
                              f"run `triage scan` first, or give the state with --state")
        named, organization = recheck_scope(state.last_check(args.case))
        sweep_progress = ProgressLine(streams.redraw, "regions read")
        start = state.case_first_date(args.case)
        try:
            report: AccountReport | AccountsReport = (
                check_accounts(aws, config.billing, named_accounts=named,
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
        streams.out("\n".join(json.dumps(r, ensure_ascii=False) for r in
                              [*resources, *compared, *(r for r in records if r["type"] != "resource")]))
        complete = _complete(report)
    elif isinstance(report, AccountsReport):
        complete = _complete(report)
        streams.out(_terminal(streams).accounts(report.management_account, _per_account(report)))
    else:
        complete = checked_everything(report)
        streams.out(_terminal(streams).account(report, complete=complete))
    if not args.json:
        streams.out(render_progress(progress, texts).rstrip())
    return int(ExitStatus.OK if complete else ExitStatus.PARTIAL_CHECK)


def _check_all_accounts(aws: AwsSettings, config: Config, streams: Streams, progress: ProgressLine, *,
                        as_json: bool) -> int:
    """--all-accounts: every account of the Organization, each with its own tables (or JSON lines)."""
    from triage.account import check_accounts, json_records

    try:
        many = check_accounts(aws, config.billing, all_accounts=True, rules_dir=paths.rules_dir(streams.environ),
                              progress=progress.update)
    finally:
        progress.finish()
    if as_json:
        for record in json_records(many):
            streams.out(json.dumps(record, ensure_ascii=False))
    else:
        streams.out(_terminal(streams).accounts(many.management_account, _per_account(many)))
    return int(ExitStatus.OK if _complete(many) else ExitStatus.PARTIAL_CHECK)


def _per_account(many: AccountsReport) -> list[tuple[Any, bool | None]]:
    """Each report with whether it is complete; None for an account that could not be checked."""
    from triage.account import AccountReport

    return [(r, checked_everything(r) if isinstance(r, AccountReport) else None) for r in many.reports]


def _complete(report: AccountReport | AccountsReport) -> bool:
    """Every account checked and nothing left out: an account not reached, or a gap in one, is partial."""
    from triage.account import AccountsReport

    if not isinstance(report, AccountsReport):
        return checked_everything(report)
    return all(c for _, c in _per_account(report)) and not report.organization_gap


def region_codes(text: str) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in text.split(",") if c.strip())
    for code in codes:
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", code):
            raise ConfigError(f"--regions: {code!r} is not a region code (like ap-northeast-1)")
    if not codes:
        raise ConfigError("--regions needs at least one region code, comma-separated")
    return codes


def checked_everything(report: AccountReport) -> bool:
    """Every region swept whole, and IAM and cost too: no gap of any kind."""
    return report.every_region_checked and not report.gaps


def explain(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    from triage.explain import explain_file
    from triage.state import read_known_accounts

    known = tuple(read_known_accounts(_state_path(args, streams.environ)))
    explanations = explain_file(args.file, config, rules_dir=paths.rules_dir(streams.environ), offline=args.offline,
                                known=known)
    text = _terminal(streams)
    streams.out("\n\n".join(text.explanation(e) for e in explanations))
    return int(ExitStatus.OK)


COMMANDS: Mapping[str, Callable[[argparse.Namespace, Config, Streams], int]] = {
    "scan": scan, "daemon": daemon, "status": status, "ack": ack, "check-account": check_account, "explain": explain,
}
