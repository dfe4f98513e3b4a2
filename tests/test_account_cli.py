"""`triage check-account` as a user meets it when the check cannot start or must stop: one line on
stderr and the exit status of DESIGN (2: the user can fix it; 1: a refused AWS call, a bug)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tests.aws_server import aws_environment
from triage.cli import Environment, main
from triage.errors import RefusedAwsCall


def _check_account_command(*args: str, **env: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with aws_environment("http://127.0.0.1:9", **env):
        status = main(["check-account", *args], Environment(stdout=out, stderr=err, environ={}))
    return status, out.getvalue(), err.getvalue()


def test_no_credentials_is_one_line_and_status_2() -> None:
    status, out, err = _check_account_command(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="")
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("triage: no AWS credentials found")


def test_an_unknown_profile_is_one_line_and_status_2(tmp_path: Path) -> None:
    config = tmp_path / "aws-config"
    config.write_text("[profile real]\nregion = us-east-1\n")
    status, _, err = _check_account_command("--profile", "typo", AWS_CONFIG_FILE=str(config))
    assert status == 2
    assert err.strip() == ("triage: AWS profile 'typo' is not in your AWS config files; "
                           "check [aws] profile or --profile")


def test_bad_region_codes_are_refused() -> None:
    status, _, err = _check_account_command("--regions", "tokyo")
    assert status == 2 and "'tokyo' is not a region code" in err


def test_a_refused_call_fails_the_command_with_status_1(monkeypatch: pytest.MonkeyPatch) -> None:
    import triage.account

    def write(*args: Any, **kwargs: Any) -> Any:
        raise RefusedAwsCall("refused the AWS call ec2:TerminateInstances: triage only reads the account")

    monkeypatch.setattr(triage.account, "check_account", write)
    err = io.StringIO()
    status = main(["check-account"], Environment(stdout=io.StringIO(), stderr=err, environ={}))
    assert status == 1
    assert err.getvalue().splitlines() == [
        "triage: refused the AWS call ec2:TerminateInstances: triage only reads the account"]
