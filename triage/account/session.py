"""The boto3 session and its clients: credentials from boto3's own chain, the guard on every client.

boto3 finds the credentials (profile, SSO, environment, instance role) and honours `AWS_ENDPOINT_URL`
by itself; triage adds only the profile the user named, a default region for the global services,
botocore's `standard` retries, short timeouts, and the read-only guard. Nothing here sends a request
except `whoami`, which asks STS who the credentials belong to before anything else runs.
"""

from __future__ import annotations

import copy
import os
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config
import botocore.credentials
import botocore.session
import botocore.utils
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from triage.account.emitter import sharing_session
from triage.account.guard import install_guard
from triage.account.models import ReadOnlyModels
from triage.account.records import GLOBAL
from triage.account.signing import AccountClient, SigningAccountProvider
from triage.errors import AwsCheckError

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

# Used for the global services (IAM, Organizations, STS, Account) when the profile names no region.
FALLBACK_REGION = "us-east-1"


@dataclass(frozen=True)
class Identity:
    account_id: str
    arn: str
    access_key_id: str


@dataclass(frozen=True)
class RoleCredentials:
    """The temporary credentials AssumeRole handed out for one account."""

    access_key_id: str
    secret_access_key: str
    session_token: str


def read_only_models(allowed: Mapping[str, frozenset[str]], core: botocore.session.Session | None = None
                     ) -> ReadOnlyModels:
    """The model loader cut down to `allowed`; one can serve the sessions of many accounts, so that each
    service's model is read and cut once per check, not once per account."""
    data_path = (core or botocore.session.Session()).get_config_variable("data_path")
    extra = [os.path.expanduser(p) for p in data_path.split(os.pathsep)] if data_path else None
    return ReadOnlyModels(allowed, extra_search_paths=extra)


def open_session(profile: str | None, allowed: Mapping[str, frozenset[str]] | None = None, *,
                 credentials: RoleCredentials | None = None, session_policy: str | None = None,
                 models: ReadOnlyModels | None = None, shared: bool = False) -> boto3.Session:
    """A session on boto3's credential chain (or on `credentials` of an assumed role) with the guard installed.

    `allowed` (botocore service name -> operation names) cuts those services' models down to the calls
    triage declares: their clients then have no other methods (see `models`). `session_policy`: the only
    policy an AssumeRole from this session may carry (None: AssumeRole is refused). `models`: a loader
    shared with other sessions (`read_only_models`), used instead of cutting `allowed` again. `shared`: the
    session's clients are shared by accounts and sign as the account making each call (see `signing`).
    """
    try:
        core = sharing_session()
        if profile is not None and profile not in core.available_profiles:
            raise ProfileNotFound(profile=profile)
        if profile is not None:
            core.set_config_variable("profile", profile)
        # botocore looks the profile up (instance, then environment) for each config value a client reads,
        # some fifty per client: resolve it once; the check does not change it.
        core.get_component("config_store").set_config_variable("profile", core.get_config_variable("profile"))
        if credentials is not None:
            core.set_credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
        elif shared:
            core.register_component("credential_provider",
                                    botocore.credentials.CredentialResolver([SigningAccountProvider()]))
        core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=read_timestamp)
        if models is not None:
            core.register_component("data_loader", models)
        elif allowed:
            core.register_component("data_loader", read_only_models(allowed, core))
        session = boto3.Session(botocore_session=core)
    except ProfileNotFound:
        raise AwsCheckError(
            f"AWS profile {profile!r} is not in your AWS config files; check [aws] profile or --profile"
        ) from None
    except BotoCoreError as exc:
        raise AwsCheckError(f"cannot set up the AWS session: {exc}") from None
    install_guard(session.events, session_policy)
    return session


def open_clients(profile: str | None, *, session_policy: str, models: ReadOnlyModels, pool_size: int) -> Clients:
    """The clients of a profile's credentials (None: boto3's chain), in a session whose clients the accounts
    reached from these credentials share (`Clients.as_account`)."""
    own = open_session(profile, session_policy=session_policy, models=models)
    try:
        credentials = own.get_credentials()
    except BotoCoreError as exc:
        raise AwsCheckError(f"cannot load the AWS credentials: {exc}") from None
    if credentials is None:  # `whoami` says what to do
        return Clients(own, pool_size=pool_size)
    shared = open_session(profile, session_policy=session_policy, models=models, shared=True)
    return Clients(shared, pool_size=pool_size, credentials=credentials)


