"""Which accounts a check reads, and the credentials for each: the account a mail names, every account of
an Organization, or (when nothing is named) whatever account the default credentials reach.

An account is reached through `[aws.accounts]` (a profile, or a role the default credentials assume), as
the default credentials themselves, or through `[aws] organization_role` in a member account of the
Organization the default credentials manage. Every AssumeRole carries triage's read-only session policy
(`plan.session_policy`). Whatever the way, STS is asked first whose credentials they are: credentials that
reach another account than the one wanted are never used for it. An account that cannot be reached is an
`AccountNotChecked` naming it and saying why; the others are still checked.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from triage.account.collecting import paginate
from triage.account.failures import error_code
from triage.account.plan import allowed_operations, session_policy
from triage.account.records import GLOBAL
from triage.account.report import AccountNotChecked
from triage.account.session import Clients, Identity, RoleCredentials, open_clients, read_only_models, whoami
from triage.account.sweep import Scope
from triage.config import AccountAccess, AwsSettings
from triage.errors import AwsCheckError

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

log = logging.getLogger(__name__)

SESSION_NAME = "triage-read-only-check"
ASSUMED_SECONDS = 3600
OPENING_AT_ONCE = 8  # accounts reached at the same time (STS allows far more; this keeps the threads few)


@dataclass(frozen=True)
class Target:
    """An account to check and how to reach it."""

    account_id: str | None  # None: the account the default credentials belong to, whichever it is
    access: AccountAccess | None = None  # None: the default credentials (or the Organization's role)
    via: str = "default"  # default | profile | role | organization: how the summary says it was reached

    @property
    def described(self) -> str:
        if self.access and self.access.profile:
            return f"profile {self.access.profile}"
        if self.access and self.access.role_arn:
            return f"role {self.access.role_arn}"
        return "the default credentials"


@dataclass(frozen=True)
class Opened:
    """An account reached: its guarded clients and whose credentials STS says they are."""

    target: Target
    clients: Clients
    identity: Identity


@dataclass(frozen=True)
class Selection:
    """The accounts a check reads, the ones it cannot, and the Organization when one was listed."""

    opened: tuple[Opened, ...]
    not_checked: tuple[AccountNotChecked, ...]
    management_account: str = ""  # the Organization's management account, when its accounts were swept
    organization_gap: str = ""  # why the Organization's accounts could not be listed


class DefaultCredentials:
    """The default credentials ([aws] profile or boto3's chain), opened once and only when needed."""

    def __init__(self, aws: AwsSettings, pool_size: int, exposed: frozenset[str] = frozenset()) -> None:
        self.aws = aws
        self.pool_size = pool_size
        self.models = read_only_models(allowed_operations())  # shared by every account's session
        self.exposed = exposed  # the access keys the mail names: never used, not even to assume a role
        self._opened: Opened | None = None
        self._error: AwsCheckError | None = None
        self._lock = threading.Lock()  # the accounts are reached at once, each may need these first

    def get(self) -> Opened:
        with self._lock:
            return self._get()

    def _get(self) -> Opened:
        if self._opened is None and self._error is None:
            try:
                clients = open_clients(self.aws.profile, session_policy=session_policy(), models=self.models,
                                       pool_size=self.pool_size)
                opened = Opened(Target(None), clients, whoami(clients))
                _refuse_exposed(opened, self.exposed)
                self._opened = opened
            except AwsCheckError as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        assert self._opened is not None
        return self._opened

    def problem(self) -> str:
        """Why the default credentials cannot be used ("" when they can)."""
        self.account_id()
        return str(self._error) if self._error else ""

    def account_id(self) -> str:
        """The default credentials' account, or "" when they do not work."""
        try:
            return self.get().identity.account_id
        except AwsCheckError:
            return ""


def select_accounts(
    aws: AwsSettings,
    *,
    named_accounts: Sequence[str] = (),
    all_accounts: bool = False,
    organization_notice: bool = False,
    exposed_keys: Iterable[str] = (),
    pool_size: int = 10,
) -> Selection:
    """Open every account the check must read. Raises AwsCheckError only when nothing can be read at all
    and nothing was named (the single-account check of old: no credentials is the whole answer)."""
    exposed = frozenset(exposed_keys)
    default = DefaultCredentials(aws, pool_size, exposed)
    named = list(dict.fromkeys(named_accounts))
    management = ""
    organization_gap = ""
    members: dict[str, str] = {}  # member account id -> its status
    if all_accounts and not aws.organization_role:
        raise AwsCheckError('--all-accounts needs [aws] organization_role (the role to assume in each member '
                            'account, such as "OrganizationAccountAccessRole")')
    sweep_organization = bool(aws.organization_role) and (
        all_accounts or organization_notice or (bool(named) and default.account_id() in named))
    if sweep_organization:
        base = default.get()
        try:
            members = list_members(base.clients)
            management = base.identity.account_id
        except (ClientError, BotoCoreError) as exc:
            organization_gap = _organization_gap(exc)
            log.warning("cannot list the Organization's accounts: %s", organization_gap)
            if all_accounts:
                raise AwsCheckError(f"cannot list the accounts of the Organization: {organization_gap}") from None
    elif aws.organization_role and any(a != default.account_id() and not aws.access_for(a) for a in named):
        try:  # a named account may be a member of the Organization the default credentials manage
            members = list_members(default.get().clients)
        except (ClientError, BotoCoreError, AwsCheckError):
            members = {}

    wanted: list[str | None] = []
    if management:
        # ListAccounts lists the management account too; it is read with the default credentials.
        wanted += [management, *sorted(a for a, status in members.items() if status == "ACTIVE" and a != management)]
    wanted += [a for a in named if a not in wanted]
    if not wanted:
        wanted = [None]

    targets = {account_id: _target(aws, account_id, default, members) for account_id in wanted}
    reached = _open_all([t for t in targets.values() if t is not None], default, pool_size, exposed)
    opened: list[Opened] = []
    not_checked: list[AccountNotChecked] = []
    for account_id, target in targets.items():
        if target is None:
            assert account_id is not None
            not_checked.append(_no_credentials(account_id, default))
            continue
        one = reached[target]
        if isinstance(one, Opened):
            opened.append(one)
            continue
        if account_id is None:
            raise one
        log.warning("account %s not checked: %s", account_id, one)
        not_checked.append(AccountNotChecked(str(one), account_id=account_id, via=target.via))
    return Selection(tuple(opened), tuple(not_checked), management, organization_gap)


def _open_all(targets: Sequence[Target], default: DefaultCredentials, pool_size: int,
              exposed: frozenset[str]) -> dict[Target, Opened | AwsCheckError]:
    """Reach every target at once: each costs two STS round trips (AssumeRole, GetCallerIdentity), and
    an Organization's accounts one after another would make the sweep wait for all of them."""

    def reach(target: Target) -> Opened | AwsCheckError:
        try:
            one = _open(target, default, pool_size)
            _refuse_exposed(one, exposed)
            return one
        except AwsCheckError as exc:
            return exc

    if len(targets) <= 1:
        return {t: reach(t) for t in targets}
    with ThreadPoolExecutor(max_workers=min(OPENING_AT_ONCE, len(targets)),
                            thread_name_prefix="triage-accounts") as pool:
        return dict(zip(targets, pool.map(reach, targets), strict=True))


def list_members(clients: Clients) -> dict[str, str]:
    """The Organization's accounts (id -> status) as its management account sees them."""
    scope = Scope(clients, "", GLOBAL, float("inf"))
    return {a["Id"]: a.get("Status", "") for page in paginate(scope, "organizations", "ListAccounts")
            for a in page.get("Accounts", [])}


def _target(aws: AwsSettings, account_id: str | None, default: DefaultCredentials,
            members: dict[str, str]) -> Target | None:
    if account_id is None:
        return Target(None)
    access = aws.access_for(account_id)
    if access is not None:
        return Target(account_id, access, "profile" if access.profile else "role")
    if default.account_id() == account_id:
        return Target(account_id)
    if aws.organization_role and account_id in members:
        arn = f"arn:aws:iam::{account_id}:role/{aws.organization_role}"
        return Target(account_id, AccountAccess(role_arn=arn), "organization")
    return None


def _open(target: Target, default: DefaultCredentials, pool_size: int) -> Opened:
    policy = session_policy()
    access = target.access
    if access is None:
        base = default.get()
        opened = Opened(target, base.clients, base.identity)
    else:
        if access.profile:
            clients = open_clients(access.profile, session_policy=policy, models=default.models, pool_size=pool_size)
        else:
            assert access.role_arn is not None
            manager = default.get().clients
            credentials = assume_role(manager, access.role_arn, policy)
            clients = manager.as_account(credentials)  # the same clients, signing as the member
        opened = Opened(target, clients, whoami(clients))
    if target.account_id is not None and opened.identity.account_id != target.account_id:
        raise AwsCheckError(
            f"{target.described} belong to account {opened.identity.account_id}, not to {target.account_id}; "
            f"its findings would not be this account's"
        )
    return opened


def assume_role(clients: Clients, role_arn: str, policy: str) -> RoleCredentials:
    """AssumeRole with the read-only session policy (the guard refuses it without)."""
    sts: STSClient = clients.client("sts", GLOBAL)
    try:
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME, Policy=policy,
                                 DurationSeconds=ASSUMED_SECONDS)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsCheckError(f"cannot assume the role {role_arn} ({error.get('Code', 'error')}: "
                            f"{error.get('Message', '')})") from None
    except BotoCoreError as exc:
        raise AwsCheckError(f"cannot assume the role {role_arn}: {exc}") from None
    if "PackedPolicySize" in answer:
        log.debug("session policy for %s uses %s%% of AWS's packed size", role_arn, answer["PackedPolicySize"])
    c = answer["Credentials"]
    return RoleCredentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def _refuse_exposed(opened: Opened, exposed: frozenset[str]) -> None:
    key = opened.identity.access_key_id
    if key and key in exposed:
        raise AwsCheckError(
            f"refusing to check the account with access key {key}: the AWS mail names it as "
            f"exposed; use other credentials (a separate read-only user or role)"
        )


def _no_credentials(account_id: str, default: DefaultCredentials) -> AccountNotChecked:
    reached = default.account_id()
    where = f"the default credentials reach account {reached}" if reached else \
        f"the default credentials cannot be used: {default.problem()}"
    return AccountNotChecked(
        f"no credentials for account {account_id} ({where}); add it to [aws.accounts] with a profile or a role_arn",
        account_id=account_id, missing_credentials=True, reached=reached,
    )


def _organization_gap(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code == "AWSOrganizationsNotInUseException":
            return "the default credentials' account is not in an Organization"
        if code in ("AccessDeniedException", "AccessDenied"):
            return "organizations:ListAccounts was refused: the default credentials are not the management account's"
        return f"organizations:ListAccounts failed ({code})"
    return f"organizations:ListAccounts failed ({type(exc).__name__}: {exc})"
