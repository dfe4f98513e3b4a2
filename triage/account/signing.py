"""Clients shared by accounts: one botocore client per service and region serves every account reached
through the same credentials, and each call is signed with the credentials of the account that makes it.

Why: making a botocore client costs about 3 ms of CPU, and a sweep makes one per service and region, over
two hundred per account; each new client also opens its own connections and learns its endpoints again.
A sweep of an Organization is bound by this process's CPU (one interpreter lock), so each account paid for
all of that anew. Now the accounts of one base (the default credentials and the roles assumed from them)
share the clients, their connection pools and their endpoint caches; what differs per account is only the
signature, and that is decided per call.

How: the shared clients are made from a session whose credentials are `SigningAccount`, which has no
keys of its own: it hands botocore's signer the keys of the account whose call is running in this thread
(a context variable). The only way to reach a shared client is `AccountClient`, which binds it to one
account's credentials and sets them around each call and each page of a paginator. A call made with no
account bound finds no credentials (botocore's `NoCredentialsError`): it can never borrow another
account's keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from botocore.credentials import CredentialProvider, Credentials, ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

# The credentials signing the call this thread is making right now; None outside any call.
_SIGNING: ContextVar[Credentials | None] = ContextVar("triage_signing_account", default=None)


def _signing() -> Credentials:
    credentials = _SIGNING.get()
    if credentials is None:
        raise NoCredentialsError()
    return credentials


class SigningAccount(Credentials):
    """The credentials of a shared client: those of the account whose call is being made."""

    method = "triage-shared"

    def __init__(self) -> None:  # no keys of its own (botocore's Credentials would store some)
        pass

    @property
    def access_key(self) -> str:  # type: ignore[override]
        return str(_signing().access_key)

    @property
    def secret_key(self) -> str:  # type: ignore[override]
        return str(_signing().secret_key)

    @property
    def token(self) -> str | None:  # type: ignore[override]
        token = _signing().token
        return str(token) if token is not None else None

    @property
    def account_id(self) -> str | None:
        account_id = getattr(_signing(), "account_id", None)
        return str(account_id) if account_id is not None else None

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        frozen: ReadOnlyCredentials = _signing().get_frozen_credentials()  # refreshed there when they expire
        return frozen


class SigningAccountProvider(CredentialProvider):
    """botocore's credential chain of a shared session: always `SigningAccount`."""

    METHOD = SigningAccount.method
    CANONICAL_NAME = "TriageShared"

    def load(self) -> Credentials:
        return SigningAccount()


@contextmanager
def signing_as(credentials: Credentials) -> Iterator[None]:
    """Calls made inside sign with `credentials`."""
    token = _SIGNING.set(credentials)
    try:
        yield
    finally:
        _SIGNING.reset(token)


class AccountClient:
    """A shared client bound to one account: every operation and every page is signed as that account.

    Anything else (`meta`, `exceptions`, `can_paginate`) is the client's own.
    """

    __slots__ = ("_client", "_credentials")

    def __init__(self, client: Any, credentials: Credentials) -> None:
        self._client = client
        self._credentials = credentials

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        if name == "get_paginator":
            return lambda operation: AccountPaginator(value(operation), self._credentials)
        if name in self._client.meta.method_to_api_mapping:
            return _as_account(value, self._credentials)
        return value


def _as_account(method: Callable[..., Any], credentials: Credentials) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with signing_as(credentials):
            return method(*args, **kwargs)

    return call


class AccountPaginator:
    """A paginator of a shared client whose requests (made as the pages are read) sign as one account."""

    __slots__ = ("_credentials", "_paginator")

    def __init__(self, paginator: Any, credentials: Credentials) -> None:
        self._paginator = paginator
        self._credentials = credentials

    def paginate(self, **params: Any) -> Iterator[Any]:
        pages = iter(self._paginator.paginate(**params))  # nothing is sent until a page is asked for
        while True:
            with signing_as(self._credentials):
                page = next(pages, _END)
            if page is _END:
                return
            yield page


_END = object()
