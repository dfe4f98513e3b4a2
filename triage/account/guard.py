"""The read-only guard: every AWS call triage makes passes here first, and only reads get through.

The guard hangs on botocore's `before-call` event of the session, so every client made from that session
carries it, whoever makes the client. An operation passes when its name starts with a read verb
(Describe, List, Get, Lookup) or is on a short allow-list of calls that only prepare a read
(GenerateCredentialReport). A few Get calls that hand out secrets or new credentials are refused too:
triage must never need them. A refused call raises `RefusedAwsCall`, which the sweep never turns into a
gap: it is a bug in triage and ends the run.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from triage.errors import RefusedAwsCall

READ_PREFIXES = ("Describe", "List", "Get", "Lookup")

# Not named like reads: one only asks AWS to prepare a read (the credential report is then read with Get),
# the others read in batches. Each is named: a BatchGet of another service may hand out secrets
# (secretsmanager:BatchGetSecretValue).
READ_ALLOW_LIST = frozenset({"iam:GenerateCredentialReport", "codebuild:BatchGetProjects"})

# Named like reads, but they return secrets or mint credentials: a read-only check has no use for them.
SENSITIVE_READS = frozenset({
    "ec2:GetPasswordData",
    "secretsmanager:GetSecretValue",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "lambda:GetFunction",  # answers with a download link for the function's code
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
})


def action_name(model: OperationModel) -> str:
    """`ec2:DescribeInstances`: the operation as an IAM policy names it."""
    prefix = model.service_model.signing_name or model.service_model.endpoint_prefix
    return f"{prefix}:{model.name}"


def is_read(action: str) -> bool:
    if action in SENSITIVE_READS:
        return False
    if action in READ_ALLOW_LIST:
        return True
    operation = action.split(":", 1)[1]
    return operation.startswith(READ_PREFIXES)


# Reaches another account; passes only with a session policy (see `install_guard`), never elsewhere.
ASSUME_ROLE = "sts:AssumeRole"


def check_call(model: OperationModel, **_: Any) -> None:
    """The `before-call` handler. Returns nothing, so botocore goes on to send a read."""
    action = action_name(model)
    if not is_read(action) and action != ASSUME_ROLE:
        raise RefusedAwsCall(
            f"refused the AWS call {action}: triage only reads the account; this is a bug in triage, "
            f"please report it"
        )


def session_policy_guard(policy: str) -> Any:
    """The `before-parameter-build` handler of sts:AssumeRole: the call must carry exactly `policy`."""

    def check(params: dict[str, Any], **_: Any) -> None:
        if params.get("Policy") != policy:
            raise RefusedAwsCall(
                "refused sts:AssumeRole without triage's read-only session policy; this is a bug in triage, "
                "please report it"
            )

    return check


def install_guard(events: Any, session_policy: str | None = None) -> None:
    """Hang the guard on a botocore event emitter (a session's, so that every client gets it).

    AssumeRole passes only with `session_policy`; without one (None), every AssumeRole is refused."""
    events.register("before-call", check_call, unique_id="triage-read-only-guard")
    events.register("before-parameter-build.sts.AssumeRole", session_policy_guard(session_policy or "\0"),
                    unique_id="triage-session-policy-guard")
