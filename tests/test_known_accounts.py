"""The owner's accounts, learned instead of demanded: the account check's credentials and authenticated AWS
mail teach them, the state keeps them, `explain` says where each came from, and [aws] account_ids wins."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

from tests.aws_server import AwsProxy, aws_environment, json_reply
from tests.scanning import run
from triage import paths
from triage.cli import Environment, main
from triage.config import AwsSettings, Config
from triage.pipeline import ScanOptions
from triage.services import services_from_config
from triage.sources import open_source
from triage.sources.files import open_path
from triage.state import MIGRATIONS, open_state, read_known_accounts

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
ALERT = CORPUS / "ho13-15-sns-budgets-actual-exceeded.eml"  # SNS topic and body: account 604718293551
ACCOUNT = "604718293551"


def statement_for(account: str, tmp_path: Path, *, authenticated: bool = True) -> Path:
    """A genuine AWS billing statement (from the corpus) for `account`."""
    raw = (CORPUS / "statement-low-amount.eml").read_bytes().replace(b"482915730264", account.encode())
    if not authenticated:
        raw = b"\n".join(line for line in raw.split(b"\n") if not line.startswith(b"Authentication-Results"))
    path = tmp_path / f"statement-{account}-{authenticated}.eml"
    path.write_bytes(raw)
    return path


def kinds(path: Path, state_file: Path, config: Config | None = None) -> list[str]:
    with open_state(state_file) as state:
        got, _ = run(open_path(path), state, config=config, options=ScanOptions(offline=True, all_mail=True))
    return [str(m["kind"]) for m in got.messages]


def test_an_sns_alert_from_an_account_never_seen_speaking_as_aws_is_phishing(tmp_path):
    assert kinds(ALERT, tmp_path / "state.db") == ["phishing"]


def test_the_owners_topic_is_trusted_once_aws_own_mail_named_its_account(tmp_path):
    state_file = tmp_path / "state.db"
    assert kinds(statement_for(ACCOUNT, tmp_path), state_file) == ["billing-statement"]
    assert kinds(ALERT, state_file) == ["billing-alert"]  # a later scan: the state remembers
    [known] = read_known_accounts(state_file)
    assert (known.account_id, known.source) == (ACCOUNT, "mail")
    assert "billing-statement mail from invoicing@aws.com, 2026-03-03" in known.detail


def test_configured_account_ids_win_over_what_was_learned(tmp_path):
    state_file = tmp_path / "state.db"
    kinds(statement_for(ACCOUNT, tmp_path), state_file)
    config = Config(aws=AwsSettings(account_ids=("111122223333",)))
    assert kinds(ALERT, state_file, config) == ["phishing"]


def test_unauthenticated_mail_and_sns_mail_teach_nothing(tmp_path):
    state_file = tmp_path / "state.db"
    kinds(statement_for(ACCOUNT, tmp_path, authenticated=False), state_file)
    kinds(ALERT, state_file)  # names its own account in the body: anyone's topic can
    assert read_known_accounts(state_file) == []
    assert kinds(ALERT, state_file) == ["phishing"]


def test_the_account_checks_credentials_are_remembered(moto_server: Any, tmp_path):
    proxy = AwsProxy(moto_server.url, canned={"lightsail:GetInstances": lambda c: json_reply({"instances": []})})
    config = Config(aws=AwsSettings(regions=("us-east-1",), home_regions=("us-east-1",)))
    options = ScanOptions(no_send=True, no_translate=True)
    source = open_source(str(ROOT / "examples" / "inbox.mbox"), None, max_bytes=config.mail.max_bytes,
                         rules_dir=paths.rules_dir(), env={})
    try:
        with aws_environment(proxy.url), open_state(tmp_path / "state.db") as state:
            services = services_from_config(config, options, {}, state=state)
            run(source, state, config=config, options=options, services=services)
            learned = {(k.account_id, k.source): k.detail for k in state.known_accounts()}
    finally:
        proxy.stop()
    assert learned[("123456789012", "sts")].startswith("arn:aws:")


def test_explain_says_where_each_known_account_came_from(tmp_path):
    state_file = tmp_path / "state.db"
    kinds(statement_for(ACCOUNT, tmp_path), state_file)
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={"XDG_CONFIG_HOME": str(tmp_path)})
    with open_state(state_file):  # a running daemon holds the state: explain still reads it
        status = main(["explain", str(ALERT), "--offline", "--state", str(state_file)], env)
    assert status == 0, err.getvalue()
    text = out.getvalue()
    assert "kind:          billing-alert (high)" in text
    assert f"sns-owned-topic: topic account {ACCOUNT} is a known account of the owner (learned from" in text
    assert f"  - {ACCOUNT}: learned from billing-statement mail from" in text


def test_explain_without_a_state_says_no_account_is_known_and_calls_the_alert_phishing(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert main(["explain", str(ALERT), "--offline", "--state", str(tmp_path / "none.db")], env) == 0
    assert "owner's accounts: none known yet" in out.getvalue()
    assert "kind:          phishing (high)" in out.getvalue()
    assert not (tmp_path / "none.db").exists()  # explain creates no state


def test_a_state_of_the_previous_schema_gains_the_table_and_keeps_its_data(tmp_path):
    state_file = tmp_path / "state.db"
    db = sqlite3.connect(state_file)
    for script in MIGRATIONS[:2]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO cache VALUES ('translation', 'k', 'v', '2026-01-01')")
    db.commit()
    db.close()
    assert read_known_accounts(state_file) == []  # an old state: nothing known, nothing changed
    with open_state(state_file) as state:
        assert state.cache_get("translation", "k") == "v"
        state.remember_account(ACCOUNT, "mail", "a statement")
        state.remember_account(ACCOUNT, "mail", "a later statement")  # the first detail is kept
    [known] = read_known_accounts(state_file)
    assert (known.account_id, known.detail) == (ACCOUNT, "a statement")
