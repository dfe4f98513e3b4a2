"""The services AWS's quarantine policy for leaked keys closes besides EC2, on moto's real server: CodeBuild
projects, Glue jobs, Batch compute environments, EKS clusters and node groups, Bedrock custom models and
provisioned throughput. An intruder's set in a region the owner does not use, the owner's in the home
region; one sweep of both, then each collector's findings, the reasons, the summary's words and links.

moto 5.2 has no bedrock:ListProvisionedModelThroughputs: the proxy answers it (with the shape botocore's
model gives), so that listing's reading is tested, not moto's. Everything else comes from moto.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.aws_server import AwsProxy, Call, Reply, aws_environment, json_reply, recorded_calls
from tests.test_account_summary import render_case_summary
from triage import paths
from triage.account import AccountReport, check_account
from triage.account.guard import is_read
from triage.account.plan import all_calls
from triage.account.records import Resource
from triage.account.suspicion import load_mining_signs
from triage.config import AwsSettings, BillingSettings

ATTACKED = "eu-west-3"  # used by no other test module, so no reset of moto is needed
HOME = "ap-southeast-2"
INTRUDER = {"region-not-used-by-owner", "mining-name", "mining-instance-type"}
NEW_CALLS = {
    "codebuild:ListProjects", "codebuild:BatchGetProjects", "glue:GetJobs", "batch:DescribeComputeEnvironments",
    "eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup",
    "bedrock:ListCustomModels", "bedrock:ListProvisionedModelThroughputs",
}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def _plant(region: str, *, intruder: bool, role: str, profile: str) -> None:
    ec2 = boto3.client("ec2", region_name=region)
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    boto3.client("codebuild", region_name=region).create_project(
        name="xmrig-build" if intruder else "website-build", serviceRole=role,
        source={"type": "S3", "location": "bucket/source.zip"}, artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_GPU_CONTAINER" if intruder else "LINUX_CONTAINER",
                     "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
                     "computeType": "BUILD_GENERAL1_LARGE" if intruder else "BUILD_GENERAL1_SMALL"})
    boto3.client("glue", region_name=region).create_job(
        Name="miner-etl" if intruder else "nightly-etl", Role=role, GlueVersion="4.0",
        Command={"Name": "glueetl", "ScriptLocation": "s3://bucket/job.py"},
        WorkerType="G.8X" if intruder else "G.1X", NumberOfWorkers=100 if intruder else 2)
    boto3.client("batch", region_name=region).create_compute_environment(
        computeEnvironmentName="gpu-farm" if intruder else "owner-jobs", type="MANAGED", state="ENABLED",
        serviceRole=role, computeResources={
            "type": "EC2", "minvCpus": 0, "desiredvCpus": 0, "maxvCpus": 4096 if intruder else 16,
            "instanceTypes": ["g4dn"] if intruder else ["m5"],  # a bare family, as Batch allows
            "subnets": subnets, "securityGroupIds": [group], "instanceRole": profile})
    eks = boto3.client("eks", region_name=region)
    cluster = "k8s-miners" if intruder else "prod"
    eks.create_cluster(name=cluster, roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    eks.create_nodegroup(
        clusterName=cluster, nodegroupName="gpu-workers" if intruder else "general", subnets=subnets,
        nodeRole=role, instanceTypes=["g5.12xlarge"] if intruder else ["m5.large"],
        amiType="AL2_x86_64_GPU" if intruder else "AL2_x86_64",
        scalingConfig={"minSize": 1, "maxSize": 20, "desiredSize": 10 if intruder else 2})
    if intruder:
        boto3.client("bedrock", region_name=region).create_model_customization_job(
            jobName="tune-1", customModelName="titan-tuned", roleArn=role,
            baseModelIdentifier="amazon.titan-text-express-v1", hyperParameters={"epochCount": "1"},
            trainingDataConfig={"s3Uri": "s3://bucket/train.jsonl"}, outputDataConfig={"s3Uri": "s3://bucket/out/"})


def _provisioned_throughput(call: Call) -> Reply:
    """moto lacks this operation; one intruder's provisioned model in the attacked region, as AWS answers."""
    summaries = [{
        "provisionedModelName": "fast-titan", "modelUnits": 4, "desiredModelUnits": 4, "status": "InService",
        "provisionedModelArn": f"arn:aws:bedrock:{ATTACKED}:123456789012:provisioned-model/abc123",
        "modelArn": f"arn:aws:bedrock:{ATTACKED}:123456789012:custom-model/titan-tuned",
        "desiredModelArn": f"arn:aws:bedrock:{ATTACKED}:123456789012:custom-model/titan-tuned",
        "foundationModelArn": f"arn:aws:bedrock:{ATTACKED}::foundation-model/amazon.titan-text-express-v1",
        "commitmentDuration": "OneMonth", "creationTime": datetime.now(UTC).isoformat(),
        "lastModifiedTime": datetime.now(UTC).isoformat(),
    }] if call.region == ATTACKED else []
    return json_reply({"provisionedModelSummaries": summaries}, rest=True)


