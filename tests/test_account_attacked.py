"""The account check against an attacked account on moto's real server: the seed case, hundreds of
mining instances spread over many regions, and everything an intruder leaves behind.

One sweep of every region runs once for the module (with moto recording every request it receives);
the tests then check that each planted item is found, the counts per region, the account line, the
JSON and human output of `check-account`, the summary section, and that no write reached the server.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_server import AwsProxy, Call, Reply, aws_environment, json_reply, recorded_calls
from triage import paths
from triage.account import AccountReport, check_account, json_records
from triage.account.cost import load_prices
from triage.account.guard import is_read
from triage.cli import Environment, main
from triage.config import AwsSettings, BillingSettings

ACCOUNT = "123456789012"
HOME = "ap-northeast-1"
# The intruder's instances per region: 300 in ten regions, none in the owner's home region.
ATTACK = {
    "us-east-1": 60, "us-east-2": 40, "us-west-2": 40, "eu-west-1": 30, "eu-central-1": 30,
    "ap-southeast-1": 30, "ap-south-1": 25, "sa-east-1": 20, "ca-central-1": 15, "eu-north-1": 10,
}
MINER_TYPES = ("c5.4xlarge", "g4dn.xlarge")
ATTACKER_KEY = "AKIAATTACKER00000001"
ATTACKER_IP = "203.0.113.7"
UNSWEPT_REGION = "ap-east-1"  # not enabled in moto's account, yet Cost Explorer shows spend there
COST_BY_SERVICE = {"Amazon Elastic Compute Cloud - Compute": 8421.37, "EC2 - Other": 312.40,
                   "Amazon SageMaker": 55.20, "AWS Lambda": 0.03}
COST_BY_REGION = {"us-east-1": 3000.0, "us-east-2": 1500.0, "us-west-2": 1400.0, "eu-west-1": 900.0,
                  "eu-central-1": 800.0, "ap-southeast-1": 600.0, "ap-south-1": 400.0, "sa-east-1": 100.0,
                  "ca-central-1": 50.0, "eu-north-1": 9.0, UNSWEPT_REGION: 30.0}
FORECAST_REST = 21000.0
AMI = "ami-12c6146b"


@dataclass
class Planted:
    """What the test put into the account, to compare with what the check finds."""

    instances: dict[str, set[str]] = field(default_factory=dict)  # region -> ids
    owner_instances: set[str] = field(default_factory=set)
    spot_requests: set[str] = field(default_factory=set)
    spot_fleets: set[str] = field(default_factory=set)
    extra_volumes: set[str] = field(default_factory=set)
    snapshots: set[str] = field(default_factory=set)
    images: set[str] = field(default_factory=set)
    elastic_ips: set[str] = field(default_factory=set)
    open_groups: dict[str, str] = field(default_factory=dict)  # group id -> region
    owner_group: str = ""
    vpc: str = ""


def _cost_results() -> list[dict[str, Any]]:
    def grouped(amounts: dict[str, float]) -> dict[str, Any]:
        return {"ResultsByTime": [{
            "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-30"},
            "Total": {},
            "Groups": [{"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": str(v), "Unit": "USD"}}}
                       for k, v in amounts.items()],
            "Estimated": True,
        }], "DimensionValueAttributes": []}

    # The check asks by service first, then by region; moto hands out queued answers in that order.
    return [grouped(COST_BY_SERVICE), grouped(COST_BY_REGION)]


def _plant(planted: Planted) -> None:
    """Build the attacked account in moto (straight to moto, not through the proxy)."""
    for n, (region, count) in enumerate(ATTACK.items()):
        ec2 = boto3.client("ec2", region_name=region)
        name = "xmrig-worker" if region == "us-east-1" else "worker"
        answer = ec2.run_instances(
            ImageId=AMI, MinCount=count, MaxCount=count, InstanceType=MINER_TYPES[n % 2],
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}])
        planted.instances[region] = {i["InstanceId"] for i in answer["Instances"]}

    home = boto3.client("ec2", region_name=HOME)
    answer = home.run_instances(ImageId=AMI, MinCount=2, MaxCount=2, InstanceType="t3.micro")
    planted.owner_instances = {i["InstanceId"] for i in answer["Instances"]}
    planted.instances[HOME] = set(planted.owner_instances)
    group = home.create_security_group(GroupName="web", Description="owner's web server")
    home.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    planted.owner_group = group["GroupId"]

    use1 = boto3.client("ec2", region_name="us-east-1")
    spot = use1.request_spot_instances(InstanceCount=4, LaunchSpecification={"ImageId": AMI,
                                                                             "InstanceType": "g4dn.xlarge"})
    planted.spot_requests = {r["SpotInstanceRequestId"] for r in spot["SpotInstanceRequests"]}
    for volume_number in range(3):
        v = use1.create_volume(AvailabilityZone="us-east-1a", Size=500, VolumeType="gp3")
        planted.extra_volumes.add(v["VolumeId"])
        if volume_number == 0:
            planted.snapshots.add(use1.create_snapshot(VolumeId=v["VolumeId"])["SnapshotId"])
    first = sorted(planted.instances["us-east-1"])[0]
    planted.images.add(use1.create_image(InstanceId=first, Name="miner-image")["ImageId"])
    for associate in (True, False):
        address = use1.allocate_address(Domain="vpc")
        planted.elastic_ips.add(address["AllocationId"])
        if associate:
            use1.associate_address(AllocationId=address["AllocationId"], InstanceId=first)

    euw1 = boto3.client("ec2", region_name="eu-west-1")
    fleet = euw1.request_spot_fleet(SpotFleetRequestConfig={
        "IamFleetRole": f"arn:aws:iam::{ACCOUNT}:role/fleet", "TargetCapacity": 3, "SpotPrice": "2.0",
        "AllocationStrategy": "lowestPrice",
        "LaunchSpecifications": [{"ImageId": AMI, "InstanceType": "c5.4xlarge"}]})
    planted.spot_fleets.add(fleet["SpotFleetRequestId"])
    for _ in range(2):
        planted.extra_volumes.add(euw1.create_volume(AvailabilityZone="eu-west-1a", Size=100)["VolumeId"])

    for region in ("us-east-1", "us-east-2", "eu-west-1"):
        boto3.client("ec2", region_name=region).create_key_pair(KeyName="miner-key")
    for region in ("us-east-1", "us-west-2", "ap-south-1"):
        ec2 = boto3.client("ec2", region_name=region)
        g = ec2.create_security_group(GroupName="allow-all", Description="all traffic")
        ec2.authorize_security_group_ingress(GroupId=g["GroupId"], IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        planted.open_groups[g["GroupId"]] = region
    planted.vpc = boto3.client("ec2", region_name="us-east-2").create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]

    usw2 = boto3.client("ec2", region_name="us-west-2")
    template = usw2.create_launch_template(LaunchTemplateName="miner", LaunchTemplateData={
        "ImageId": AMI, "InstanceType": "c5.4xlarge"})["LaunchTemplate"]["LaunchTemplateName"]
    boto3.client("autoscaling", region_name="us-west-2").create_auto_scaling_group(
        AutoScalingGroupName="miners", LaunchTemplate={"LaunchTemplateName": template}, MinSize=2, MaxSize=2,
        DesiredCapacity=2, AvailabilityZones=["us-west-2a"])

    iam = boto3.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.create_role(RoleName="ec2-admin", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="ec2-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    boto3.client("lambda", region_name="us-west-2").create_function(
        FunctionName="xmr-proxy", Runtime="python3.12", Role=role, Handler="index.handler",
        Code={"ZipFile": code.getvalue()})
    ecs = boto3.client("ecs", region_name="eu-central-1")
    ecs.create_cluster(clusterName="mining")
    ecs.register_task_definition(family="miner", containerDefinitions=[
        {"name": "xmrig", "image": "xmrig/xmrig", "memory": 512}])
    ecs.create_service(cluster="mining", serviceName="xmrig", taskDefinition="miner", desiredCount=1)
    boto3.client("sagemaker", region_name="us-east-1").create_notebook_instance(
        NotebookInstanceName="jupyter", InstanceType="ml.p3.2xlarge", RoleArn=role)

    iam.create_user(UserName="owner")
    iam.attach_user_policy(UserName="owner", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.attach_user_policy(UserName="owner", PolicyArn="arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")
    iam.create_access_key(UserName="owner")
    iam.create_user(UserName="backup-admin")
    iam.attach_user_policy(UserName="backup-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_login_profile(UserName="backup-admin", Password="Attacker-Passw0rd!")
    iam.create_access_key(UserName="backup-admin")
    iam.create_access_key(UserName="backup-admin")
    iam.create_user(UserName="svc-deploy")
    iam.put_user_policy(UserName="svc-deploy", PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.create_access_key(UserName="svc-deploy")

    orgs = boto3.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    orgs.create_account(AccountName="miner-farm", Email="farm@example.net")


def _canned(planted: Planted) -> dict[str, Any]:
    """Replies for the operations moto does not have."""
    now = datetime.now(UTC)

    def lightsail(call: Call) -> Reply:
        instances = [{"name": "miner-ls", "state": {"name": "running"}, "createdAt": now.timestamp(),
                      "bundleId": "xlarge_3_0", "blueprintId": "ubuntu_22_04"}] if call.region == "eu-west-1" else []
        return json_reply({"instances": instances})

    def lookup_events(call: Call) -> Reply:
        if call.region != "us-east-1":
            return json_reply({"Events": []})
        launched = sorted(planted.instances["us-east-1"])[:5]
        events = [{
            "EventName": "CreateUser", "EventTime": now.timestamp(), "Username": "attacker",
            "AccessKeyId": ATTACKER_KEY, "Resources": [{"ResourceType": "AWS::IAM::User",
                                                        "ResourceName": "backup-admin"}],
            "CloudTrailEvent": json.dumps({"sourceIPAddress": ATTACKER_IP, "userIdentity": {"arn": "x"}}),
        }, {
            "EventName": "RunInstances", "EventTime": now.timestamp(), "Username": "attacker",
            "AccessKeyId": ATTACKER_KEY,
            "Resources": [{"ResourceType": "AWS::EC2::Instance", "ResourceName": i} for i in launched],
            "CloudTrailEvent": json.dumps({"sourceIPAddress": ATTACKER_IP}),
        }]
        return json_reply({"Events": events})

    def forecast(call: Call) -> Reply:
        return json_reply({"Total": {"Amount": str(FORECAST_REST), "Unit": "USD"}, "ForecastResultsByTime": []})

    def contact(call: Call) -> Reply:
        return json_reply({"ContactInformation": {
            "FullName": "Taro Yamada", "PhoneNumber": "+81-3-0000-0000", "CountryCode": "JP",
            "AddressLine1": "1-1", "City": "Tokyo", "PostalCode": "100-0001"}}, rest=True)

    return {"lightsail:GetInstances": lightsail, "cloudtrail:LookupEvents": lookup_events,
            "ce:GetCostForecast": forecast, "account:GetContactInformation": contact}


@dataclass
class Attacked:
    planted: Planted
    report: AccountReport
    recorded: list[Call]
    proxy: AwsProxy


@pytest.fixture(scope="module")
def attacked(moto_server: Any) -> Iterator[Attacked]:
    moto_server.reset()
    planted = Planted()
    with aws_environment(moto_server.url):
        _plant(planted)
    moto_server.set_cost_results(_cost_results())
    proxy = AwsProxy(moto_server.url, canned=_canned(planted))
    try:
        with aws_environment(proxy.url), moto_server.recording() as recorded:
            report = check_account(AwsSettings(home_regions=(HOME,)), BillingSettings(jpy_per_usd=150.0),
                                   incident_start=datetime.now(UTC) - timedelta(hours=1))
        yield Attacked(planted, report, recorded_calls(recorded), proxy)
    finally:
        proxy.stop()


def _of(report: AccountReport, resource_type: str, region: str | None = None) -> dict[str, Any]:
    return {r.id: r for r in report.resources
            if r.resource_type == resource_type and (region is None or r.region == region)}


# --- what is found ----------------------------------------------------------------------------


def test_every_instance_is_found_with_the_right_count_per_region(attacked: Attacked) -> None:
    report, planted = attacked.report, attacked.planted
    found = Counter(r.region for r in report.resources if r.resource_type == "instance")
    extra = {"us-east-1": 4, "eu-west-1": 3, "us-west-2": 2}  # spot requests, the spot fleet, the Auto Scaling group
    expected = {region: len(ids) + extra.get(region, 0) for region, ids in planted.instances.items()}
    assert dict(found) == expected
    for region, ids in planted.instances.items():
        assert ids <= set(_of(report, "instance", region))
    assert sum(found.values()) == 300 + 2 + 9


def test_intruder_instances_are_suspicious_and_the_owners_are_not_for_the_same_reasons(attacked: Attacked) -> None:
    instances = _of(attacked.report, "instance")
    for region, ids in attacked.planted.instances.items():
        for i in ids - attacked.planted.owner_instances:
            r = instances[i]
            assert r.suspicious
            assert {"region-not-used-by-owner", "mining-instance-type"} <= set(r.reasons), (region, r.reasons)
    for i in attacked.planted.owner_instances:
        assert "region-not-used-by-owner" not in instances[i].reasons
        assert "mining-instance-type" not in instances[i].reasons
    xmrig = [r for r in instances.values() if r.name == "xmrig-worker"]
    assert len(xmrig) == 60 and all("mining-name" in r.reasons for r in xmrig)


def test_spot_requests_fleets_volumes_snapshots_images_addresses_are_found(attacked: Attacked) -> None:
    report, planted = attacked.report, attacked.planted
    spot = _of(report, "spot-request")
    assert planted.spot_requests | planted.spot_fleets <= set(spot)
    # the fleet's own three spot instance requests are listed too
    assert Counter(r.region for r in spot.values()) == {"us-east-1": 4, "eu-west-1": 1 + 3}
    assert {spot[s].detail["request_type"] for s in planted.spot_fleets} == {"fleet"}
    assert planted.extra_volumes <= set(_of(report, "volume"))
    snapshots = _of(report, "snapshot")
    assert planted.snapshots <= set(snapshots)
    assert len(snapshots) == 2  # and the AMI's own snapshot
    assert planted.images == set(_of(report, "image"))
    addresses = _of(report, "elastic-ip")
    assert planted.elastic_ips == set(addresses)
    assert sorted(a.state for a in addresses.values()) == ["associated", "unassociated"]
    assert Counter(r.region for r in report.resources if r.resource_type == "key-pair") == {
        "us-east-1": 1, "us-east-2": 1, "eu-west-1": 1}
    assert set(_of(report, "vpc")) == {planted.vpc}  # default VPCs are left out


def test_the_launch_template_an_auto_scaling_group_starts_from_is_found(attacked: Attacked) -> None:
    [template] = _of(attacked.report, "launch-template", "us-west-2").values()
    assert template.name == "miner" and template.suspicious


def test_open_security_groups_are_suspicious(attacked: Attacked) -> None:
    groups = _of(attacked.report, "security-group")
    assert set(groups) == {*attacked.planted.open_groups, attacked.planted.owner_group}
    for group_id, region in attacked.planted.open_groups.items():
        assert groups[group_id].region == region
        assert "open-to-internet" in groups[group_id].reasons
    owner = groups[attacked.planted.owner_group]
    assert owner.detail["open_to_internet"] == ["443"]
    assert "open-to-internet" not in owner.reasons


def test_other_services_that_bill_are_found(attacked: Attacked) -> None:
    report = attacked.report
    assert set(_of(report, "autoscaling-group", "us-west-2")) == {"miners"}
    assert set(_of(report, "lambda-function", "us-west-2")) == {"xmr-proxy"}
    cluster = _of(report, "ecs-cluster", "eu-central-1")["mining"]
    assert cluster.detail["services"] == ["xmrig"]
    notebook = _of(report, "sagemaker-notebook", "us-east-1")["jupyter"]
    assert "mining-instance-type" in notebook.reasons  # ml.p3.2xlarge: a GPU
    assert set(_of(report, "lightsail-instance")) == {"miner-ls"}
    assert _of(report, "lightsail-instance")["miner-ls"].region == "eu-west-1"
    account = _of(report, "organization-account")
    assert [a.detail["name"] for a in account.values()] == ["miner-farm"]


def test_iam_users_keys_admins_and_quarantine(attacked: Attacked) -> None:
    report = attacked.report
    users = _of(report, "iam-user")
    assert set(users) == {"owner", "backup-admin", "svc-deploy"}
    assert users["backup-admin"].detail["admin"] and users["svc-deploy"].detail["admin"]
    assert not users["owner"].detail["admin"]
    assert "new-admin" in users["backup-admin"].reasons and "new-admin" in users["svc-deploy"].reasons
    assert users["backup-admin"].detail["console_password"] is True
    assert users["owner"].detail["quarantine_policies"] == ["AWSCompromisedKeyQuarantineV2"]
    assert "aws-quarantine-policy" in users["owner"].reasons
    keys = Counter(r.detail["user"] for r in report.resources if r.resource_type == "access-key")
    assert keys == {"owner": 1, "backup-admin": 2, "svc-deploy": 1}
    assert all("recent-access-key" in r.reasons for r in report.resources if r.resource_type == "access-key")
    roles = _of(report, "iam-role")
    assert {"lambda-exec", "ec2-admin"} <= set(roles)
    assert roles["ec2-admin"].detail["admin"] and not roles["lambda-exec"].detail["admin"]


def test_cloudtrail_names_who_created_suspicious_resources(attacked: Attacked) -> None:
    report = attacked.report
    creator = _of(report, "iam-user")["backup-admin"].detail["created_by"]
    assert creator["principal"] == "attacker"
    assert creator["access_key_id"] == ATTACKER_KEY
    assert creator["source_ip"] == ATTACKER_IP
    launched = [r for r in report.resources if r.resource_type == "instance" and "created_by" in r.detail]
    assert len(launched) == 5 and {r.region for r in launched} == {"us-east-1"}
    assert "cloudtrail:LookupEvents" in attacked.proxy.actions()


def test_the_account_line(attacked: Attacked) -> None:
    report = attacked.report
    line = json_records(report)[-1]
    assert line["type"] == "account"
    assert line["account_id"] == ACCOUNT
    assert line["root_mfa"] is False and line["root_access_keys"] is False
    assert set(ATTACK) | {HOME} <= set(line["regions_swept"])
    assert UNSWEPT_REGION in line["regions_skipped"] and "not enabled" in line["regions_skipped"][UNSWEPT_REGION]
    assert not set(line["regions_swept"]) & set(line["regions_skipped"])
    assert line["resources"] == len(report.resources)
    assert line["suspicious"] == sum(r.suspicious for r in report.resources) > 300
    assert line["month_to_date_usd"] == pytest.approx(sum(COST_BY_SERVICE.values()))
    assert line["forecast_usd"] == pytest.approx(sum(COST_BY_SERVICE.values()) + FORECAST_REST)
    assert line["hourly_burn_usd"] == pytest.approx(_expected_burn(report), rel=1e-3)
    assert list(line) == ["type", "account_id", "root_mfa", "root_access_keys", "regions_swept", "regions_skipped",
                          "resources", "suspicious", "month_to_date_usd", "forecast_usd", "hourly_burn_usd"]


def _expected_burn(report: AccountReport) -> float:
    prices = load_prices(paths.rules_dir())
    running = Counter(r.detail["instance_type"] for r in report.resources
                      if r.resource_type == "instance" and r.state in ("running", "pending"))
    assert sum(running.values()) > 300
    hourly = sum(prices.instance_hour(t) * n for t, n in running.items())  # type: ignore[operator]
    for v in (r for r in report.resources if r.resource_type == "volume"):
        hourly += v.detail["size_gb"] * prices.volume_gb_month[v.detail["volume_type"]] / 730
    return hourly + 2 * prices.elastic_ip_hour


def test_spend_in_a_region_that_was_not_swept_is_flagged(attacked: Attacked) -> None:
    report = attacked.report
    assert report.unswept_spend == {UNSWEPT_REGION: 30.0}
    gaps = [g for g in report.gaps if g.region == UNSWEPT_REGION]
    assert {g.kind for g in gaps} == {"region-disabled", "unswept-spend"}
    assert not report.every_region_checked


def test_no_write_reached_the_server_during_the_sweep(attacked: Attacked) -> None:
    calls = attacked.recorded
    assert len(calls) > 300  # the recorder saw the sweep
    regions = {c.region for c in calls if c.action == "ec2:DescribeInstances"}
    assert set(ATTACK) <= regions
    writes = [c.action for c in calls if not is_read(c.action)]
    assert writes == []


# --- output -----------------------------------------------------------------------------------


def test_json_lines_are_resources_then_gaps_then_the_account(attacked: Attacked) -> None:
    records = json_records(attacked.report)
    kinds = [r["type"] for r in records]
    assert kinds == sorted(kinds, key=["resource", "gap", "account"].index)
    resource = next(r for r in records if r["type"] == "resource" and r["resource_type"] == "instance")
    assert list(resource) == ["type", "account_id", "region", "service", "resource_type", "id", "state", "created",
                              "detail", "suspicious", "reasons"]
    assert resource["created"].endswith("Z")
    gap = next(r for r in records if r["type"] == "gap")
    assert list(gap) == ["type", "account_id", "region", "service", "reason"]
    json.dumps(records)  # every line serialises


def test_check_account_command_json(attacked: Attacked, moto_server: Any, tmp_path: Path) -> None:
    out = io.StringIO()
    config = tmp_path / "config.toml"
    config.write_text(f'[aws]\nhome_regions = ["{HOME}"]\n')
    proxy = AwsProxy(moto_server.url, canned=_canned(attacked.planted))
    try:
        with aws_environment(proxy.url):
            status = main(["check-account", "--config", str(config), "--json",
                           "--regions", f"us-east-1,{HOME},{UNSWEPT_REGION}"],
                          Environment(stdout=out, stderr=io.StringIO()))
    finally:
        proxy.stop()
    assert status == 3  # finished, but regions were left out: a partial check, as scripts must be told
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[-1]["type"] == "account"
    assert sorted(lines[-1]["regions_swept"]) == [HOME, "us-east-1"]
    assert "not in the configured regions" in lines[-1]["regions_skipped"]["eu-west-1"]
    assert UNSWEPT_REGION in lines[-1]["regions_skipped"]
    instances = Counter(r["region"] for r in lines if r["type"] == "resource" and r["resource_type"] == "instance")
    assert instances == {"us-east-1": 64, HOME: 2}
    skipped_gaps = {r["region"] for r in lines if r["type"] == "gap" and r["service"] == "all"}
    assert skipped_gaps == set(lines[-1]["regions_skipped"])


def test_check_account_command_human_form(attacked: Attacked, moto_server: Any, tmp_path: Path) -> None:
    out = io.StringIO()
    proxy = AwsProxy(moto_server.url, canned=_canned(attacked.planted))
    try:
        with aws_environment(proxy.url):
            status = main(["check-account", "--regions", "us-east-1,ap-south-1"], Environment(
                stdout=out, stderr=io.StringIO(), environ={"TRIAGE_CONFIG": str(tmp_path / "absent.toml")}))
    finally:
        proxy.stop()
    text = out.getvalue()
    assert status == 3
    assert "us-east-1  米国東部 (バージニア北部)" in text
    assert "ap-south-1  アジアパシフィック (ムンバイ)（インド）" in text
    assert text.count("c5.4xlarge") + text.count("g4dn.xlarge") >= 60 + 25
    closing = text.rstrip().splitlines()[-1]
    assert closing.startswith("NOT everything was checked") and "eu-west-1" in closing


def test_summary_section_says_where_what_runs_and_what_it_costs(attacked: Attacked) -> None:
    text = _render(attacked.report)
    assert "■ AWS アカウントの中でわかったこと" in text
    assert "米国東部 (バージニア北部)（us-east-1）" in text
    assert "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#Instances:" in text
    assert "普段使っていないリージョンにある" in text and "暗号資産のマイニングによく使われる種類" in text
    assert "多要素認証 (MFA) が設定されていません" in text
    assert "IAM ユーザー「backup-admin」" in text and "管理者の権限があります" in text
    assert "attacker（IP アドレス 203.0.113.7）" in text
    assert "■ 確認できなかったこと" in text
    assert f"アジアパシフィック (香港)（{UNSWEPT_REGION}）" in text and "30.00ドル" in text
    assert "■ お金のこと" in text
    assert "8,789ドル（約132万円）" in text and "まだ確定した請求額ではありません" in text
    # A worried reader meets the plan first, then the short findings; money, then the full list, come after.
    order = ["■ いますぐやること", "■ AWS アカウントの中でわかったこと", "■ 確認できなかったこと", "■ お金のこと",
             "■ 見つかったものの一覧"]
    at = [text.index(f"\n{h}\n") for h in order]  # the headings themselves, not a mention of one
    assert at == sorted(at)
    assert "怪しい IAM ユーザー（3 人）: owner、backup-admin、svc-deploy" in text
    # The English reply names what the check found, in brackets for the owner to confirm.
    assert "I did not create: [owner, backup-admin, svc-deploy]" in text
    assert "Lambda functions: [us-east-1, " in text
    assert "AWS の予測です" in text and "triage が定価表" in text
    for line in text.splitlines():
        assert "None" not in line, line


def _render(account: object) -> str:
    from tests.test_account_summary import render_case_summary

    return render_case_summary(account)


def test_the_report_uses_only_codes_the_summary_can_say(attacked: Attacked) -> None:
    from triage.account.collectors import RESOURCE_TYPES
    from triage.account.records import GAP_KINDS
    from triage.account.suspicion import REASONS

    assert {r.resource_type for r in attacked.report.resources} <= set(RESOURCE_TYPES)
    assert {reason for r in attacked.report.resources for reason in r.reasons} <= set(REASONS)
    assert {g.kind for g in attacked.report.gaps} <= set(GAP_KINDS)
