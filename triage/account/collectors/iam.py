"""IAM, account-wide: users (console password, MFA, keys, admin rights, AWS's quarantine policies), roles
that are not service-linked, identity providers, the root user's MFA and keys, and the credential report.

All users, groups, roles and local policies come in one paginated call (GetAccountAuthorizationDetails);
each user's access keys are a follow-up task so that many users do not queue behind one another.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from triage.account.collecting import Collector, Kind, paginate
from triage.account.failures import error_code
from triage.account.records import GLOBAL, CredentialReport, CredentialRow, Resource, RootUser
from triage.account.sweep import Scope, Task, TaskResult
from triage.account.tags_and_times import as_utc

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

SERVICE = "iam"
_CONSOLE = "https://console.aws.amazon.com/iam/home#/"

# AWS managed policies that give, or let a principal give itself, every permission.
ADMIN_POLICIES = frozenset({
    "AdministratorAccess", "IAMFullAccess", "AdministratorAccess-Amplify", "AdministratorAccess-AWSElasticBeanstalk",
})
# AWS attaches these to a user whose key it found exposed (V2, V3, V4 so far; later versions match too).
QUARANTINE = re.compile(r"^AWSCompromisedKeyQuarantine(V\d+)?$")
_REPORT_TRIES = 10


def _tasks(region: str, today: date) -> list[Task]:
    return [
        Task(GLOBAL, SERVICE, "iam:GetAccountAuthorizationDetails", _principals),
        Task(GLOBAL, SERVICE, "iam:GetCredentialReport", _credential_report),
        Task(GLOBAL, SERVICE, "iam:GetAccountSummary", _root),
        Task(GLOBAL, SERVICE, "iam:ListOpenIDConnectProviders", _oidc_providers),
        Task(GLOBAL, SERVICE, "iam:ListSAMLProviders", _saml_providers),
    ]


# --- users and roles --------------------------------------------------------------------------


def _principals(scope: Scope) -> TaskResult:
    users: list[Mapping[str, Any]] = []
    roles: list[Mapping[str, Any]] = []
    groups: dict[str, Mapping[str, Any]] = {}
    local_policies: dict[str, Any] = {}
    for page in paginate(scope, SERVICE, "GetAccountAuthorizationDetails",
                         Filter=["User", "Role", "Group", "LocalManagedPolicy"]):
        users.extend(page.get("UserDetailList", []))
        roles.extend(page.get("RoleDetailList", []))
        groups.update({g["GroupName"]: g for g in page.get("GroupDetailList", [])})
        for p in page.get("Policies", []):
            default = next((v for v in p.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), None)
            local_policies[p["Arn"]] = default.get("Document") if default else None

    out = []
    more = []
    for u in users:
        attached = [p["PolicyName"] for p in u.get("AttachedManagedPolicies", [])]
        inline = [p["PolicyName"] for p in u.get("UserPolicyList", [])]
        admin_via = _admin_via(u, groups, local_policies)
        out.append(Resource(
            GLOBAL, SERVICE, "iam-user", u["UserName"],
            state="active",
            created=as_utc(u.get("CreateDate")),
            detail={
                "name": u["UserName"],
                "arn": u.get("Arn", ""),
                "groups": list(u.get("GroupList", [])),
                "attached_policies": attached,
                "inline_policies": inline,
                "admin": bool(admin_via),
                "admin_via": admin_via,
                "quarantine_policies": [n for n in attached if QUARANTINE.match(n)],
            },
        ))
        more.append(Task(GLOBAL, SERVICE, f"iam:ListAccessKeys ({u['UserName']})", _keys_of(u["UserName"])))
    for r in roles:
        path = r.get("Path", "/")
        if path.startswith("/aws-service-role/"):
            continue
        admin_via = [p["PolicyName"] for p in r.get("AttachedManagedPolicies", [])
                     if _is_admin_policy(p, local_policies)]
        admin_via += [p["PolicyName"] for p in r.get("RolePolicyList", []) if _grants_admin(p.get("PolicyDocument"))]
        out.append(Resource(
            GLOBAL, SERVICE, "iam-role", r["RoleName"],
            created=as_utc(r.get("CreateDate")),
            detail={
                "name": r["RoleName"],
                "arn": r.get("Arn", ""),
                "path": path,
                "admin": bool(admin_via),
                "admin_via": admin_via,
                "trusted": _trusted(r.get("AssumeRolePolicyDocument")),
            },
        ))
    return TaskResult(resources=tuple(out), more=tuple(more))


def _keys_of(user: str) -> Callable[[Scope], TaskResult]:
    def run(scope: Scope) -> TaskResult:
        iam: IAMClient = scope.client(SERVICE)
        out = []
        for page in paginate(scope, SERVICE, "ListAccessKeys", UserName=user):
            for k in page.get("AccessKeyMetadata", []):
                key_id = k["AccessKeyId"]
                used = iam.get_access_key_last_used(AccessKeyId=key_id).get("AccessKeyLastUsed", {})
                last = as_utc(used.get("LastUsedDate"))
                created = as_utc(k.get("CreateDate"))
                out.append(Resource(
                    GLOBAL, SERVICE, "access-key", key_id,
                    state=k.get("Status"),
                    created=created,
                    detail={
                        "user": user,
                        "age_days": (datetime.now(UTC) - created).days if created else None,
                        "last_used": last.isoformat() if last else "",
                        "last_used_service": _known(used.get("ServiceName")),
                        "last_used_region": _known(used.get("Region")),
                    },
                ))
        return TaskResult(resources=tuple(out))

    return run


def _known(value: Any) -> str:
    return "" if value in (None, "N/A") else str(value)


def _admin_via(user: Mapping[str, Any], groups: Mapping[str, Mapping[str, Any]], local: Mapping[str, Any]) -> list[str]:
    """The policies (and groups) that make the user an administrator; empty when none do."""
    via = [p["PolicyName"] for p in user.get("AttachedManagedPolicies", []) if _is_admin_policy(p, local)]
    via += [p["PolicyName"] for p in user.get("UserPolicyList", []) if _grants_admin(p.get("PolicyDocument"))]
    for name in user.get("GroupList", []):
        g = groups.get(name, {})
        if any(_is_admin_policy(p, local) for p in g.get("AttachedManagedPolicies", [])) or any(
                _grants_admin(p.get("PolicyDocument")) for p in g.get("GroupPolicyList", [])):
            via.append(f"group:{name}")
    return via


def _is_admin_policy(policy: Mapping[str, Any], local: Mapping[str, Any]) -> bool:
    arn = str(policy.get("PolicyArn", ""))
    if arn.startswith("arn:aws:iam::aws:policy/"):
        return arn.rsplit("/", 1)[-1] in ADMIN_POLICIES
    return _grants_admin(local.get(arn))


def _document(doc: Any) -> Mapping[str, Any]:
    """A policy document as a dict; the API may give it URL-encoded JSON text."""
    if isinstance(doc, Mapping):
        return doc
    if isinstance(doc, str) and doc:
        try:
            parsed = json.loads(urllib.parse.unquote(doc))
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _grants_admin(doc: Any) -> bool:
    """Allow of every action (or of all of IAM) on every resource, or an Allow with NotAction on "*"."""
    for st in _as_list(_document(doc).get("Statement")):
        if not isinstance(st, Mapping) or st.get("Effect") != "Allow":
            continue
        if "*" not in _as_list(st.get("Resource")):
            continue
        actions = [str(a).lower() for a in _as_list(st.get("Action"))]
        if "*" in actions or "iam:*" in actions or "NotAction" in st:
            return True
    return False


def _trusted(doc: Any) -> list[str]:
    principals: list[str] = []
    for st in _as_list(_document(doc).get("Statement")):
        if not isinstance(st, Mapping):
            continue
        principal = st.get("Principal", {})
        if isinstance(principal, str):
            principals.append(principal)
        elif isinstance(principal, Mapping):
            for value in principal.values():
                principals.extend(str(v) for v in _as_list(value))
    return principals


# --- the credential report, root, identity providers ------------------------------------------


def _credential_report(scope: Scope) -> TaskResult:
    """Generate the report, then read it; AWS takes a few seconds to build it."""
    iam: IAMClient = scope.client(SERVICE)
    iam.generate_credential_report()
    for _ in range(_REPORT_TRIES):
        try:
            content = iam.get_credential_report()["Content"]
        except ClientError as exc:
            if error_code(exc) not in ("ReportInProgress", "ReportNotPresent"):
                raise
            scope.check_time()
            time.sleep(1.0)
            continue
        text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        return TaskResult(facts=(CredentialReport(_rows(text)),))
    raise TimeoutError("the IAM credential report was not ready in time")


def _rows(text: str) -> dict[str, CredentialRow]:
    rows = {}
    for r in csv.DictReader(io.StringIO(text)):
        user = r.get("user", "")
        rows[user] = CredentialRow(
            user=user,
            password_enabled=r.get("password_enabled", "").lower() == "true",
            password_last_used=as_utc(r.get("password_last_used")) if r.get("password_last_used", "").startswith(
                ("1", "2")) else None,
            mfa_active=r.get("mfa_active", "").lower() == "true",
        )
    return rows


def _root(scope: Scope) -> TaskResult:
    iam: IAMClient = scope.client(SERVICE)
    summary = iam.get_account_summary().get("SummaryMap", {})
    return TaskResult(facts=(RootUser(
        mfa=bool(summary.get("AccountMFAEnabled", 0)),
        access_keys=bool(summary.get("AccountAccessKeysPresent", 0)),
    ),))


def _oidc_providers(scope: Scope) -> TaskResult:
    iam: IAMClient = scope.client(SERVICE)
    out = []
    for p in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", []):
        arn = p.get("Arn", "")
        info = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        out.append(Resource(
            GLOBAL, SERVICE, "identity-provider", arn,
            created=as_utc(info.get("CreateDate")),
            detail={"name": info.get("Url", ""), "protocol": "oidc", "clients": list(info.get("ClientIDList", []))},
        ))
    return TaskResult(resources=tuple(out))


def _saml_providers(scope: Scope) -> TaskResult:
    out = []
    iam: IAMClient = scope.client(SERVICE)
    for p in iam.list_saml_providers().get("SAMLProviderList", []):
        arn = p.get("Arn", "")
        out.append(Resource(
            GLOBAL, SERVICE, "identity-provider", arn,
            created=as_utc(p.get("CreateDate")),
            detail={"name": arn.rsplit("/", 1)[-1], "protocol": "saml"},
        ))
    return TaskResult(resources=tuple(out))


COLLECTOR = Collector(
    service=SERVICE,
    calls=(
        "iam:GetAccountAuthorizationDetails",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:GetAccountSummary",
        "iam:ListOpenIDConnectProviders",
        "iam:GetOpenIDConnectProvider",
        "iam:ListSAMLProviders",
    ),
    kinds=(
        Kind("iam-user", 160, _CONSOLE + "users"),
        Kind("access-key", 170, _CONSOLE + "users"),
        Kind("iam-role", 180, _CONSOLE + "roles"),
        Kind("identity-provider", 190, _CONSOLE + "identity_providers"),
    ),
    custom_tasks=_tasks,
    regional=False,
)


def apply_credential_report(resources: Iterable[Resource], report: CredentialReport | None) -> list[Resource]:
    """Add console password and MFA from the credential report to each IAM user (None: not known)."""
    out = []
    for r in resources:
        if r.resource_type == "iam-user":
            row = report.rows.get(r.id) if report else None
            r = replace(r, detail={
                **r.detail,
                "console_password": row.password_enabled if row else None,
                "mfa": row.mfa_active if row else None,
                "password_last_used": row.password_last_used.isoformat() if row and row.password_last_used else "",
            })
        out.append(r)
    return out
