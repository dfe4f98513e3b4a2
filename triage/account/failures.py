"""AWS errors → gaps. One place decides what an error means for the reader ("not allowed", "throttled",
"region not enabled"), so every collector reports the same thing the same way.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from triage.account.records import Gap

ACCESS_DENIED = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
    "AuthorizationError", "AuthorizationErrorException", "Forbidden", "403",
})
THROTTLED = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "TooManyRequestsException", "RequestThrottled", "RequestThrottledException", "SlowDown",
    "LimitExceededException", "ProvisionedThroughputExceededException",
})
# In a region the credentials were already accepted elsewhere, these mean the region is not enabled.
REGION_NOT_ENABLED = frozenset({
    "OptInRequired", "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId",
})
UNAVAILABLE = frozenset({"404", "500", "501", "502", "503", "InternalError", "InternalFailure",
                         "ServiceUnavailable", "ServiceUnavailableException", "NotImplemented"})


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "") or "")


def gap_for(exc: BaseException, region: str, service: str, what: str) -> Gap:
    """The gap an error leaves; `what` names the call or the part that failed (`ec2:DescribeVolumes`)."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code in ACCESS_DENIED:
            return Gap(region, service, "access-denied", f"access denied to {what} ({code})", what)
        if code in THROTTLED:
            return Gap(region, service, "throttled", f"{what} was throttled by AWS and retries ran out ({code})",
                       what)
        if code in REGION_NOT_ENABLED:
            return Gap(region, service, "region-disabled", f"{what} refused: the region is not enabled ({code})",
                       what)
        if code in UNAVAILABLE:
            return Gap(region, service, "unavailable", f"{what} is not available here (HTTP or code {code})", what)
        message = str(exc.response.get("Error", {}).get("Message", ""))[:200]
        return Gap(region, service, "error", f"{what} failed ({code}: {message})", what)
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return Gap(region, service, "timed-out", f"{what} did not answer in time", what)
    if isinstance(exc, EndpointConnectionError):
        return Gap(region, service, "unreachable", f"{what}: cannot connect to the endpoint", what)
    if isinstance(exc, BotoCoreError):
        return Gap(region, service, "error", f"{what} failed ({type(exc).__name__}: {exc})", what)
    return Gap(region, service, "error", f"{what}: internal error in triage ({type(exc).__name__}: {exc})",
               what)
