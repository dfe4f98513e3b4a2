"""The sweep engine on its own (no AWS): bounded concurrency in total and per region, shuffled work,
follow-up tasks, errors as gaps, a slow region cut off at its deadline, and refused writes passing through."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from triage.account.records import Gap, Resource
from triage.account.sweep import Scope, Task, TaskResult, run_task, sweep
from triage.errors import RefusedAwsCall


class Meter:
    """Counts tasks running at once, in total and per region."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.total = 0
        self.max_total = 0
        self.max_region: Counter[str] = Counter()
        self.started: list[str] = []

    def task(self, region: str, n: int, seconds: float = 0.02) -> Task:
        def run(scope: Scope) -> TaskResult:
            with self.lock:
                self.now[region] += 1
                self.total += 1
                self.max_total = max(self.max_total, self.total)
                self.max_region[region] = max(self.max_region[region], self.now[region])
                self.started.append(region)
            time.sleep(seconds)
            with self.lock:
                self.now[region] -= 1
                self.total -= 1
            return TaskResult(resources=(Resource(region, "test", "instance", f"{region}-{n}"),))

        return Task(region, "test", f"test:List{n}", run)


def test_calls_in_flight_are_bounded_in_total_and_per_region() -> None:
    meter = Meter()
    regions = [f"r{i}" for i in range(10)]
    tasks = [meter.task(r, n) for r in regions for n in range(10)]
    result = sweep(tasks, None, "1", max_in_flight=8, per_region=3, seed=1)  # type: ignore[arg-type]
    assert len(result.resources) == 100 and result.gaps == ()
    assert 1 < meter.max_total <= 8
    assert max(meter.max_region.values()) <= 3


def test_work_is_shuffled_across_regions() -> None:
    meter = Meter()
    tasks = [meter.task(r, n) for r in ("a", "b", "c", "d") for n in range(10)]  # queued region by region
    sweep(tasks, None, "1", max_in_flight=4, per_region=4, seed=7)  # type: ignore[arg-type]
    assert len(set(meter.started[:8])) >= 3


def test_follow_up_tasks_run_too() -> None:
    meter = Meter()

    def discover(scope: Scope) -> TaskResult:
        return TaskResult(more=tuple(meter.task(r, 0) for r in ("x", "y", "z")))

    result = sweep([Task("global", "test", "test:Discover", discover)], None, "1")  # type: ignore[arg-type]
    assert sorted(r.region for r in result.resources) == ["x", "y", "z"]


def test_errors_become_gaps_and_a_refused_write_ends_the_run() -> None:
    def denied(scope: Scope) -> TaskResult:
        raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DescribeVolumes")

    def throttled(scope: Scope) -> TaskResult:
        raise ClientError({"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}}, "DescribeVolumes")

    def bug(scope: Scope) -> TaskResult:
        raise KeyError("InstanceId")

    tasks = [Task("r1", "ec2", "ec2:DescribeVolumes", denied), Task("r2", "ec2", "ec2:DescribeVolumes", throttled),
             Task("r3", "ec2", "ec2:DescribeImages", bug)]
    result = sweep(tasks, None, "1")  # type: ignore[arg-type]
    kinds = {(g.region, g.kind) for g in result.gaps}
    assert kinds == {("r1", "access-denied"), ("r2", "throttled"), ("r3", "error")}
    assert all(isinstance(g, Gap) and g.what for g in result.gaps)

    def write(scope: Scope) -> TaskResult:
        raise RefusedAwsCall("refused the AWS call ec2:TerminateInstances")

    with pytest.raises(RefusedAwsCall):
        sweep([Task("r1", "ec2", "ec2:TerminateInstances", write)], None, "1")  # type: ignore[arg-type]
    with pytest.raises(RefusedAwsCall):
        run_task(Task("r1", "ec2", "x", write), Scope(None, "1", "r1", time.monotonic() + 5))  # type: ignore[arg-type]


def test_a_slow_region_is_cut_off_and_the_others_are_reported() -> None:
    released = threading.Event()
    seen_released_late: list[bool] = []

    def slow(scope: Scope) -> TaskResult:
        # Waits until the sweep has returned (or 10 s): proves the sweep did not wait for it.
        seen_released_late.append(released.wait(10))
        return TaskResult(resources=(Resource("slow-1", "test", "instance", "late"),))

    def paging(scope: Scope) -> TaskResult:
        while True:  # a listing with endless pages stops at the deadline
            time.sleep(0.01)
            scope.check_time()

    meter = Meter()
    tasks = [Task("slow-1", "test", "test:Slow", slow), Task("slow-1", "test", "test:Paging", paging),
             *(meter.task("fast-1", n) for n in range(5))]
    result = sweep(tasks, None, "1", region_timeout=0.5, per_region=1)  # type: ignore[arg-type]
    released.set()
    assert sorted(r.id for r in result.resources) == [f"fast-1-{n}" for n in range(5)]
    assert {(g.region, g.kind) for g in result.gaps} == {("slow-1", "timed-out")}
    assert {g.what for g in result.gaps} == {"test:Slow", "test:Paging"}
    time.sleep(0.05)
    assert seen_released_late in ([True], [])
