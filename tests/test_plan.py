"""The clean-up plan built from an account check: on the attacked account of test_account_attacked (a real
moto server), each step names a place and a number, in AWS's order."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests.test_account_attacked import ATTACK, UNSWEPT_REGION, Attacked, attacked  # noqa: F401 - the fixture
from triage import paths
from triage.account.collectors import RESOURCE_TYPES
from triage.account.records import RootUser
from triage.account.region_names import load_region_names
from triage.account.remediation import build_plan, load_remediation_rules

RULES = load_remediation_rules(paths.rules_dir())
NAMES = load_region_names(paths.rules_dir())


def _plan_lines(account: object) -> list[str]:
    from tests.test_account_summary import render_case_summary

    text = render_case_summary(account)
    block = text.split("\n■ いますぐやること\n", 1)[1].split("\n■ ", 1)[0]
    return [line for line in block.splitlines() if re.match(r"\d+\. ", line)]


@pytest.fixture(scope="module")
def lines(attacked: Attacked) -> list[str]:  # noqa: F811 - the fixture imported above
    return _plan_lines(attacked.report)


def _step_of(lines: list[str], code: str) -> tuple[int, str]:
    found = [(n, line) for n, line in enumerate(lines) if f"（{code}）: " in line]
    assert len(found) == 1, (code, found)
    return found[0]


def test_every_attacked_region_has_its_step_in_japanese_with_counts(attacked: Attacked, lines: list[str]) -> None:  # noqa: F811
    for code, count in ATTACK.items():
        _, line = _step_of(lines, code)
        name = NAMES.get(code)
        assert line.split(". ", 1)[1].startswith(f"{name.full}（{code}）: "), line
        instances = sum(r.region == code and r.resource_type == "instance" and r.suspicious
                        for r in attacked.report.resources)
        assert instances >= count
        assert f"EC2 インスタンス {instances} 台を終了し" in line, line
        assert f"https://{code}.console.aws.amazon.com/" in line


def test_mumbai_is_named_with_its_country(lines: list[str]) -> None:
    _, line = _step_of(lines, "ap-south-1")
    assert "アジアパシフィック (ムンバイ)（インド）（ap-south-1）: " in line
    assert "セキュリティグループ「allow-all」を削除してください。" in line


def test_the_iam_step_names_each_rogue_user(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert "IAM ユーザー「backup-admin」を削除してください（アクセスキー 2 個、管理者の権限、" \
           "コンソールのパスワードあり）" in text
    assert "IAM ユーザー「svc-deploy」を削除してください（アクセスキー 1 個、管理者の権限）" in text
    # The owner's user carries AWS's quarantine policy: its key goes, the user is not called the intruder's.
    assert "IAM ユーザー「owner」のアクセスキーは、AWS が「漏れたキー」として制限しています" in text
    assert not any("IAM ユーザー「owner」を削除" in line for line in lines)
    assert any("IAM ロール「ec2-admin」" in line for line in lines)


def test_root_mfa_step_only_where_mfa_is_off(attacked: Attacked, lines: list[str]) -> None:  # noqa: F811
    assert attacked.report.root is not None and not attacked.report.root.mfa
    assert any("ルートユーザーに多要素認証 (MFA) が設定されていません" in line for line in lines)
    secured = _plan_lines(replace(attacked.report, root=RootUser(mfa=True, access_keys=True)))
    assert not any("多要素認証 (MFA) が設定されていません" in line for line in secured)
    assert any("ルートユーザーにアクセスキーがあります" in line for line in secured)
    assert not any("ルートユーザーにアクセスキーがあります" in line for line in lines)


def test_what_recreates_resources_comes_before_the_instances(lines: list[str]) -> None:
    _, oregon = _step_of(lines, "us-west-2")
    assert oregon.index("Auto Scaling グループ「miners」") < oregon.index("EC2 インスタンス")
    # the group's launch template would start them again: it goes before the instances too
    assert oregon.index("Auto Scaling グループ「miners」") < oregon.index("起動テンプレート「miner」") < oregon.index(
        "EC2 インスタンス")
    _, virginia = _step_of(lines, "us-east-1")
    assert virginia.index("スポットリクエスト") < virginia.index("EC2 インスタンス")
    assert virginia.index("EC2 インスタンス") < virginia.index("EBS ボリューム") < virginia.index("AMI")


def test_the_costliest_region_comes_first(attacked: Attacked, lines: list[str]) -> None:  # noqa: F811
    burn = attacked.report.burn.by_region
    order = sorted(ATTACK, key=lambda code: _step_of(lines, code)[0])
    assert order[0] == max(burn, key=lambda code: burn[code])
    assert [burn[c] for c in order] == sorted((burn[c] for c in order), reverse=True)
    # the root and IAM steps come before any region, the bill and the reply after
    first_region = min(_step_of(lines, c)[0] for c in ATTACK)
    assert all("IAM ユーザー" not in line for line in lines[first_region:])
    assert "Cost Explorer" in lines[-2] and "triage check-account --case" in lines[-1]


def test_a_region_the_check_could_not_see_gets_its_own_step(lines: list[str]) -> None:
    _, line = _step_of(lines, UNSWEPT_REGION)
    assert "ここは確認できませんでした" in line and "コンソールで自分で見てください" in line
    assert "30.00ドル" in line
    assert f"https://{UNSWEPT_REGION}.console.aws.amazon.com/" in line


def test_every_step_names_a_place_and_a_number_or_a_name(lines: list[str]) -> None:
    for line in lines:
        assert "https://" in line, line


def test_without_a_check_the_generic_steps_stay_and_say_why() -> None:
    from tests.test_account_summary import render_case_summary
    from triage.account import AccountNotChecked

    text = render_case_summary(AccountNotChecked("no credentials"))
    assert "AWS アカウントの中を確認できなかったので、どのアカウントにも当てはまる手順です" in text
    assert "すべてのリージョンで、心当たりのないリソースを削除してください" in text


def test_the_clean_up_order_knows_every_regional_type() -> None:
    ordered = {o.resource_type for o in RULES.order}
    regional = set(RESOURCE_TYPES) - {"iam-user", "access-key", "iam-role", "identity-provider", "organization-account"}
    assert regional <= ordered, regional - ordered


def test_an_ami_is_deregistered_before_its_snapshots_are_deleted() -> None:
    from triage.account.remediation import clauses_of

    # EC2 refuses to delete a snapshot that a registered AMI uses: done in the plan's order, each step works
    clauses = clauses_of([("snapshot", "snap-1"), ("image", "ami-1"), ("volume", "vol-1")], RULES)
    order = [item.resource_type for clause in clauses for item in clause.items]
    assert order == ["volume", "image", "snapshot"]


def test_the_plan_is_pure(attacked: Attacked) -> None:  # noqa: F811
    assert build_plan(attacked.report, RULES) == build_plan(attacked.report, RULES)


def test_intruder_names_are_shown_inert() -> None:
    from triage.inert import inert

    shown = inert("https://evil.example/x")
    assert "https://" not in shown and "evil.example" not in shown
    assert "\u202e" not in inert("miner\u202egnp.exe") and "U+202E" in inert("miner\u202egnp.exe")
    assert "\u200b" not in inert("a\u200bb")



def test_the_reply_step_points_to_a_draft_only_where_the_summary_has_one() -> None:
    from tests.account_fixture import load_report
    from tests.test_account_summary import scan_example
    from triage.config import Config
    from triage.pipeline import Services

    account = load_report(Path(__file__).parent / "golden" / "compromise-re-case-action-required+attacked.account.json")
    outcomes = scan_example(Config(), Services(check_account=lambda case: account))
    texts = {o.case.case_id: o.summary.text for o in outcomes.values() if o.summary is not None}
    # the budget alert: a plan from the same check, but no case to reply to and no draft below
    budget = next(t for c, t in texts.items() if c.startswith("mail-") and "triage check-account --case" in t)
    assert "■ AWS への返信文" not in budget
    assert "文の案" not in budget and "返信文に書いてあります" not in budget and "返信してください" not in budget
    case_id = next(c for c, t in texts.items() if t == budget)
    steps = [line for line in budget.splitlines() if re.match(r"\d+\. ", line)]
    [recheck] = [n for n, line in enumerate(steps) if "triage check-account --case" in line]
    assert steps[recheck].endswith(f"もう一度確認してください: triage check-account --case {case_id}")
    assert "片付けが終わったら" in steps[recheck]
    assert "「アカウントおよび請求」のケースを作成し、請求の調整を依頼してください。" in steps[recheck - 1]
    support = texts["17100200301"]  # a case AWS opened is replied to, with the draft below
    assert "AWS のサポートケースに英語で返信してください（返信文の案は下にあります）" in support
    assert "■ AWS への返信文（英語）" in support
