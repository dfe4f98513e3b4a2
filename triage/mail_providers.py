"""rules/mail-providers.toml: the domains each large mail provider's servers use, read and checked.

`authenticate.provider_hosts` turns them into the hosts whose Received hops count as a trusted
provider's own; this module only reads the file.
"""

from __future__ import annotations

import string
import tomllib
from pathlib import Path

from triage.errors import RulesError

FILE = "mail-providers.toml"
_LABEL = frozenset(string.ascii_lowercase + string.digits + "-")


def load_providers(rules_dir: Path) -> tuple[tuple[str, ...], ...]:
    """Each provider's domains, lower case; a malformed file is a `RulesError` naming it."""
    path = rules_dir / FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        providers = tuple(tuple(str(d).lower().rstrip(".") for d in p["domains"]) for p in data["provider"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path} must hold [[provider]] entries, each with a list of domains: {exc}") from None
    for family in providers:
        bad = [d for d in family if not _is_domain(d)] or ([] if family else ["(no domain)"])
        if bad:
            raise RulesError(f"{path}: {bad[0]!r} is not a domain name (\"*\" may stand for one label)")
    return providers


def _is_domain(name: str) -> bool:
    """A host name of two labels or more (letters, digits, inner hyphens; "*" for one label), its last
    label letters."""
    labels = name.split(".")
    return len(labels) >= 2 and labels[-1].isalpha() and labels[-1].isascii() and all(
        label == "*" or (0 < len(label) <= 63 and set(label) <= _LABEL and label[0] != "-" != label[-1])
        for label in labels)
