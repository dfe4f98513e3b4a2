"""The TOML configuration, read once into frozen records.

Unknown sections and keys are errors (a typo must not silently fall back to a default). Secrets are never
read from the file: only the *names* of environment variables or a command that prints a token. A config
file that others can read is refused if anything in it looks like a secret anyway, comments included.
"""

from __future__ import annotations

import ipaddress
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.errors import ConfigError
from triage.severity import SEVERITIES

TLS_MODES = ("ssl", "starttls", "none")

# Default Authentication-Results authserv-ids believed without configuration: the large mailbox
# providers, whose receiving servers stamp their own verdict. A header from any other id is ignored.
DEFAULT_TRUSTED_AUTHSERV_IDS = (
    "mx.google.com",
    "google.com",
    "gmail.com",
    "outlook.com",
    "protection.outlook.com",
    "mx.microsoft.com",
    "icloud.com",
    "mx.yahoo.com",
    "yahoo.com",
    "yahoo.co.jp",
    "mx.zoho.com",
    "fastmail.com",
    "messagingengine.com",
    "amazonses.com",
)


@dataclass(frozen=True)
class ImapSettings:
    host: str
    user: str
    port: int = 993
    password_env: str | None = None
    tls: str = "ssl"
    folders: tuple[str, ...] | None = None  # None: INBOX plus the \Junk folder
    oauth2_token_command: str | None = None


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str  # `from` in the file
    port: int = 465
    user: str | None = None
    password_env: str | None = None
    tls: str = "ssl"
    oauth2_token_command: str | None = None


@dataclass(frozen=True)
class MailSettings:
    trusted_authserv_ids: tuple[str, ...] = DEFAULT_TRUSTED_AUTHSERV_IDS
    max_bytes: int = 25 * 1024 * 1024


@dataclass(frozen=True)
class NotifySettings:
    to: tuple[str, ...] = ()
    min_severity: str = "medium"
    remind_every_hours: float = 12.0
    forwarders: tuple[str, ...] | None = None  # addresses or "@domain"; None: the `to` addresses

    @property
    def allowed_forwarders(self) -> tuple[str, ...]:
        """Who may forward mail to triage and get the answer back."""
        return self.to if self.forwarders is None else self.forwarders


@dataclass(frozen=True)
class AccountAccess:
    """How triage reaches one account ([aws.accounts]): a profile of the AWS config files, or a role that the
    default credentials assume (always with triage's read-only session policy)."""

    profile: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True)
class AwsSettings:
    profile: str | None = None
    regions: tuple[str, ...] | None = None  # None: "all", every region that can hold resources
    home_regions: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    accounts: tuple[tuple[str, AccountAccess], ...] = ()  # [aws.accounts]: account id -> how to reach it
    organization_role: str | None = None  # the role assumed in each member account of the Organization

    def access_for(self, account_id: str) -> AccountAccess | None:
        return dict(self.accounts).get(account_id)


@dataclass(frozen=True)
class RulesSettings:
    extra: tuple[Path, ...] = ()


@dataclass(frozen=True)
class DeeplSettings:
    auth_key_env: str = "DEEPL_AUTH_KEY"
    server_url: str | None = None
    glossary: bool = True


@dataclass(frozen=True)
class BillingSettings:
    jpy_per_usd: float = 150.0
    statement_alert_usd: float = 100.0


