"""The one place where the account is read concurrently: a bounded pool over shuffled tasks.

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
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from triage.account.failures import gap_for
from triage.account.records import GLOBAL, Fact, Gap, Resource
from triage.account.session import Clients
from triage.errors import RefusedAwsCall

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 24
PER_REGION = 6
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
    """Run `tasks` and their follow-ups; return everything found and every gap."""
    rng = random.Random(seed)
    pending: list[Task] = list(tasks)
    rng.shuffle(pending)
    resources: list[Resource] = []
    gaps: list[Gap] = []
    facts: list[Fact] = []
    running: dict[Future[tuple[TaskResult, float, float]], Task] = {}
    in_region: Counter[str] = Counter()
    deadlines: dict[str, float] = {}
    regions = {t.region for t in pending} - {GLOBAL}
    started = time.monotonic()

    def timed(task: Task, scope: Scope) -> tuple[TaskResult, float, float]:
        begin = time.monotonic()
        result = run_task(task, scope)
        return result, begin, time.monotonic()

    pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="triage-sweep")
    try:
        while pending or running:
            _fill(pool, pending, running, in_region, deadlines, clients, account_id, max_in_flight, per_region,
                  region_timeout, timed)
            if not running:
                break
            nearest = min(deadlines[t.region] for t in running.values())
            done, _ = wait(running, timeout=max(0.0, nearest - time.monotonic()), return_when=FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                in_region[task.region] -= 1
                result, begin, end = future.result()  # re-raises RefusedAwsCall
                if observer is not None:
                    observer(task, begin, end)
                resources.extend(result.resources)
                gaps.extend(result.gaps)
                facts.extend(result.facts)
                for more in result.more:
                    pending.insert(rng.randrange(len(pending) + 1), more)
                    if more.region != GLOBAL:
                        regions.add(more.region)
            gaps.extend(_expire(pending, running, in_region, deadlines))
            if progress is not None:
                busy = {t.region for t in pending} | {t.region for t in running.values()}
                progress(len(regions - busy), len(regions))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    # Calls abandoned at a deadline may still be waiting on the network; they end at the read timeout.
    pool.shutdown(wait=False, cancel_futures=True)
    return SweepResult(tuple(resources), tuple(_unique(gaps)), tuple(facts), time.monotonic() - started)


def _fill(
    pool: ThreadPoolExecutor,
    pending: list[Task],
    running: dict[Future[tuple[TaskResult, float, float]], Task],
    in_region: Counter[str],
    deadlines: dict[str, float],
    clients: Clients,
    account_id: str,
    max_in_flight: int,
    per_region: int,
    region_timeout: float,
    timed: Callable[[Task, Scope], tuple[TaskResult, float, float]],
) -> None:
    """Start pending tasks, in queue order, while there is room in the pool and in their region."""
    i = 0
    while len(running) < max_in_flight and i < len(pending):
        task = pending[i]
        if in_region[task.region] >= per_region:
            i += 1
            continue
        pending.pop(i)
        deadline = deadlines.setdefault(task.region, time.monotonic() + region_timeout)
        scope = Scope(clients, account_id, task.region, deadline)
        running[pool.submit(timed, task, scope)] = task
        in_region[task.region] += 1


def _expire(
    pending: list[Task],
    running: dict[Future[tuple[TaskResult, float, float]], Task],
    in_region: Counter[str],
    deadlines: dict[str, float],
) -> list[Gap]:
    """Give up on the tasks of regions past their deadline; each becomes a gap."""
    now = time.monotonic()
    late = {region for region, deadline in deadlines.items() if deadline <= now}
    if not late:
        return []
    gaps = []
    for future, task in list(running.items()):
        if task.region in late:
            future.cancel()
            del running[future]
            in_region[task.region] -= 1
            gaps.append(Gap(task.region, task.service, "timed-out",
                            f"{task.what} did not finish within the region's time limit", task.what))
    for task in [t for t in pending if t.region in late]:
        pending.remove(task)
        gaps.append(Gap(task.region, task.service, "timed-out",
                        f"{task.what} was not started: the region's time limit was reached", task.what))
    return gaps


def _unique(gaps: Sequence[Gap]) -> list[Gap]:
    return list(dict.fromkeys(gaps))
