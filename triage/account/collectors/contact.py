"""The account's contact information: an attacker may change it to keep the account."""

from __future__ import annotations

from triage.account.records import GLOBAL, Contact
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "account"
CALLS = ("account:GetContactInformation",)


def tasks() -> list[Task]:
    return [Task(GLOBAL, SERVICE, "account:GetContactInformation", _contact)]


def _contact(scope: Scope) -> TaskResult:
    info = scope.clients.account().get_contact_information().get("ContactInformation", {})
    return TaskResult(facts=(Contact(
        full_name=info.get("FullName", ""),
        company=info.get("CompanyName", ""),
        phone=info.get("PhoneNumber", ""),
        country=info.get("CountryCode", ""),
    ),))
