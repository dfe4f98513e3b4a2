"""Re-check on moto's real server: `triage scan` checks the account for the case and keeps the check;
the owner removes part of what was found; `triage check-account --case` says what is gone, what is left
(with ids) and whether everything is done."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_server import AwsProxy, Fault, aws_environment, quiet_account_replies
from triage.cli import Environment, main

INBOX = Path(__file__).resolve().parent.parent / "examples" / "inbox.mbox"
CASE = "17100200301"
AMI = "ami-12c6146b"
REGIONS = ("ap-south-1", "us-east-1")


@pytest.fixture()
def account(moto_server: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    moto_server.reset()
    made: dict[str, Any] = {}
    with aws_environment(moto_server.url):
        for region, count in zip(REGIONS, (10, 4), strict=True):
            answer = boto3.client("ec2", region_name=region).run_instances(
                ImageId=AMI, MinCount=count, MaxCount=count, InstanceType="c5.4xlarge")
            made[region] = sorted(i["InstanceId"] for i in answer["Instances"])
        iam = boto3.client("iam")
        for user in ("backup-admin", "support-ops"):
            iam.create_user(UserName=user)
            iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
            iam.create_access_key(UserName=user)
    proxy = AwsProxy(moto_server.url, canned=quiet_account_replies())
    config = tmp_path / "config.toml"
    config.write_text('[aws]\nhome_regions = ["ap-northeast-1"]\n', encoding="utf-8")
    made.update(proxy=proxy, state=str(tmp_path / "state.db"), config=str(config), url=moto_server.url)
    try:
        with aws_environment(proxy.url):
            code, _ = _triage(["scan", "--source", str(INBOX), "--no-send", "--no-translate", "--json",
                               "--state", made["state"], "--config", made["config"]])
            assert code == 0
            yield made
    finally:
        proxy.stop()


def _triage(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Environment(stdout=out, stderr=err, environ={}))
    assert code in (0, 3), err.getvalue()
    return code, out.getvalue()


def _recheck(made: dict[str, Any], *, json_lines: bool) -> str:
    _, out = _triage(["check-account", "--case", CASE, "--state", made["state"], "--config", made["config"],
                      *(["--json"] if json_lines else [])])
    return out


def _progress(out: str) -> dict[str, Any]:
    lines = [json.loads(line) for line in out.splitlines()]
    kinds = [line["type"] for line in lines]
    at = kinds.index("progress")
    assert set(kinds[:at]) == {"resource"} and "resource" not in kinds[at + 1:]
    return dict(lines[at])


def _remove(made: dict[str, Any], instances: list[str], region: str, user: str | None) -> None:
    with aws_environment(made["url"]):
        if instances:
            boto3.client("ec2", region_name=region).terminate_instances(InstanceIds=instances)
        if user:
            iam = boto3.client("iam")
            for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            iam.detach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
            iam.delete_user(UserName=user)


def test_recheck_counts_what_is_gone_and_lists_what_is_left(account: dict[str, Any]) -> None:
    mumbai = account["ap-south-1"]
    _remove(account, mumbai[:8], "ap-south-1", "backup-admin")
    text = _recheck(account, json_lines=False)
    assert "■ 前回の確認との比較" in text
    assert "削除を確認しました（18 件）" in text  # 8 instances and their 8 root volumes, the user and its key
    assert "IAM ユーザー「backup-admin」" in text
    left = text.split("まだ残っています", 1)[1]
    assert "アジアパシフィック (ムンバイ)（インド）（ap-south-1）:" in left
    assert "EC2 インスタンス 2 台: " in left
    for instance in mumbai[8:]:
        assert instance in left
    for instance in mumbai[:8]:
        assert instance not in left
    # what is left is listed as the plan orders it: the costliest region first (4 instances before 2)
    assert left.index("（us-east-1）:") < left.index("（ap-south-1）:") < left.index("IAM とアカウント全体")
    assert "すべて片付きました" not in text

    progress = _progress(_recheck(account, json_lines=True))
    # compared with the check just before: nothing more was removed
    assert progress == {"type": "progress", "account_id": "123456789012", "case_id": CASE, "first": False, "removed": 0,
                        "left": 2 + 2 + 4 + 4 + 2, "new": 0, "gaps": 0, "done": False}


def test_done_only_when_nothing_is_left_and_nothing_was_unchecked(account: dict[str, Any]) -> None:
    _remove(account, account["ap-south-1"], "ap-south-1", "backup-admin")
    _remove(account, account["us-east-1"], "us-east-1", "support-ops")
    proxy: AwsProxy = account["proxy"]
    proxy.faults["ec2:DescribeVolumes"] = Fault("throttled", regions=frozenset({"ap-south-1"}))
    blind = _progress(_recheck(account, json_lines=True))
    assert blind["left"] == 0 and blind["new"] == 0 and blind["gaps"] >= 1
    assert blind["done"] is False
    del proxy.faults["ec2:DescribeVolumes"]
    text = _recheck(account, json_lines=False)
    assert "すべて片付きました" in text
    assert _progress(_recheck(account, json_lines=True))["done"] is True


def test_a_case_never_checked_gets_a_normal_check_and_says_so(account: dict[str, Any], tmp_path: Path) -> None:
    from triage.state import open_state

    with open_state(account["state"]) as state:
        state.db.execute("DELETE FROM account_checks")
        state.db.commit()
    text = _recheck(account, json_lines=False)
    assert "このケースは、まだ確認したことがありませんでした" in text
    assert "AWS account 123456789012" in text  # the normal check's own output


def _root_keys_reply(call: Any) -> tuple[int, dict[str, str], bytes]:
    """GetAccountSummary of an account whose root user has an access key (moto's root never has one)."""
    entries = "".join(f"<entry><key>{k}</key><value>{v}</value></entry>"
                      for k, v in (("AccountMFAEnabled", 1), ("AccountAccessKeysPresent", 1)))
    body = (f"<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap>{entries}</SummaryMap>"
            "</GetAccountSummaryResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>"
            "</GetAccountSummaryResponse>")
    return 200, {"Content-Type": "text/xml"}, body.encode()


def test_a_root_access_key_is_left_until_it_is_deleted(account: dict[str, Any]) -> None:
    _remove(account, account["ap-south-1"], "ap-south-1", "backup-admin")
    _remove(account, account["us-east-1"], "us-east-1", "support-ops")
    proxy: AwsProxy = account["proxy"]
    proxy.canned["iam:GetAccountSummary"] = _root_keys_reply
    text = _recheck(account, json_lines=False)
    assert "すべて片付きました" not in text
    assert "ルートユーザーのアクセスキーがあります。[セキュリティ認証情報] で削除してください。" in text
    progress = _progress(_recheck(account, json_lines=True))
    assert progress["left"] == 1 and progress["gaps"] == 0 and progress["done"] is False
    del proxy.canned["iam:GetAccountSummary"]  # the owner deleted the root user's keys
    text = _recheck(account, json_lines=False)
    assert "- IAM とアカウント全体: ルートユーザーのアクセスキー\n" in text.split("削除を確認しました", 1)[1]
    assert "すべて片付きました" in text


def test_a_new_mail_on_the_case_carries_the_comparison_into_the_reply_draft(account: dict[str, Any],
                                                                            tmp_path: Path) -> None:
    from tests import mails

    mumbai = account["ap-south-1"]
    _remove(account, mumbai[:8], "ap-south-1", "backup-admin")
    again = mails.write_mbox(tmp_path / "again.mbox", [mails.compromise_notice(3, case=CASE)])
    _, out = _triage(["scan", "--source", str(again), "--no-send", "--no-translate", "--json",
                      "--state", account["state"], "--config", account["config"]])
    [summary] = [json.loads(line) for line in out.splitlines() if line.startswith('{"type": "summary"')]
    assert "前回の確認のあと、18 件の削除を確認しました。" in summary["text"]
    draft = summary["reply"]
    steps = [line.split(".", 1)[0] for line in draft.splitlines() if line[:1].isdigit()]
    assert steps == ["1", "2", "3", "4"]  # numbered in order, whatever is left
    assert "2. I deleted the IAM user backup-admin." in draft
    assert "- Still there, and I am removing them: the access key " in draft and "the IAM user support-ops" in draft
    assert "- In ap-south-1, I terminated 8 EC2 instances and deleted 8 EBS volumes." in draft
    assert "- Still in ap-south-1, and I am removing them: 2 EC2 instances, 2 EBS volumes." in draft
    assert "- Still in us-east-1, and I am removing them: 4 EC2 instances, 4 EBS volumes." in draft
    meaning = summary["text"].split("返信文の意味（日本語）:", 1)[1]
    assert "- 2. IAM ユーザー backup-admin を削除しました。" in meaning
    assert "IAM ユーザー「support-ops」が残っています。削除を進めています。" in meaning
    assert "（ap-south-1）には、まだ EC2 インスタンス 2 台、EBS ボリューム 2 個が残っています。" in meaning