CANNED = {
    "bedrock:ListProvisionedModelThroughputs": _provisioned_throughput,
    "lightsail:GetInstances": lambda c: json_reply({"instances": []}),
    "cloudtrail:LookupEvents": lambda c: json_reply({"Events": []}),
    "ce:GetCostForecast": lambda c: json_reply({"Total": {"Amount": "10", "Unit": "USD"}}),
    "account:GetContactInformation": lambda c: json_reply({"ContactInformation": {}}, rest=True),
}


@dataclass
class Swept:
    report: AccountReport
    actions: set[str]
    writes: list[str]


@pytest.fixture(scope="module")
def swept(moto_server: Any) -> Iterator[Swept]:
    with aws_environment(moto_server.url):
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="quarantined-services", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        profile = iam.create_instance_profile(InstanceProfileName="quarantined-services")["InstanceProfile"]["Arn"]
        _plant(ATTACKED, intruder=True, role=role, profile=profile)
        _plant(HOME, intruder=False, role=role, profile=profile)
    proxy = AwsProxy(moto_server.url, canned=CANNED)
    try:
        with aws_environment(proxy.url), moto_server.recording() as recorded:
            report = check_account(AwsSettings(regions=(ATTACKED, HOME), home_regions=(HOME,)), BillingSettings(),
                                   incident_start=datetime.now(UTC) - timedelta(hours=1))
        actions = proxy.actions()
    finally:
        proxy.stop()
    yield Swept(report, actions, [c.action for c in recorded_calls(recorded) if not is_read(c.action)])


def _of(swept: Swept, resource_type: str) -> dict[str, Resource]:
    return {r.id: r for r in swept.report.resources if r.resource_type == resource_type}


def _intruders_and_owners(found: dict[str, Resource], intruder: str, owner: str) -> tuple[Resource, Resource]:
    assert set(found) >= {intruder, owner}
    assert found[intruder].region == ATTACKED and found[owner].region == HOME
    assert found[intruder].suspicious and "region-not-used-by-owner" in found[intruder].reasons
    assert not INTRUDER & set(found[owner].reasons), found[owner].reasons
    return found[intruder], found[owner]


def test_codebuild_projects_with_their_build_machines(swept: Swept) -> None:
    found = _of(swept, "codebuild-project")
    assert set(found) == {"xmrig-build", "website-build"}
    intruder, owner = _intruders_and_owners(found, "xmrig-build", "website-build")
    assert INTRUDER | {"created-in-incident-window"} <= set(intruder.reasons)  # a GPU build machine, a miner's name
    assert intruder.detail["environment_type"] == "LINUX_GPU_CONTAINER" and intruder.created is not None
    assert owner.detail["compute_type"] == "BUILD_GENERAL1_SMALL"


def test_glue_jobs_with_their_workers(swept: Swept) -> None:
    found = _of(swept, "glue-job")
    assert set(found) == {"miner-etl", "nightly-etl"}
    intruder, owner = _intruders_and_owners(found, "miner-etl", "nightly-etl")
    assert {"mining-name", "created-in-incident-window"} <= set(intruder.reasons)
    assert (intruder.detail["worker_type"], intruder.detail["workers"]) == ("G.8X", 100)
    assert (owner.detail["worker_type"], owner.detail["workers"]) == ("G.1X", 2)