@dataclass(frozen=True)
class Config:
    imap: ImapSettings | None = None
    smtp: SmtpSettings | None = None
    mail: MailSettings = field(default_factory=MailSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    aws: AwsSettings = field(default_factory=AwsSettings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    deepl: DeeplSettings = field(default_factory=DeeplSettings)
    billing: BillingSettings = field(default_factory=BillingSettings)
    path: Path | None = None


def load_config(path: Path | None, *, explicit: bool) -> Config:
    """Read the config at `path`.

    A missing file at the default location means defaults; a missing file the user named is an error.
    """
    if path is None or not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist; create it or leave out --config")
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {_reason(exc)}") from None
    readable = _readable_by_others(path)
    # The text first: a key pasted into a comment, or into a file that is not even valid TOML, is as exposed.
    secret = _secret_line(text) if readable else None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if secret:
            raise _exposed(path, secret) from None
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    if readable:
        secret = secret or _find_secret(data)
        if secret:
            raise _exposed(path, secret)
    return parse_config(data, path=path)


def _exposed(path: Path, secret: str) -> ConfigError:
    return ConfigError(f"config file {path} is readable by other users and {secret} looks like a secret; "
                       f"move the secret to an environment variable and run: chmod 600 {path}")


def parse_config(data: Mapping[str, Any], *, path: Path | None = None) -> Config:
    where = str(path) if path else "config"
    _known(data, {"imap", "smtp", "mail", "notify", "aws", "rules", "deepl", "billing"}, where)
    return Config(
        imap=_imap(_section(data, "imap", where)) if "imap" in data else None,
        smtp=_smtp(_section(data, "smtp", where)) if "smtp" in data else None,
        mail=_mail(_section(data, "mail", where)),
        notify=_notify(_section(data, "notify", where)),
        aws=_aws(_section(data, "aws", where)),
        rules=_rules(_section(data, "rules", where), base=path.parent if path else Path.cwd()),
        deepl=_deepl(_section(data, "deepl", where)),
        billing=_billing(_section(data, "billing", where)),
        path=path,
    )


# --- sections ---------------------------------------------------------------------------------


def _imap(s: _Section) -> ImapSettings:
    s.known("host", "port", "user", "password_env", "tls", "folders", "oauth2_token_command")
    host = s.string("host", required=True)
    tls = s.choice("tls", TLS_MODES, "ssl")
    _check_plain_tls(tls, host, "imap", s.where)
    folders = s.strings("folders")
    if "password_env" not in s.data and "oauth2_token_command" not in s.data:
        raise ConfigError(f"[imap] needs password_env (the name of a variable holding the password) "
                          f"or oauth2_token_command in {s.where}")
    _one_way_to_log_in(s)
    return ImapSettings(
        host=host,
        port=s.integer("port", 993 if tls == "ssl" else 143),
        user=s.string("user", required=True),
        password_env=s.optional_string("password_env"),
        tls=tls,
        folders=folders if "folders" in s.data else None,
        oauth2_token_command=s.optional_string("oauth2_token_command"),
    )


def _smtp(s: _Section) -> SmtpSettings:
    s.known("host", "port", "user", "password_env", "tls", "from", "oauth2_token_command")
    host = s.string("host", required=True)
    tls = s.choice("tls", TLS_MODES, "ssl")
    _check_plain_tls(tls, host, "smtp", s.where)
    _one_way_to_log_in(s)
    if s.optional_string("oauth2_token_command") and not s.optional_string("user"):
        raise ConfigError(f"[smtp] oauth2_token_command needs [smtp] user (the account the token is for) "
                          f"in {s.where}")
    return SmtpSettings(
        host=host,
        sender=s.string("from", required=True),
        port=s.integer("port", {"ssl": 465, "starttls": 587, "none": 25}[tls]),
        user=s.optional_string("user"),
        password_env=s.optional_string("password_env"),
        tls=tls,
        oauth2_token_command=s.optional_string("oauth2_token_command"),
    )


def _one_way_to_log_in(s: _Section) -> None:
    if s.optional_string("password_env") and s.optional_string("oauth2_token_command"):
        raise ConfigError(f"[{s.name}] has both password_env and oauth2_token_command in {s.where}; "
                          f"keep the one the server accepts")


def _mail(s: _Section) -> MailSettings:
    s.known("trusted_authserv_ids", "max_bytes")
    ids = s.strings("trusted_authserv_ids") if "trusted_authserv_ids" in s.data else None
    return MailSettings(
        trusted_authserv_ids=tuple(i.lower() for i in ids) if ids is not None
        else DEFAULT_TRUSTED_AUTHSERV_IDS,
        max_bytes=s.integer("max_bytes", MailSettings.max_bytes, minimum=1024),
    )


def _notify(s: _Section) -> NotifySettings:
    s.known("to", "min_severity", "remind_every_hours", "forwarders")
    forwarders = tuple(f.strip().lower() for f in s.strings("forwarders"))
    for f in forwarders:
        if not re.fullmatch(r"[^@\s]*@[^@\s]+\.[^@\s]+", f):
            raise ConfigError(f'[notify] forwarders: {f!r} must be an address ("me@example.jp") or a domain '
                              f'written with its @ ("@family.example.jp") in {s.where}')
    return NotifySettings(
        to=s.strings("to"),
        min_severity=s.choice("min_severity", SEVERITIES, "medium"),
        remind_every_hours=s.number("remind_every_hours", 12.0, minimum=0.0),
        forwarders=forwarders if "forwarders" in s.data else None,
    )


def _aws(s: _Section) -> AwsSettings:
    s.known("profile", "regions", "home_regions", "account_ids", "accounts", "organization_role")
    regions: tuple[str, ...] | None = None
    raw = s.data.get("regions", "all")
    if raw != "all":
        regions = s.strings("regions")
        if not regions:
            raise ConfigError(f'[aws] regions must be "all" or a non-empty list of region codes in {s.where}')
    for r in (*(regions or ()), *s.strings("home_regions")):
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", r):
            raise ConfigError(f"[aws] {r!r} is not a region code (like ap-northeast-1) in {s.where}")
    account_ids = s.strings("account_ids")
    for a in account_ids:
        if not re.fullmatch(r"\d{12}", a):
            raise ConfigError(f"[aws] account id {a!r} must be 12 digits, written as a string, in {s.where}")
    role = s.optional_string("organization_role")
    if role is not None and not _ROLE_NAME.fullmatch(role):
        raise ConfigError(f"[aws] organization_role {role!r} must be a role name (like OrganizationAccountAccessRole), "
                          f"not an ARN, in {s.where}")
    return AwsSettings(
        profile=s.optional_string("profile"),
        regions=regions,
        home_regions=s.strings("home_regions"),
        account_ids=account_ids,
        accounts=_accounts(s),
        organization_role=role,
    )


_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}")


def _accounts(s: _Section) -> tuple[tuple[str, AccountAccess], ...]:
    """[aws.accounts]: "404917256318" = { profile = "old-personal" } or { role_arn = "arn:aws:iam::…:role/…" }."""
    table = s.data.get("accounts", {})
    if not isinstance(table, dict):
        raise ConfigError(f"[aws.accounts] must be a table of account ids in {s.where}")
    out = []
    for account_id, entry in table.items():
        where = f"[aws.accounts] {account_id!r} in {s.where}"
        if not re.fullmatch(r"\d{12}", account_id):
            raise ConfigError(f"{where}: an account id must be 12 digits, written in quotes")
        if not isinstance(entry, dict) or set(entry) - {"profile", "role_arn"} or len(entry) != 1 \
                or not all(isinstance(v, str) and v.strip() for v in entry.values()):
            raise ConfigError(f'{where}: write either {{ profile = "name" }} '
                              f'or {{ role_arn = "arn:aws:iam::…:role/…" }}')
        arn = entry.get("role_arn")
        if arn is not None:
            match = _ROLE_ARN.fullmatch(arn)
            if not match:
                raise ConfigError(f"{where}: role_arn {arn!r} is not an IAM role ARN "
                                  f"(arn:aws:iam::<account>:role/<name>)")
            if match.group(1) != account_id:
                raise ConfigError(f"{where}: role_arn {arn!r} is a role of account {match.group(1)}, "
                                  f"not of {account_id}")
        out.append((account_id, AccountAccess(profile=entry.get("profile"), role_arn=arn)))
    return tuple(out)


def _rules(s: _Section, *, base: Path) -> RulesSettings:
    s.known("extra")
    return RulesSettings(extra=tuple((base / p).resolve() for p in s.strings("extra")))


def _deepl(s: _Section) -> DeeplSettings:
    s.known("auth_key_env", "server_url", "glossary")
    return DeeplSettings(
        auth_key_env=s.string("auth_key_env") or "DEEPL_AUTH_KEY",
        server_url=s.optional_string("server_url"),
        glossary=s.boolean("glossary", True),
    )


def _billing(s: _Section) -> BillingSettings:
    s.known("jpy_per_usd", "statement_alert_usd")
    return BillingSettings(
        jpy_per_usd=s.number("jpy_per_usd", 150.0, minimum=0.000001),
        statement_alert_usd=s.number("statement_alert_usd", 100.0, minimum=0.0),
    )


# --- helpers ----------------------------------------------------------------------------------


class _Section:
    """One `[name]` table with typed accessors whose errors name the key and the file."""

    def __init__(self, name: str, data: Mapping[str, Any], where: str) -> None:
        self.name, self.data, self.where = name, data, where

    def _fail(self, key: str, wanted: str) -> ConfigError:
        return ConfigError(f"[{self.name}] {key} must be {wanted} in {self.where}")

    def known(self, *keys: str) -> None:
        _known(self.data, set(keys), self.where, section=self.name)

    def string(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ConfigError(f"[{self.name}] {key} is required in {self.where}")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self._fail(key, "a non-empty string")
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key) or None

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings")
        return tuple(value)

    def integer(self, key: str, default: int, *, minimum: int = 1) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"a whole number of at least {minimum}")
        return value

    def number(self, key: str, default: float, *, minimum: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self._fail(key, f"a number of at least {minimum:g}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            raise self._fail(key, "one of " + ", ".join(f'"{c}"' for c in choices))
        return str(value)


def _section(data: Mapping[str, Any], name: str, where: str) -> _Section:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table in {where}")
    return _Section(name, value, where)


def _known(data: Mapping[str, Any], keys: set[str], where: str, section: str | None = None) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        what = f"[{section}] key" if section else "section"
        hint = ""
        if section and any(re.search(r"pass|secret|token|key$", k) for k in unknown):
            hint = "; secrets go in an environment variable named by *_env, never in the file"
        raise ConfigError(f"unknown {what} {unknown[0]!r} in {where} (known: {', '.join(sorted(keys))}){hint}")


def _check_plain_tls(tls: str, host: str, section: str, where: str) -> None:
    if tls == "none" and not _is_loopback(host):
        raise ConfigError(f'[{section}] tls = "none" is only allowed for a loopback host, not {host!r}, in {where}; '
                          f'use "ssl" or "starttls"')


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


_SECRET_PATTERNS = (
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key id
    # AWS secret access key: 40 characters of base64 with lower case, upper case and a digit among them
    re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]*[a-z])(?=[A-Za-z0-9/+=]*[A-Z])(?=[A-Za-z0-9/+=]*[0-9])"
               r"[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:fx)?\b"),  # DeepL key
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    # OAuth2 tokens, as a token command prints them: Google's access and refresh tokens, a JWT (Microsoft's
    # access tokens), and any token written after `Bearer`.
    re.compile(r"(?<![A-Za-z0-9])(ya29\.|1//0)[A-Za-z0-9_-]{20,}"),
    re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\."),
    re.compile(r"\bBearer\s+[A-Za-z0-9._~+/-]{20,}", re.I),
)
_SECRET_KEY_NAMES = re.compile(r"(password|passwd|passphrase|secret|token|auth_key|api_key|(^|[_-])(pass|pwd))$", re.I)
# `password = hunter2` or `IMAP_PASSWORD=hunter2` written anywhere, a comment too. Not a secret:
# `password_env = …` (it names a variable) and a placeholder value (`...`, `<…>`, `$VAR`).
_SECRET_ASSIGNMENT = re.compile(r"(?<![A-Za-z0-9])(password|passwd|passphrase|pass|pwd|secret|token|auth_key|api_key)"
                                r"[\"']?\s*=\s*"
                                r"[\"']?(?![.<${*])[^\s\"']{4,}", re.I)


def _secret_line(text: str) -> str | None:
    """`line N` of the first line of the raw text that looks like it holds a secret, or None."""
    for number, line in enumerate(text.splitlines(), start=1):
        if _SECRET_ASSIGNMENT.search(line) or any(p.search(line) for p in _SECRET_PATTERNS):
            return f"line {number}"
    return None


def _find_secret(data: Any, where: str = "") -> str | None:
    """The dotted name of the first value that looks like a secret, or None."""
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{where}.{key}" if where else str(key)
            if isinstance(value, str) and _SECRET_KEY_NAMES.search(str(key)) and value:
                return name
            found = _find_secret(value, name)
            if found:
                return found
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found = _find_secret(value, f"{where}[{i}]")
            if found:
                return found
    elif isinstance(data, str) and any(p.search(data) for p in _SECRET_PATTERNS):
        return where
    return None


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
