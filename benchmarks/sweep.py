"""Benchmark: the account check of every region, concurrent vs. sequential, against moto behind a proxy
that adds 100 ms to every call (about what a real AWS endpoint far away costs).

The account is the seed case: 300 instances spread over ten regions, a few IAM users with keys. moto and
the proxy each run in a child process of their own. An untimed first check goes through to moto; the
proxy keeps moto's answers and gives them again, after the delay, in the timed runs. On a 2-core machine
moto's own CPU time would otherwise be what is measured, not the sweep.
Three runs of `check_account`, all in this run:

  concurrent   the real thing (about 24 calls in flight, at most 6 per region)
  sequential   the same calls one after another (max_in_flight=1)
  one region   the slowest region alone, concurrent (`check-account --regions <it>`)

With `--accounts K` (issue 15), the management account makes an Organization of K-1 more member accounts,
each attacked the same way, and a fourth run checks all K accounts (`check-account --all-accounts`, the
members through the assumed role) in the sweep's one pool; it is compared with the one-account run.

Printed: the times, the calls made, and the ratios for the two goals of issue 4:
  - concurrent is at least 10x faster than sequential;
  - concurrent takes at most 3x the time of the slowest single region. "The time of a region" is
    measured two ways and both are printed: its calls one after another (summed from the sequential
    run), and the region checked alone by the concurrent sweeper (which includes the account-wide work).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.aws_server import FAKE_ENV  # the same throw-away credentials the tests use

ROOT = Path(__file__).resolve().parent.parent
DELAY = 0.100
ROLE = "OrganizationAccountAccessRole"
ATTACK = {
    "us-east-1": 60, "us-east-2": 40, "us-west-2": 40, "eu-west-1": 30, "eu-central-1": 30,
    "ap-southeast-1": 30, "ap-south-1": 25, "sa-east-1": 20, "ca-central-1": 15, "eu-north-1": 10,
}


def serve_moto(conn: Any, accounts: int) -> None:
    """Child process: moto with the attacked account (and `accounts - 1` attacked members), warmed up."""
    sys.path.insert(0, str(ROOT))
    os.environ.update(FAKE_ENV)
    import boto3

    from tests.aws_server import MotoServer, aws_environment

    moto = MotoServer()
    with aws_environment(moto.url):
        attack(boto3.Session())
        if accounts > 1:
            org = boto3.client("organizations")
            org.create_organization(FeatureSet="ALL")
            for n in range(accounts - 1):
                member = org.create_account(AccountName=f"m{n}", Email=f"m{n}@example.jp")["CreateAccountStatus"]
                c = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member['AccountId']}:role/{ROLE}",
                                                    RoleSessionName="plant")["Credentials"]
                attack(boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                                     aws_session_token=c["SessionToken"]))
    conn.send(moto.url)
    conn.recv()  # until the parent is done
    moto.stop()


def attack(session: Any) -> None:
    """One account of the seed case: 300 instances in ten regions, three IAM users with keys."""
    for region, count in ATTACK.items():
        session.client("ec2", region_name=region).run_instances(
            ImageId="ami-12c6146b", MinCount=count, MaxCount=count, InstanceType="c5.4xlarge")
    iam = session.client("iam")
    for user in ("owner", "backup-admin", "svc-deploy"):
        iam.create_user(UserName=user)
        iam.create_access_key(UserName=user)


def serve_proxy(conn: Any, upstream: str, accounts: int) -> None:
    """Child process: the proxy adding DELAY to every call.

    A first check, untimed and without delay, goes through to moto and the proxy keeps moto's answers;
    the timed runs get those answers again (each after DELAY). So moto's own CPU time, on the same few
    cores as the sweep, does not stand in for AWS's latency, and every timed run meets the same server.
    """
    sys.path.insert(0, str(ROOT))
    os.environ.update(FAKE_ENV)
    from tests.aws_server import AwsProxy, aws_environment
    from triage.account import check_account, check_accounts
    from triage.config import AwsSettings, BillingSettings

    proxy = AwsProxy(upstream, canned=canned(), replay=True)
    with aws_environment(proxy.url):
        check_account(AwsSettings(), BillingSettings())
        if accounts > 1:
            check_accounts(AwsSettings(organization_role=ROLE), BillingSettings(), all_accounts=True)
    proxy.delay = DELAY
    conn.send(proxy.url)
    conn.recv()
    proxy.stop()


def canned() -> dict[str, Any]:
    """Answers for what moto does not have (Lightsail, CloudTrail LookupEvents, the forecast, the contact)."""
    from tests.aws_server import json_reply

    return {
        "lightsail:GetInstances": lambda c: json_reply({"instances": []}),
        "cloudtrail:LookupEvents": lambda c: json_reply({"Events": []}),
        "ce:GetCostForecast": lambda c: json_reply({"Total": {"Amount": "1000", "Unit": "USD"}}),
        "account:GetContactInformation": lambda c: json_reply({"ContactInformation": {}}, rest=True),
    }


def run(regions: tuple[str, ...] | None, max_in_flight: int, per_region: int) -> tuple[float, Any, dict[str, float],
                                                                                     int]:
    from triage.account import SweepLimits, check_account
    from triage.config import AwsSettings, BillingSettings

    busy: dict[str, float] = defaultdict(float)
    calls = [0]

    def observe(task: Any, begin: float, end: float) -> None:
        busy[task.region] += end - begin
        calls[0] += 1

    start, cpu = time.monotonic(), time.process_time()
    report = check_account(AwsSettings(regions=regions), BillingSettings(),
                           limits=SweepLimits(max_in_flight=max_in_flight, per_region=per_region), observer=observe)
    CPU_SECONDS[(regions, max_in_flight)] = time.process_time() - cpu
    return time.monotonic() - start, report, dict(busy), calls[0]


# The CPU time of this process in each run, by (regions, max_in_flight) and "accounts": printed beside the
# times, so that a run bound by this process's CPU (one interpreter lock) is told from one bound by latency.
CPU_SECONDS: dict[Any, float] = {}


def run_all_accounts() -> tuple[float, Any]:
    from triage.account import check_accounts
    from triage.config import AwsSettings, BillingSettings

    start, cpu = time.monotonic(), time.process_time()
    many = check_accounts(AwsSettings(organization_role=ROLE), BillingSettings(), all_accounts=True)
    CPU_SECONDS["accounts"] = time.process_time() - cpu
    return time.monotonic() - start, many


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=1, help="K accounts: the management account and K-1 members")
    accounts = max(1, parser.parse_args().accounts)
    load = os.getloadavg()[0]  # before this benchmark starts anything: the other work on the machine
    sys.path.insert(0, str(ROOT))
    context = multiprocessing.get_context("spawn")
    moto_end, moto_child = context.Pipe()
    moto = context.Process(target=serve_moto, args=(moto_child, accounts), daemon=True)
    moto.start()
    proxy_end, proxy_child = context.Pipe()
    proxy = context.Process(target=serve_proxy, args=(proxy_child, moto_end.recv(), accounts), daemon=True)
    proxy.start()
    os.environ.update(FAKE_ENV)
    os.environ["AWS_ENDPOINT_URL"] = proxy_end.recv()
    try:
        concurrent, report, _, tasks = run(None, 24, 6)
        many_time, many, per_call = 0.0, None, 0.0
        if accounts > 1:  # issue 15's comparison only: K accounts against the one account just measured
            many_time, many = run_all_accounts()
            per_call = cpu_per_call()
        else:
            sequential, seq_report, busy, _ = run(None, 1, 1)
            regional = {r: t for r, t in busy.items() if r != "global"}
            slowest = max(regional, key=lambda r: regional[r])
            alone, _, _, _ = run((slowest,), 24, 6)
    finally:
        for end, process in ((proxy_end, proxy), (moto_end, moto)):
            end.send("stop")
            process.join(timeout=30)

    # The sweep is bound by this process's CPU: other work on a 2-core machine slows the many-account run
    # more than the one-account run, so the ratios are only comparable at a similar load.
    print(f"load average before the benchmark: {load:.1f} on {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"account: {len(report.resources)} resources in {len(report.regions_swept)} regions swept; "
          f"{tasks} listings; {DELAY * 1000:.0f} ms added to every call")
    print(f"concurrent sweep (24 in flight, 6 per region): {concurrent:7.2f} s   "
          f"(CPU of this process: {CPU_SECONDS[(None, 24)]:.2f} s)")
    if accounts > 1:
        return compare_accounts(accounts, concurrent, report, many_time, many, per_call, tasks)
    assert len(report.resources) == len(seq_report.resources), "both sweeps must see the same account"
    print(f"sequential sweep (the same calls, one by one):  {sequential:7.2f} s")
    print(f"slowest region {slowest}, its calls one by one:  {regional[slowest]:7.2f} s")
    print(f"slowest region {slowest} checked alone:          {alone:7.2f} s")
    speedup = sequential / concurrent
    by_calls = concurrent / regional[slowest]
    by_alone = concurrent / alone
    print(f"speed-up vs sequential: {speedup:5.1f}x   (goal >= 10x: {'met' if speedup >= 10 else 'MISSED'})")
    print(f"concurrent / slowest region's calls one by one: {by_calls:4.2f}x   "
          f"(goal <= 3x: {'met' if by_calls <= 3 else 'MISSED'})")
    print(f"concurrent / slowest region checked alone:      {by_alone:4.2f}x   "
          f"(goal <= 3x: {'met' if by_alone <= 3 else 'MISSED'})")
    return 0


def cpu_per_call(calls: int = 240) -> float:
    """This process's CPU for one botocore call of the smallest kind (DescribeKeyPairs, an empty answer),
    made `calls` times, 24 at once, through a client as the sweep makes them: what a call costs before any
    answer is read. The proxy's delay is waiting, not CPU."""
    from concurrent.futures import ThreadPoolExecutor

    from triage.account.plan import allowed_operations, session_policy
    from triage.account.session import open_clients, read_only_models

    clients = open_clients(None, session_policy=session_policy(), models=read_only_models(allowed_operations()),
                           pool_size=28)
    ec2 = clients.client("ec2", "eu-north-1")
    ec2.describe_key_pairs()  # the client made, its connection open
    start = time.process_time()
    with ThreadPoolExecutor(24) as pool:
        list(pool.map(lambda _: ec2.describe_key_pairs(), range(calls)))
    return (time.process_time() - start) / calls


