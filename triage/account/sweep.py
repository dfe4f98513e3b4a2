"""The one place where accounts are read concurrently: one bounded pool over shuffled tasks.

Many accounts share the one pool (`sweep_accounts`): each account has its own limit within it, and the
per-region limit, the deadline and CloudTrail's rate are kept per region of each account.

A task is one listing in one region (EC2 instances in eu-west-1) or of one account-wide thing (IAM users).
The sweep keeps about `max_in_flight` calls going in total and at most `per_region` in any one region, so
a slow or throttling region holds a few threads, never the whole pool. Work is shuffled across regions
(as aws-list-all does) so no region's endpoint gets all calls at once. Each region has a deadline counted
from its first call: what is not done by then becomes a gap, and the rest of the sweep goes on. A task
may hand back follow-up tasks (the regions found, the access keys of each user); they join the queue.

Errors become gaps here, in one place, so no collector can drop a failure silently. The only exception
that passes through is `RefusedAwsCall`: a write attempt is a bug, and the whole run fails.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from triage.account.failures import gap_for
from triage.account.records import GLOBAL, Fact, Gap, Resource
from triage.account.session import Clients
from triage.errors import RefusedAwsCall

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 24  # in one account
MAX_IN_FLIGHT_TOTAL = 64  # in all accounts together: the one pool's size when many accounts are swept
PER_REGION = 6  # in one region of one account
REGION_TIMEOUT = 180.0  # seconds from a region's first call


class RegionTimedOut(Exception):
    """Raised inside a task when its region's deadline passed between two pages."""


@dataclass(frozen=True)
class Scope:
    """What a task may use: the clients, the account, its region, and the time it must stop by."""

    clients: Clients
    account_id: str
    region: str
    deadline: float  # time.monotonic() value

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RegionTimedOut(self.region)

    def client(self, service: str) -> Any:
        """The guarded client of `service` (botocore's name) for this task's region."""
        return self.clients.client(service, self.region)


@dataclass(frozen=True)
class TaskResult:
    resources: tuple[Resource, ...] = ()
    gaps: tuple[Gap, ...] = ()
    more: tuple[Task, ...] = ()
    facts: tuple[Fact, ...] = ()


@dataclass(frozen=True)
class Task:
    region: str  # a region code, or GLOBAL
    service: str
    what: str  # the call or listing, for gaps and logs: "ec2:DescribeInstances"
    run: Callable[[Scope], TaskResult] = field(repr=False)
    account: str = ""  # the account it reads; set by the sweep, which hands follow-ups their parent's


@dataclass(frozen=True)
class SweepResult:
    resources: tuple[Resource, ...]
    gaps: tuple[Gap, ...]
    facts: tuple[Fact, ...]
    seconds: float


# Called once per finished task with its start and end (time.monotonic()); the benchmark uses it.
Observer = Callable[[Task, float, float], None]
# Called as regions finish: (regions with no task left, regions known so far); the CLI's progress line.
RegionProgress = Callable[[int, int], None]


def run_task(task: Task, scope: Scope) -> TaskResult:
    """Run one task; every failure except a refused write becomes a gap."""
    try:
        return task.run(scope)
    except RefusedAwsCall:
        raise
    except RegionTimedOut:
        return TaskResult(gaps=(Gap(task.region, task.service, "timed-out",
                                    f"{task.what} stopped: the region's time limit was reached", task.what),))
    except Exception as exc:
        if not isinstance(exc, ClientError | BotoCoreError):  # not AWS saying no: a bug, worth a traceback
            log.exception("%s in %s failed", task.what, task.region)
        return TaskResult(gaps=(gap_for(exc, task.region, task.service, task.what),))


def sweep(
    tasks: Iterable[Task],
    clients: Clients,
    account_id: str,
    *,
    max_in_flight: int = MAX_IN_FLIGHT,
    per_region: int = PER_REGION,
    region_timeout: float = REGION_TIMEOUT,
    seed: int | None = None,
    observer: Observer | None = None,
    progress: RegionProgress | None = None,
) -> SweepResult:
    """Run `tasks` of one account and their follow-ups; return everything found and every gap."""
    work = [AccountWork(account_id, clients, tuple(tasks))]
    return sweep_accounts(work, max_in_flight=max_in_flight, per_account=max_in_flight, per_region=per_region,
                          region_timeout=region_timeout, seed=seed, observer=observer, progress=progress)[account_id]


@dataclass(frozen=True)
class AccountWork:
    """One account's share of a sweep: its clients (its credentials) and its first tasks."""

    account_id: str
    clients: Clients
    tasks: tuple[Task, ...]


