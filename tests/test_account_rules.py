"""The account check's data and judgement, without AWS: Japanese region names, the price table and the
hourly burn, suspicion, region planning, admin policies, and the summary when the check could not run."""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.loaders
import pytest

from triage import paths
from triage.account.collectors.iam import _grants_admin
from triage.account.cost import hourly_burn, load_prices, unswept_spend
from triage.account.records import GLOBAL, MonthCost, RegionStatus, Resource
from triage.account.region_names import load_region_names
from triage.account.regions import plan_regions
from triage.account.suspicion import Suspicion, judge, load_mining_signs
from triage.errors import RulesError

NOW = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)
MINING = load_mining_signs(paths.rules_dir())


def _botocore_regions() -> set[str]:
    loader = botocore.loaders.Loader()
    codes = {code for p in loader.load_data("endpoints")["partitions"] for code in p["regions"]}
    codes |= {code for p in loader.load_data("partitions")["partitions"] for code in p["regions"]}
    return {c for c in codes if not c.endswith("-global")}


def test_every_region_botocore_knows_has_a_japanese_name() -> None:
    names = load_region_names(paths.rules_dir())
    missing = sorted(_botocore_regions() - set(names.names))
    assert missing == []
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    assert all(japanese.search(n.name) for n in names.names.values())


def test_region_names_as_aws_writes_them_with_the_country_once() -> None:
    names = load_region_names(paths.rules_dir())
    assert names.get("ap-south-1").name == "アジアパシフィック (ムンバイ)"
    assert names.get("ap-south-1").full == "アジアパシフィック (ムンバイ)（インド）"
    assert names.get("ap-northeast-1").full == "アジアパシフィック (東京)"
    assert names.get("us-east-1").name == "米国東部 (バージニア北部)"
    assert names.get("xx-nowhere-9").name == "xx-nowhere-9"  # unknown codes stay readable


def test_prices_scale_by_size_and_gpu_prices_are_exact() -> None:
    prices = load_prices(paths.rules_dir())
    assert prices.instance_hour("c5.large") == pytest.approx(0.085)
    assert prices.instance_hour("c5.4xlarge") == pytest.approx(0.68)
    assert prices.instance_hour("t3.micro") == pytest.approx(0.0104)
    assert prices.instance_hour("g4dn.xlarge") == pytest.approx(0.526)
    assert prices.instance_hour("z9.large") is None
    assert prices.instance_hour("c5.metal") is None


def test_hourly_burn_counts_what_runs_and_names_what_it_leaves_out() -> None:
    prices = load_prices(paths.rules_dir())
    resources = [
        Resource("us-east-1", "ec2", "instance", "i-1", "running", detail={"instance_type": "c5.4xlarge"}),
        Resource("us-east-1", "ec2", "instance", "i-2", "stopped", detail={"instance_type": "c5.4xlarge"}),
        Resource("eu-west-1", "ec2", "instance", "i-3", "running", detail={"instance_type": "x9.huge"}),
        Resource("eu-west-1", "ec2", "volume", "vol-1", "available", detail={"size_gb": 730, "volume_type": "gp3"}),
        Resource("eu-west-1", "ec2", "elastic-ip", "eip-1", "unassociated"),
        Resource("eu-west-1", "sagemaker", "sagemaker-notebook", "nb", "InService"),
    ]
    burn = hourly_burn(resources, prices)
    assert burn.by_region == {"eu-west-1": pytest.approx(0.08 + 0.005), "us-east-1": pytest.approx(0.68)}
    assert burn.hourly_usd == pytest.approx(0.765)
    assert burn.running_instances == 2
    assert burn.unpriced_instance_types == {"x9.huge": 1}
    assert burn.not_included == ("sagemaker-notebook",)


def test_spend_outside_the_swept_regions() -> None:
    cost = MonthCost("2026-03-01", "2026-03-06", 100.0, {}, {"us-east-1": 50.0, "ap-east-1": 40.0, "NoRegion": 9.0,
                                                           "global": 1.0, "eu-south-1": 0.001}, True)
    plan = plan_regions([RegionStatus("us-east-1", "ENABLED_BY_DEFAULT"), RegionStatus("ap-east-1", "DISABLED")],
                        None, "test")
    assert unswept_spend(cost, plan) == {"ap-east-1": 40.0}
    assert unswept_spend(None, plan) == {}


def test_regions_to_sweep_and_the_reasons_for_the_others() -> None:
    statuses = [RegionStatus("us-east-1", "ENABLED_BY_DEFAULT"), RegionStatus("eu-south-1", "ENABLED"),
                RegionStatus("ap-east-1", "DISABLED"), RegionStatus("me-south-1", "DISABLING"),
                RegionStatus("il-central-1", "ENABLING")]
    plan = plan_regions(statuses, None, "account:ListRegions")
    assert plan.swept == ("eu-south-1", "me-south-1", "us-east-1")
    assert {code: g.kind for code, g in plan.skipped.items()} == {"ap-east-1": "region-disabled",
                                                                  "il-central-1": "region-changing"}
    only = plan_regions(statuses, ("us-east-1", "sa-east-1"), "account:ListRegions")
    assert only.swept == ("us-east-1", "sa-east-1")  # a wanted region the list did not show is still tried
    assert {g.kind for g in only.skipped.values()} == {"excluded"}