def read_timestamp(value: Any) -> datetime:
    """A timestamp of an AWS answer. botocore's own parser goes through dateutil, about a millisecond
    each; a sweep reads thousands (every instance, volume and key has one) and one account's share of the
    interpreter's time is what a sweep of many accounts waits for. AWS writes ISO 8601 or epoch seconds;
    anything else goes to botocore's parser."""
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        value = float(value)  # epoch seconds as text, as botocore reads them
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return botocore.utils.parse_timestamp(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Clients:
    """One account's guarded clients: one per (service, region), made on first use, shared by the sweep's
    threads and, when made from a `shared` session, by every account reached through the same credentials
    (`as_account`). Each call through them signs with this account's credentials."""

    def __init__(self, session: boto3.Session, *, pool_size: int = 10, read_timeout: float = 20.0,
                 credentials: botocore.credentials.Credentials | None = None) -> None:
        """`session`: where the clients are made. `credentials`: this account's, when `session` is a shared
        one (`open_session(shared=True)`); None: the session's own."""
        self.session = session
        self.credentials = credentials
        self.default_region = session.region_name or FALLBACK_REGION
        self._config = botocore.config.Config(
            retries={"mode": "standard"},  # three attempts in all, backing off, throttling included
            connect_timeout=5,
            read_timeout=read_timeout,
            max_pool_connections=pool_size,
            user_agent_extra="triage",
            # No proxy configured anywhere: say so once, instead of botocore reading the whole environment
            # again for each of the hundreds of clients of a sweep. With a proxy, botocore decides per endpoint.
            proxies={} if not urllib.request.getproxies() else None,
        )
        self.partition = _partition_of(session, self.default_region)
        self._made: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()  # making clients from one session is not thread-safe

    def as_account(self, credentials: RoleCredentials) -> Clients:
        """The same clients, signing as another account (one reached with a role from these credentials)."""
        if self.credentials is None:
            raise ValueError("only the clients of a shared session can sign as another account")
        twin = copy.copy(self)
        twin.credentials = botocore.credentials.Credentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token, method="assume-role")
        return twin

    def own_credentials(self) -> botocore.credentials.Credentials | None:
        """The credentials this account's calls sign with (None: there are none)."""
        found: botocore.credentials.Credentials | None = self.credentials or self.session.get_credentials()
        return found

    def client(self, service: str, region: str) -> Any:
        """The guarded client of `service` (botocore's name) in `region`; GLOBAL means the default region.

        Typed by whoever uses it (`iam: IAMClient = scope.client("iam")`), so this class knows no service.
        """
        key = (service, self.default_region if region == GLOBAL else region)
        client = self._made.get(key)  # most calls find their client made: no need to wait for the lock
        if client is None:
            with self._lock:
                client = self._made.get(key)
                if client is None:
                    client = self.session.client(service, region_name=key[1], config=self._config)  # type: ignore[call-overload]
                    self._made[key] = client
        return AccountClient(client, self.credentials) if self.credentials is not None else client

    def available_regions(self, service: str) -> list[str]:
        """The regions botocore knows the service in, in the credentials' partition."""
        return list(self.session.get_available_regions(service, partition_name=self.partition))

    def in_partition(self, region: str) -> bool:
        """Whether `region` is in the credentials' partition (aws, aws-cn, aws-us-gov): an account lives in
        one partition, and its credentials reach no region of another. A region botocore cannot place counts."""
        try:
            return bool(self.session.get_partition_for_region(region) == self.partition)
        except BotoCoreError:
            return True


def _partition_of(session: boto3.Session, region: str) -> str:
    """The partition of the default region: where the credentials were issued, for all triage knows."""
    try:
        return str(session.get_partition_for_region(region))
    except BotoCoreError:
        return "aws"


def whoami(clients: Clients) -> Identity:
    """The account and principal behind the credentials; the check cannot start without them."""
    try:
        credentials = clients.own_credentials()
    except BotoCoreError as exc:
        raise AwsCheckError(f"cannot load the AWS credentials: {exc}") from None
    if credentials is None:
        raise AwsCheckError(
            "no AWS credentials found: set [aws] profile or --profile, or the usual AWS_PROFILE / "
            "AWS_ACCESS_KEY_ID variables (never the key the AWS mail says was exposed)"
        )
    sts: STSClient = clients.client("sts", GLOBAL)
    try:
        answer = sts.get_caller_identity()
    except NoCredentialsError:
        raise AwsCheckError("no AWS credentials found: set [aws] profile or --profile") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsCheckError(
            f"AWS did not accept the credentials ({error.get('Code', 'error')}: {error.get('Message', '')})"
        ) from None
    except BotoCoreError as exc:
        raise AwsCheckError(f"cannot reach AWS STS to check the credentials: {exc}") from None
    return Identity(
        account_id=answer["Account"],
        arn=answer["Arn"],
        access_key_id=credentials.access_key or "",
    )
