"""The kinds table (rules/kinds.toml): DESIGN.md's vocabulary, checked at load with one-line errors, and the
one place that decides what a kind's mail goes through — a change to a copy of the table changes what the
pipeline does, and a user's rules file can change a kind's severity."""

from __future__ import annotations

import io
import re
import shutil
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import mails
from tests.scanning import run
from tests.translate_helpers import FIXTURES, stage
from triage.authenticate import authenticate
from triage.cases import Case, ClassifiedMail, group_cases
from triage.classify import classify, load_rules
from triage.cli import Environment, main
from triage.config import DEFAULT_TRUSTED_AUTHSERV_IDS, Config, RulesSettings
from triage.daemon import reminder_due
from triage.errors import RulesError
from triage.mail import Origin, RawMail
from triage.parse import parse_mail
from triage.pipeline import ScanOptions, Services
from triage.sources.files import open_path
from triage.state import SentSummary, open_state

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
CORPUS = ROOT / "tests" / "corpus"
SHIPPED = load_rules(RULES)
OFFLINE = ScanOptions(offline=True)

# DESIGN.md, "Mail kinds": the vocabulary and its default severities, in its order.
DESIGN = [
    ("compromised-account", "critical"), ("exposed-credentials", "critical"), ("abuse-report", "critical"),
    ("account-suspension", "critical"), ("account-change", "high"), ("billing-alert", "high"),
    ("security-finding", "high"), ("phishing", "high"), ("support-case-update", "medium"),
    ("billing-statement", "low"), ("health-event", "low"), ("marketing", "info"), ("other", "info"),
]


def rules_copy(tmp_path: Path, kind: str, **fields: object) -> Path:
    """A copy of the shipped rules/ whose kinds table has `fields` changed for `kind`."""
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy)
    path = copy / "kinds.toml"
    head, marker, rest = path.read_text(encoding="utf-8").partition(f"\n[kind.{kind}]")
    block, next_marker, tail = rest.partition("\n[kind.")
    for name, value in fields.items():
        toml = ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
        block, n = re.subn(rf"^{name} = .*$", f"{name} = {toml}", block, flags=re.M)
        assert n == 1, f"{kind} has no {name}"
    path.write_text(head + marker + block + next_marker + tail, encoding="utf-8")
    return copy


def scan_mails(tmp_path: Path, raw: list[bytes], *, rules_dir: Path = RULES, config: Config | None = None,
               services: Services | None = None, options: ScanOptions = OFFLINE) -> list[Case]:
    folder = mails.write_eml_folder(tmp_path / f"in-{len(list(tmp_path.iterdir()))}", raw)
    with open_state(":memory:") as state:
        got, _ = run(open_path(folder), state, config=config, options=options, services=services,
                     rules_dir=rules_dir)
    return [o.case for o in got.cases]


def summary_of(corpus_mail: str, rules_dir: Path) -> tuple[str, str]:
    with open_state(":memory:") as state:
        got, _ = run(open_path(CORPUS / corpus_mail), state, options=ScanOptions(offline=True), rules_dir=rules_dir)
    [outcome] = got.cases
    assert outcome.summary is not None
    return outcome.summary.text, outcome.summary.reply


# --- the shipped table -------------------------------------------------------------------------------


def test_the_table_is_designs_vocabulary_in_its_order():
    assert [(k.name, k.severity) for k in SHIPPED.kinds.table] == DESIGN


def test_every_kind_has_its_japanese_texts():
    texts = tomllib.loads((ROOT / "templates" / "texts.toml").read_text(encoding="utf-8"))["kind"]
    assert {k.text for k in SHIPPED.kinds.table} - set(texts) == set()


# --- the table drives the pipeline ---------------------------------------------------------------------


def test_reply_in_the_table_decides_the_reply_draft(tmp_path):
    text, reply = summary_of("compromise-re-case-action-required.eml", RULES)
    assert reply.startswith("Hello AWS Support") and "■ AWS への返信文（英語）" in text
    text, reply = summary_of("compromise-re-case-action-required.eml",
                             rules_copy(tmp_path, "compromised-account", reply=False))
    assert reply == "" and "■ AWS への返信文（英語）" not in text


def test_translated_in_the_table_decides_what_goes_to_deepl(deepl_server, tmp_path):
    def case_with(rules_dir: Path, name: str) -> Case:
        path = FIXTURES / name
        mail = parse_mail(RawMail(path.read_bytes(), Origin("eml", str(path))))
        auth = authenticate(mail, trusted_authserv_ids=DEFAULT_TRUSTED_AUTHSERV_IDS, offline=True)
        rules = load_rules(rules_dir)
        [case] = group_cases([ClassifiedMail(mail, auth, classify(mail, auth, rules))], rules.kinds)
        return case

    with open_state(":memory:") as state:
        translate = stage(deepl_server, state)
        assert translate(case_with(RULES, "09-marketing.eml")) is None
        assert deepl_server.translate_requests() == []
        marketing = translate(case_with(rules_copy(tmp_path / "a", "marketing", translated=True), "09-marketing.eml"))
        assert marketing is not None and marketing.mails[0].status == "translated"
        sent = len(deepl_server.translate_requests())
        assert sent > 0
        kept_out = rules_copy(tmp_path / "b", "compromised-account", translated=False)
        assert translate(case_with(kept_out, "01-compromised-account.eml")) is None
        assert len(deepl_server.translate_requests()) == sent