@pytest.mark.parametrize(("statement", "admin"), [
    ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
    ({"Effect": "Allow", "Action": ["s3:GetObject", "iam:*"], "Resource": ["*"]}, True),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, True),
    ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}, False),
    ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
    ({"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}, False),
])
def test_admin_policies(statement: dict[str, object], admin: bool) -> None:
    document = {"Version": "2012-10-17", "Statement": [statement]}
    assert _grants_admin(document) is admin
    import json

    assert _grants_admin(urllib.parse.quote(json.dumps(document))) is admin  # as IAM may send it


def _judge(r: Resource, **kwargs: object) -> Resource:
    s = Suspicion(window_start=NOW - timedelta(days=7), mining=MINING,
                  home_regions=frozenset({"ap-northeast-1"}), **kwargs)  # type: ignore[arg-type]
    return judge([r], s)[0]


def test_the_owners_old_resources_in_the_home_region_are_not_suspicious() -> None:
    web = Resource("ap-northeast-1", "ec2", "instance", "i-web", "running", LONG_AGO,
                   {"instance_type": "t3.small", "name": "web"})
    admin = Resource(GLOBAL, "iam", "iam-user", "owner", "active", LONG_AGO, {"admin": True})
    old_key = Resource(GLOBAL, "iam", "access-key", "AKIAOLD", "Active", LONG_AGO, {"user": "owner"})
    for r in (web, admin, old_key):
        judged = _judge(r)
        assert not judged.suspicious and judged.reasons == ()


def test_reasons_for_an_intruders_resources() -> None:
    miner = _judge(Resource("sa-east-1", "ec2", "instance", "i-1", "running", NOW - timedelta(hours=3),
                            {"instance_type": "p3.2xlarge", "name": "xmrig"}), named_ids=frozenset({"i-1"}))
    assert miner.reasons == ("named-in-aws-mail", "created-in-incident-window", "region-not-used-by-owner",
                             "mining-instance-type", "mining-name")
    user = _judge(Resource(GLOBAL, "iam", "iam-user", "backup", "active", NOW - timedelta(days=1), {"admin": True}))
    assert user.reasons == ("created-in-incident-window", "new-admin")
    key = _judge(Resource(GLOBAL, "iam", "access-key", "AKIANEW", "Active", NOW - timedelta(days=2), {"user": "x"}))
    assert key.reasons == ("recent-access-key",)
    quarantined = _judge(Resource(GLOBAL, "iam", "iam-user", "dev", "active", LONG_AGO,
                                  {"quarantine_policies": ["AWSCompromisedKeyQuarantineV3"]}))
    assert quarantined.reasons == ("aws-quarantine-policy",)
    lam = _judge(Resource("ap-northeast-1", "lambda", "lambda-function", "f", None, None,
                          {"last_modified": (NOW - timedelta(days=1)).isoformat()}))
    assert lam.reasons == ("created-in-incident-window",)
    group = _judge(Resource("ap-northeast-1", "ec2", "security-group", "sg-1", None, None, {"all_ports_open": True}))
    assert group.reasons == ("open-to-internet",)


@pytest.mark.parametrize(("instance_type", "mining"), [
    ("g4dn.xlarge", True), ("p3.16xlarge", True), ("ml.p3.2xlarge", True), ("c5.18xlarge", True),
    ("c6a.4xlarge", True), ("c5.2xlarge", False), ("t3.micro", False), ("m5.24xlarge", False),
    ("t3.micro,g5.xlarge", True),
])
def test_mining_instance_types(instance_type: str, mining: bool) -> None:
    assert MINING.is_mining_type(instance_type) is mining


def test_the_mining_signs_are_the_rules_files(tmp_path: Path) -> None:
    """A user who adds a family or a pool name to rules/mining.toml changes the verdict, without Python."""
    text = (paths.rules_dir() / "mining.toml").read_text(encoding="utf-8")
    text = text.replace('"f1", "f2",', '"f1", "f2", "x2iedn",').replace('"t-rex",', '"t-rex", "unmineable",')
    (tmp_path / "mining.toml").write_text(text, encoding="utf-8")
    edited = load_mining_signs(tmp_path)
    assert edited.is_mining_type("x2iedn.xlarge") and not MINING.is_mining_type("x2iedn.xlarge")
    old = Resource("ap-northeast-1", "ec2", "instance", "i-1", "running", LONG_AGO, {"name": "unmineable-01"})
    s = Suspicion(window_start=NOW - timedelta(days=7), mining=edited, home_regions=frozenset({"ap-northeast-1"}))
    assert judge([old], s)[0].reasons == ("mining-name",)
    assert _judge(old).reasons == ()


def test_a_broken_mining_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "mining.toml").write_text("gpu_families = [", encoding="utf-8")
    with pytest.raises(RulesError, match=r"mining\.toml"):
        load_mining_signs(tmp_path)