def sweep_accounts(
    work: Sequence[AccountWork],
    *,
    max_in_flight: int = MAX_IN_FLIGHT_TOTAL,
    per_account: int = MAX_IN_FLIGHT,
    per_region: int = PER_REGION,
    region_timeout: float = REGION_TIMEOUT,
    seed: int | None = None,
    observer: Observer | None = None,
    progress: RegionProgress | None = None,
) -> dict[str, SweepResult]:
    """Run the tasks of every account in one bounded pool: at most `max_in_flight` calls in all,
    `per_account` in one account and `per_region` in one region of one account. Results by account."""
    if not work:
        return {}
    rng = random.Random(seed)
    scopes = {w.account_id: w.clients for w in work}
    pending: list[Task] = [replace(t, account=w.account_id) for w in work for t in w.tasks]
    rng.shuffle(pending)
    found: dict[str, _Found] = {w.account_id: _Found() for w in work}
    running: dict[Future[tuple[TaskResult, float, float]], Task] = {}
    limits = _Limits(max_in_flight, per_account, per_region, region_timeout)
    regions = {(t.account, t.region) for t in pending if t.region != GLOBAL}  # for the progress line
    started = time.monotonic()

    def timed(task: Task, scope: Scope) -> tuple[TaskResult, float, float]:
        begin = time.monotonic()
        result = run_task(task, scope)
        return result, begin, time.monotonic()

    pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="triage-sweep")
    try:
        while pending or running:
            _fill(pool, pending, running, limits, scopes, timed)
            if not running:
                break
            nearest = min(limits.deadlines[_where(t)] for t in running.values())
            done, _ = wait(running, timeout=max(0.0, nearest - time.monotonic()), return_when=FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                limits.release(task)
                result, begin, end = future.result()  # re-raises RefusedAwsCall
                if observer is not None:
                    observer(task, begin, end)
                found[task.account].add(result)
                for more in result.more:
                    pending.insert(rng.randrange(len(pending) + 1), replace(more, account=task.account))
                    if more.region != GLOBAL:
                        regions.add((task.account, more.region))
            for task, gap in _expire(pending, running, limits):
                found[task.account].gaps.append(gap)
            if progress is not None:
                busy = {(t.account, t.region) for t in (*pending, *running.values())}
                progress(len(regions - busy), len(regions))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    # Calls abandoned at a deadline may still be waiting on the network; they end at the read timeout.
    pool.shutdown(wait=False, cancel_futures=True)
    seconds = time.monotonic() - started
    return {account: f.result(seconds) for account, f in found.items()}


@dataclass
class _Found:
    resources: list[Resource] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)

    def add(self, result: TaskResult) -> None:
        self.resources.extend(result.resources)
        self.gaps.extend(result.gaps)
        self.facts.extend(result.facts)

    def result(self, seconds: float) -> SweepResult:
        return SweepResult(tuple(self.resources), tuple(_unique(self.gaps)), tuple(self.facts), seconds)


def _where(task: Task) -> tuple[str, str]:
    """The unit of the per-region limit, deadline and rate: one region of one account."""
    return task.account, task.region


@dataclass
class _Limits:
    """What is running where, against the three limits, and each region's deadline."""

    total: int
    per_account: int
    per_region: int
    region_timeout: float
    in_account: Counter[str] = field(default_factory=Counter)
    in_region: Counter[tuple[str, str]] = field(default_factory=Counter)
    deadlines: dict[tuple[str, str], float] = field(default_factory=dict)

    def room_for(self, task: Task) -> bool:
        return self.in_account[task.account] < self.per_account and self.in_region[_where(task)] < self.per_region

    def take(self, task: Task) -> float:
        self.in_account[task.account] += 1
        self.in_region[_where(task)] += 1
        return self.deadlines.setdefault(_where(task), time.monotonic() + self.region_timeout)

    def release(self, task: Task) -> None:
        self.in_account[task.account] -= 1
        self.in_region[_where(task)] -= 1


def _fill(
    pool: ThreadPoolExecutor,
    pending: list[Task],
    running: dict[Future[tuple[TaskResult, float, float]], Task],
    limits: _Limits,
    scopes: Mapping[str, Clients],
    timed: Callable[[Task, Scope], tuple[TaskResult, float, float]],
) -> None:
    """Start pending tasks, in queue order, while there is room in the pool, their account and their region."""
    i = 0
    while len(running) < limits.total and i < len(pending):
        task = pending[i]
        if not limits.room_for(task):
            i += 1
            continue
        pending.pop(i)
        deadline = limits.take(task)
        scope = Scope(scopes[task.account], task.account, task.region, deadline)
        running[pool.submit(timed, task, scope)] = task


def _expire(
    pending: list[Task],
    running: dict[Future[tuple[TaskResult, float, float]], Task],
    limits: _Limits,
) -> list[tuple[Task, Gap]]:
    """Give up on the tasks of regions past their deadline; each becomes a gap of its account."""
    now = time.monotonic()
    late = {where for where, deadline in limits.deadlines.items() if deadline <= now}
    if not late:
        return []
    gaps = []
    for future, task in list(running.items()):
        if _where(task) in late:
            future.cancel()
            del running[future]
            limits.release(task)
            gaps.append((task, Gap(task.region, task.service, "timed-out",
                                   f"{task.what} did not finish within the region's time limit", task.what)))
    for task in [t for t in pending if _where(t) in late]:
        pending.remove(task)
        gaps.append((task, Gap(task.region, task.service, "timed-out",
                               f"{task.what} was not started: the region's time limit was reached", task.what)))
    return gaps


def _unique(gaps: Sequence[Gap]) -> list[Gap]:
    return list(dict.fromkeys(gaps))
