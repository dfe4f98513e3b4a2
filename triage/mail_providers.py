"""rules/mail-providers.toml: the domains each large mail provider's servers use, read and checked.

`authenticate.provider_hosts` turns them into the hosts whose Received hops count as a trusted
provider's own; this module only reads the file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from triage.errors import RulesError

FILE = "mail-providers.toml"
_DOMAIN = re.compile(r"(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|\*)\.)+[a-z]{2,63}")


def load_providers(rules_dir: Path) -> tuple[tuple[str, ...], ...]:
    """Each provider's domains, lower case; a malformed file is a `RulesError` naming it."""
    path = rules_dir / FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        providers = tuple(tuple(str(d).lower().rstrip(".") for d in p["domains"]) for p in data["provider"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path} must hold [[provider]] entries, each with a list of domains: {exc}") from None
    for family in providers:
        bad = [d for d in family if not _DOMAIN.fullmatch(d)] or ([] if family else ["(no domain)"])
        if bad:
            raise RulesError(f"{path}: {bad[0]!r} is not a domain name (\"*\" may stand for one label)")
    return providers