def test_batch_compute_environments_asking_for_gpu_families(swept: Swept) -> None:
    found = _of(swept, "batch-compute-environment")
    assert set(found) == {"gpu-farm", "owner-jobs"}
    intruder, owner = _intruders_and_owners(found, "gpu-farm", "owner-jobs")
    assert "mining-instance-type" in intruder.reasons  # "g4dn", a family without a size
    assert intruder.state == "ENABLED" and intruder.detail["max_vcpus"] == 4096
    assert owner.detail["instance_type"] == "m5"


def test_eks_clusters_and_their_node_groups(swept: Swept) -> None:
    clusters = _of(swept, "eks-cluster")
    assert set(clusters) == {"k8s-miners", "prod"}
    intruder, _ = _intruders_and_owners(clusters, "k8s-miners", "prod")
    assert intruder.state == "ACTIVE" and "created-in-incident-window" in intruder.reasons
    groups = _of(swept, "eks-nodegroup")
    assert set(groups) == {"k8s-miners/gpu-workers", "prod/general"}
    gpu, general = _intruders_and_owners(groups, "k8s-miners/gpu-workers", "prod/general")
    assert "mining-instance-type" in gpu.reasons
    assert (gpu.name, gpu.detail["instance_type"], gpu.detail["gpu"]) == ("gpu-workers", "g5.12xlarge", True)
    assert (general.detail["cluster"], general.detail["gpu"]) == ("prod", False)


def test_bedrock_custom_models_and_provisioned_throughput(swept: Swept) -> None:
    models = _of(swept, "bedrock-custom-model")
    assert set(models) == {"titan-tuned"}
    model = models["titan-tuned"]
    assert model.region == ATTACKED and {"region-not-used-by-owner", "created-in-incident-window"} <= set(model.reasons)
    assert model.detail["base_model"] == "amazon.titan-text-express-v1"
    provisioned = _of(swept, "bedrock-provisioned-throughput")
    assert set(provisioned) == {"fast-titan"}  # the proxy's answer: moto has no such listing
    throughput = provisioned["fast-titan"]
    assert throughput.region == ATTACKED and throughput.suspicious and throughput.state == "InService"
    assert (throughput.detail["model_units"], throughput.detail["commitment"]) == (4, "OneMonth")


def test_every_new_listing_answered_and_nothing_was_written(swept: Swept) -> None:
    assert NEW_CALLS <= swept.actions <= all_calls()
    assert [g for g in swept.report.gaps if g.what in NEW_CALLS] == []
    assert swept.writes == []


def test_the_summary_names_them_in_the_consoles_japanese_with_their_console_pages(swept: Swept) -> None:
    text = render_case_summary(swept.report)
    for words in ("CodeBuild プロジェクト", "Glue ジョブ", "Batch コンピューティング環境", "EKS クラスター",
                  "EKS ノードグループ", "Bedrock カスタムモデル", "Bedrock プロビジョンドスループット"):
        assert words in text, words
    for page in ("codesuite/codebuild/projects?region=eu-west-3", "gluestudio/home?region=eu-west-3#/jobs",
                 "batch/home?region=eu-west-3#compute-environments", "eks/home?region=eu-west-3#/clusters",
                 "bedrock/home?region=eu-west-3#/provisioned-throughput"):
        assert f"https://eu-west-3.console.aws.amazon.com/{page}" in text, page
    money = text[text.index("この目安に入っていません"):].splitlines()[0]
    assert "EKS クラスター" in money and "Bedrock プロビジョンドスループット" in money
    for line in text.splitlines():
        assert "codebuild-project" not in line and "eks-nodegroup" not in line, line  # no bare codes


def test_every_accelerated_instance_family_ec2_lists_counts_as_mining(moto_server: Any) -> None:
    """The mining list against EC2's own instance-type data (moto's copy of DescribeInstanceTypes)."""
    with aws_environment(moto_server.url):
        pages = boto3.client("ec2", region_name="us-east-1").get_paginator("describe_instance_types").paginate()
        types = [t for page in pages for t in page["InstanceTypes"]]
    accelerated = {t["InstanceType"] for t in types
                   if {"GpuInfo", "NeuronInfo", "InferenceAcceleratorInfo", "FpgaInfo"} & set(t)}
    assert len(accelerated) > 50
    mining = load_mining_signs(paths.rules_dir())
    assert sorted(t for t in accelerated if not mining.is_mining_type(t)) == []
    assert not mining.is_mining_type("m5.large") and not mining.is_mining_type("t3.micro")
