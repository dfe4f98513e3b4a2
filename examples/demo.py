"""`make demo`: the whole story on this machine, with no credentials and no internet.

A local moto server (AWS's API, faked) is seeded like a real attacked account: a few hundred c5 mining
instances over a dozen regions (Mumbai among them), two rogue admin users with access keys, root without
MFA, and a month-to-date bill of about 126,000 USD in Cost Explorer. `triage scan` then reads
examples/inbox.mbox with AWS_ENDPOINT_URL pointing at that server and prints the compromise case's
summary. The owner then cleans up part of it, and `triage check-account --case` says what is still left.

This is a demo script, not part of triage: triage itself never writes to AWS; only this script does,
to its own fake server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from datetime import date
from pathlib import Path

os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' proxy in front of moto

import boto3
from moto.server import ThreadedMotoServer

from tests.aws_server import AwsProxy, quiet_account_replies
from triage.account.collectors.costexplorer import months_before

HERE = Path(__file__).parent
TRIAGE = Path(sys.executable).parent / "triage"
CASE = "17100200301"
AMI = "ami-12c6146b"
# The intruder's instances per region: 300 in twelve regions, Mumbai among them.
ATTACK = {
    "us-east-1": 48, "us-east-2": 32, "us-west-2": 32, "ap-south-1": 40, "eu-west-1": 24, "eu-central-1": 24,
    "ap-southeast-1": 20, "ap-northeast-2": 20, "sa-east-1": 16, "ca-central-1": 16, "eu-north-1": 16,
    "ap-southeast-2": 12,
}
MONTH_BY_REGION = {region: round(126_000 * n / 300, 2) for region, n in ATTACK.items()}
FAKE = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def seed(url: str) -> dict[str, list[str]]:
    """The attacked account; returns the Mumbai instance ids (for the clean-up afterwards)."""
    made: dict[str, list[str]] = {}
    for region, count in ATTACK.items():
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=url)
        key = ec2.create_key_pair(KeyName="xmrig")["KeyName"]
        group = ec2.create_security_group(GroupName="miner-sg", Description="all traffic")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        answer = ec2.run_instances(ImageId=AMI, MinCount=count, MaxCount=count, InstanceType="c5.4xlarge",
                                   KeyName=key, SecurityGroupIds=[group], TagSpecifications=[
                                       {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "worker"}]}])
        made[region] = [i["InstanceId"] for i in answer["Instances"]]
    boto3.client("ec2", region_name="ap-south-1", endpoint_url=url).create_volume(
        AvailabilityZone="ap-south-1a", Size=200, VolumeType="gp3")
    boto3.client("ec2", region_name="us-east-1", endpoint_url=url).request_spot_instances(
        InstanceCount=2, LaunchSpecification={"ImageId": AMI, "InstanceType": "c5.4xlarge"})
    usw2 = boto3.client("ec2", region_name="us-west-2", endpoint_url=url)
    usw2.create_launch_template(LaunchTemplateName="miner", LaunchTemplateData={
        "ImageId": AMI, "InstanceType": "c5.4xlarge"})
    boto3.client("autoscaling", region_name="us-west-2", endpoint_url=url).create_auto_scaling_group(
        AutoScalingGroupName="miners", LaunchTemplate={"LaunchTemplateName": "miner"}, MinSize=2, MaxSize=2,
        DesiredCapacity=2, AvailabilityZones=["us-west-2a"])
    iam = boto3.client("iam", endpoint_url=url)
    for user in ("backup-admin", "support-ops"):
        iam.create_user(UserName=user)
        iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.create_access_key(UserName=user)
    _cost_explorer(url)
    return made


def _cost_explorer(url: str) -> None:
    def grouped(amounts: dict[str, float]) -> dict[str, object]:
        return {"ResultsByTime": [{"TimePeriod": {"Start": "2026-12-01", "End": "2026-12-31"}, "Total": {},
                                   "Groups": [{"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": str(v),
                                                                                         "Unit": "USD"}}}
                                              for k, v in amounts.items()],
                                   "Estimated": True}], "DimensionValueAttributes": []}

    def quiet_months() -> dict[str, object]:
        """The six months before: a dormant account, a few cents of its own (the plan ends with closing it)."""
        first = date.today().replace(day=1)
        starts = [months_before(first, n) for n in range(6, -1, -1)]
        return {"ResultsByTime": [{"TimePeriod": {"Start": a.isoformat(), "End": b.isoformat()},
                                   "Total": {"UnblendedCost": {"Amount": "0.01", "Unit": "USD"}}, "Groups": [],
                                   "Estimated": False} for a, b in zip(starts, starts[1:], strict=False)],
                "DimensionValueAttributes": []}

    by_service = {"Amazon Elastic Compute Cloud - Compute": 121_400.0, "EC2 - Other": 4_600.0}
    # In the order the check asks: by service, by region, then the earlier months' totals.
    payload = json.dumps({"results": [grouped(by_service), grouped(MONTH_BY_REGION), quiet_months()]}).encode()
    request = urllib.request.Request(url + "/moto-api/static/ce/cost-and-usage-results", data=payload,
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()


def clean_up_part(url: str, mumbai: list[str]) -> None:
    """What the owner does after reading the plan: most of Mumbai, and one rogue user."""
    boto3.client("ec2", region_name="ap-south-1", endpoint_url=url).terminate_instances(InstanceIds=mumbai[:35])
    iam = boto3.client("iam", endpoint_url=url)
    for key in iam.list_access_keys(UserName="backup-admin")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="backup-admin", AccessKeyId=key["AccessKeyId"])
    iam.detach_user_policy(UserName="backup-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.delete_user(UserName="backup-admin")


def run_triage(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([str(TRIAGE), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 3):
        sys.stderr.write(done.stderr)
        raise SystemExit(f"demo: triage {args[0]} failed with status {done.returncode}")
    return done.stdout


def main() -> None:
    os.environ.update(FAKE)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        os.environ.pop(name, None)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto lacks a few read calls triage makes (Lightsail, CloudTrail's event history, the cost forecast,
    # the contact information); the tests' proxy answers them, as an account without any would.
    proxy = AwsProxy(url, canned=quiet_account_replies())
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url}
    try:
        mumbai = seed(url)["ap-south-1"]
        with tempfile.TemporaryDirectory(prefix="triage-demo-") as tmp:
            state = str(Path(tmp) / "state.db")
            common = ["--config", str(HERE / "config.toml"), "--state", state]
            out = run_triage(["scan", "--source", str(HERE / "inbox.mbox"), "--no-send", "--no-translate",
                              "--json", *common], env)
            summaries = [json.loads(line) for line in out.splitlines() if line.startswith('{"type": "summary"')]
            [summary] = [s for s in summaries if s["case_id"] == CASE]
            print(f"===== The summary triage sends for case {CASE} (Subject: {summary['subject']})\n")
            print(summary["text"])
            clean_up_part(url, mumbai)
            print("===== The owner terminates 35 of the 40 instances in Mumbai and deletes backup-admin; then:")
            print(f"      triage check-account --case {CASE}\n")
            recheck = run_triage(["check-account", "--case", CASE, *common], env)
            print(recheck[recheck.index("■ 前回の確認との比較"):] if "■ 前回の確認との比較" in recheck else recheck)
    finally:
        proxy.stop()
        server.stop()


if __name__ == "__main__":
    main()
