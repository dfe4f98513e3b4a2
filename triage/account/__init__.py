"""The read-only AWS account cross-check (DESIGN: "check account").

`check_account` reads every enabled region in parallel, IAM, and the month's cost, marks what looks like
an intruder's, and says plainly what it could not see. It never writes: see `guard`.
"""

from triage.account.check import SweepLimits, check_account, check_accounts
from triage.account.report import AccountNotChecked, AccountReport, AccountsReport, json_records

__all__ = ["AccountNotChecked", "AccountReport", "AccountsReport", "SweepLimits", "check_account", "check_accounts",
           "json_records"]
