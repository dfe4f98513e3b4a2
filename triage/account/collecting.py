"""What a collector declares about itself, and the one pagination loop every listing goes through.

A collector (one module in `triage/account/collectors/`, found there by its `COLLECTOR`) says which
service it reads, every call it makes as IAM names it, the resource types it reports (with their place
in the reader's order, their console page and whether they bill without a price in rules/prices.toml),
and how each page of a listing becomes records. Everything else is derived from these declarations:
the IAM policy check, the calls the read-only service models keep, the display order, the console links
and the check that each type has its Japanese word (`templates/_account_words.j2`, keyed by the type's
code). Threads, retries, deadlines and gaps are the sweep's business, never a collector's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from botocore import xform_name

from triage.account.records import Resource
from triage.account.sweep import Scope, Task, TaskResult

# One page of an AWS answer, read into records; the scope lets a reader make the calls it declared
# (ECS's DescribeClusters for the cluster names a page lists).
PageReader = Callable[[Mapping[str, Any], Scope], Iterable[Resource]]
# Tasks a collector builds itself, for what is not one listing: (region or GLOBAL, today) -> tasks.
TaskMaker = Callable[[str, date], Sequence[Task]]


@dataclass(frozen=True)
class Kind:
    """A resource type a collector reports. `code` is also the key of its Japanese word."""

    code: str  # "instance", "eks-cluster": DESIGN's vocabulary, what --json prints
    rank: int  # place in the reader's order: most expensive and most telling first (lower is earlier)
    console: str  # the console page listing them; {r} is the region (us-east-1 for account-wide types)
    bills_unpriced: bool = False  # bills while it exists, but rules/prices.toml has no price for it


@dataclass(frozen=True)
class Listing:
    """One paginated call and how a page of its answer becomes records."""

    call: str  # "ec2:DescribeInstances", as IAM names it
    read: PageReader
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def operation(self) -> str:
        return self.call.split(":", 1)[1]


@dataclass(frozen=True)
class Collector:
    service: str  # botocore's name for the service ("lambda", "bedrock")
    calls: tuple[str, ...]  # every call it makes; contrib/iam-policy.json allows exactly these (and the rest's)
    kinds: tuple[Kind, ...] = ()
    listings: tuple[Listing, ...] = ()  # one task each
    custom_tasks: TaskMaker | None = None  # for the work that is not one listing (IAM's report, Cost Explorer)
    regional: bool = True  # False: account-wide, its tasks run once with region GLOBAL
    everywhere: bool = False  # True: tried in every region swept, even where botocore does not list it

    def __post_init__(self) -> None:
        undeclared = {listing.call for listing in self.listings} - set(self.calls)
        if undeclared:
            raise ValueError(f"{self.service}: listings call {sorted(undeclared)} but do not declare them")

    def tasks(self, region: str, today: date) -> list[Task]:
        made = [Task(region, self.service, listing.call, _run_listing(self.service, listing))
                for listing in self.listings]
        if self.custom_tasks is not None:
            made.extend(self.custom_tasks(region, today))
        return made


def _run_listing(service: str, listing: Listing) -> Callable[[Scope], TaskResult]:
    def run(scope: Scope) -> TaskResult:
        pages = paginate(scope, service, listing.operation, **listing.params)
        return TaskResult(resources=tuple(r for page in pages for r in listing.read(page, scope)))

    return run


def paginate(scope: Scope, service: str, operation: str, **params: Any) -> Iterator[Mapping[str, Any]]:
    """Every page of `operation` in the scope's region; between two pages, the region's deadline is checked.

    An operation botocore has no paginator for is one page.
    """
    client = scope.client(service)
    method = xform_name(operation)
    if not client.can_paginate(method):
        yield getattr(client, method)(**params)
        return
    for page in client.get_paginator(method).paginate(**params):
        yield page
        scope.check_time()


def batches(items: Sequence[str], size: int = 100) -> Iterator[list[str]]:
    """`items` in lists of at most `size`: the Describe/BatchGet calls that take many names take 100."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