def test_reminded_in_the_table_decides_the_reminders(tmp_path):
    now = datetime(2026, 11, 20, tzinfo=UTC)

    def due(kind: str, severity: str, rules_dir: Path) -> bool:
        sent = SentSummary("c", kind, severity, "s", "t", now - timedelta(days=1), now - timedelta(hours=13),
                           now - timedelta(days=1))
        return reminder_due(sent, now, 12, load_rules(rules_dir).kinds)

    assert due("compromised-account", "critical", RULES)
    assert not due("compromised-account", "critical", rules_copy(tmp_path / "a", "compromised-account",
                                                                  reminded=False))
    assert not due("billing-alert", "critical", RULES)
    assert due("billing-alert", "critical", rules_copy(tmp_path / "b", "billing-alert", reminded=True))
    assert not due("billing-alert", "high", rules_copy(tmp_path / "c", "billing-alert", reminded=True))
    assert not due("no-longer-a-kind", "critical", RULES)


def test_joins_case_in_the_table_decides_who_joins_a_support_case(tmp_path):
    thread = [mails.compromise_notice(1), mails.compromise_notice(2)]
    assert [c.case_id for c in scan_mails(tmp_path, thread)] == ["17100200301"]
    apart = scan_mails(tmp_path, thread, rules_dir=rules_copy(tmp_path / "r", "compromised-account",
                                                             joins_case=False))
    assert len(apart) == 2 and all(c.case_id.startswith("mail-") for c in apart)


def test_check_account_in_the_table_decides_which_cases_are_checked(tmp_path):
    checked: list[str] = []
    services = Services(check_account=lambda case: checked.append(case.kind))
    checking = ScanOptions(no_send=True, no_translate=True)
    scan_mails(tmp_path, [mails.budget_alert()], services=services, options=checking)
    assert checked == ["billing-alert"]
    checked.clear()
    quiet = rules_copy(tmp_path / "r", "billing-alert", security=False, check_account=False)
    [case] = scan_mails(tmp_path, [mails.budget_alert()], rules_dir=quiet, services=services, options=checking)
    assert checked == [] and case.kind == "billing-alert"


def test_a_users_rules_file_can_change_a_kinds_severity(tmp_path):
    health = (CORPUS / "health-certificate-expiry.eml").read_bytes()
    [case] = scan_mails(tmp_path, [health])
    assert (case.kind, case.severity) == ("health-event", "low")
    mine = tmp_path / "mine.toml"
    mine.write_text('[kind.health-event]\nseverity = "medium"\n', encoding="utf-8")
    config = Config(rules=RulesSettings(extra=(mine,)))
    [case] = scan_mails(tmp_path, [health], config=config)
    assert (case.kind, case.severity) == ("health-event", "medium")
    assert load_rules(RULES, (mine,)).kinds["health-event"].translated  # the other fields stay


# --- mistakes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "fields", "message"), [
    ("health-event", {"translated": "yes"}, "[kind.health-event]: translated must be true or false"),
    ("marketing", {"severity": "urgent"}, "[kind.marketing]: severity 'urgent' is not one of"),
    ("phishing", {"text": "Not A Key"}, "[kind.phishing]: text must be a key"),
    ("health-event", {"check_account": True}, "[kind.health-event]: check_account needs security = true"),
])
def test_a_bad_table_is_a_one_line_error_naming_file_and_kind(tmp_path, kind, fields, message):
    copy = rules_copy(tmp_path, kind, **fields)
    with pytest.raises(RulesError) as caught:
        load_rules(copy)
    assert message in str(caught.value) and str(copy / "kinds.toml") in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace('reply = false\n', '', 1), "[kind.account-suspension] needs 'reply'"),
    (lambda t: t.replace('reply = false\n', 'replies = false\n', 1), "has unknown key 'replies'"),
    (lambda t: t.replace('[kind.other]', '[kind.unrelated]'), "[kind.other] is missing"),
    (lambda t: t + '\n[settings]\nx = 1\n', "unknown top-level key 'settings'"),
    (lambda t: t.replace('[kind.other]', '[kind.other\n'), "is not valid TOML"),
])
def test_a_broken_table_is_a_one_line_error(tmp_path, edit, message):
    copy = rules_copy(tmp_path, "other")
    path = copy / "kinds.toml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(copy)
    assert message in str(caught.value) and str(path) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ('[kind.urgent-thing]\nseverity = "high"\n', "[kind.urgent-thing] is not a kind (known: compromised-account"),
    ('[kind.health-event]\nseverty = "high"\n', "[kind.health-event] has unknown key 'severty'"),
    ('[kind.health-event]\nreminded = 1\n', "[kind.health-event]: reminded must be true or false"),
    ('kind = "health-event"\n', "`kind` must be tables"),
])
def test_a_bad_change_in_a_users_file_is_a_one_line_error(tmp_path, text, message):
    mine = tmp_path / "mine.toml"
    mine.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(RULES, (mine,))
    assert message in str(caught.value) and str(mine) in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_kinds_table_stops_the_scan_with_exit_2(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(RULES, data / "rules")
    shutil.copytree(ROOT / "templates", data / "templates")
    (data / "rules" / "kinds.toml").unlink()
    out, err = io.StringIO(), io.StringIO()
    code = main(["scan", "--source", str(CORPUS / "health-certificate-expiry.eml"), "--offline", "--state", ":memory:"],
                Environment(stdout=out, stderr=err, environ={"TRIAGE_DATA_DIR": str(data)}))
    assert code == 2
    assert err.getvalue().count("\n") == 1 and str(data / "rules" / "kinds.toml") in err.getvalue()