def compare_accounts(accounts: int, concurrent: float, report: Any, many_time: float, many: Any,
                     per_call: float, calls: int) -> int:
    """Issue 15's goal: K accounts x all regions in the one pool, against one account in the same run."""
    checked = [r for r in many.reports if r.checked]
    assert len(many.reports) == accounts == len(checked), [getattr(r, "reason", "") for r in many.reports]
    assert all(len(r.of_type("instance")) == len(report.of_type("instance")) for r in checked), "seen whole"
    ratio = many_time / concurrent
    print(f"{accounts} accounts x all regions, one pool:   {many_time:7.2f} s "
          f"({sum(len(r.resources) for r in checked)} resources; CPU of this process: {CPU_SECONDS['accounts']:.2f} s)")
    print(f"{accounts} accounts / one account: {ratio:4.2f}x   (goal for 5 accounts <= 2x: "
          f"{'met' if ratio <= 2 else 'MISSED'})")
    print(f"botocore's CPU per call (DescribeKeyPairs, 24 at once): {per_call * 1000:.1f} ms; an account's "
          f"{calls} calls: {per_call * calls:.2f} s at least; {accounts} accounts, one interpreter lock: "
          f"{accounts * per_call * calls:.2f} s at least, against {2 * concurrent:.2f} s for 2x one account")
    return 0


if __name__ == "__main__":
    sys.exit(main())
