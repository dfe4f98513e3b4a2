"""The account's contact information: an attacker may change it to keep the account."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from triage.account.collecting import Collector
from triage.account.records import GLOBAL, Contact
from triage.account.sweep import Scope, Task, TaskResult

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient

SERVICE = "account"


def _tasks(region: str, today: date) -> list[Task]:
    return [Task(GLOBAL, SERVICE, "account:GetContactInformation", _contact)]


def _contact(scope: Scope) -> TaskResult:
    account: AccountClient = scope.client(SERVICE)
    info = account.get_contact_information().get("ContactInformation", {})
    return TaskResult(facts=(Contact(
        full_name=info.get("FullName", ""),
        company=info.get("CompanyName", ""),
        phone=info.get("PhoneNumber", ""),
        country=info.get("CountryCode", ""),
    ),))


COLLECTOR = Collector(
    service=SERVICE,
    calls=("account:GetContactInformation",),
    custom_tasks=_tasks,
    regional=False,
)
