"""The read-only AWS account cross-check (the pipeline's "check account" stage).

`check_account` reads every enabled region in parallel, IAM, and the month's cost, marks what looks like
an intruder's, and says plainly what it could not see. It never writes: see `guard`.

The names below are loaded on first use: a scan that checks no account (`--no-aws`, `--offline`) reads
the report records and the plan's wording without importing boto3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.account.check import SweepLimits, check_account
    from triage.account.report import AccountNotChecked, AccountReport, json_records

_WHERE = {"SweepLimits": "check", "check_account": "check",
          "AccountNotChecked": "report", "AccountReport": "report", "json_records": "report"}

__all__ = ["AccountNotChecked", "AccountReport", "SweepLimits", "check_account", "json_records"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
