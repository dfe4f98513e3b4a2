"""Could a mail be about AWS? Decided from its sender and subject alone, before a body is fetched.

The terms are data (`rules/relevance.toml`). Local sources read every file anyway; IMAP uses this to
fetch only candidate mail. Mail from Amazon's own shop domains (`retail_domains`) is a candidate only
when it names AWS (`aws_words`): order, shipping and Prime mail says "Amazon" and nothing about AWS.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

from triage.errors import RulesError
from triage.sources.imap import Headers, Narrowing


def load_narrowing(rules_dir: Path) -> Narrowing:
    path = rules_dir / "relevance.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        search = [str(t) for t in data["search"]]
        words = [str(w) for w in data["words"]]
        retail = tuple(str(d).lower().strip(".") for d in data.get("retail_domains", []))
        aws_words = [str(w) for w in data.get("aws_words", [])]
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path} must hold lists `search` and `words`: {exc}") from None
    if not all(t.isascii() for t in search):
        raise RulesError(f"{path}: IMAP search terms must be ASCII")
    if retail and not aws_words:
        raise RulesError(f"{path}: `retail_domains` needs `aws_words` (what makes a shop's mail about AWS)")
    pattern = _words(words)
    names_aws = _words(aws_words) if aws_words else None

    def mentions(p: re.Pattern[str], headers: Headers) -> bool:
        return bool(p.search(headers.sender) or p.search(headers.subject))

    def wanted(headers: Headers) -> bool:
        if not mentions(pattern, headers):
            return False
        if names_aws is None or not _from_domain(headers.addresses, retail):
            return True
        return mentions(names_aws, headers)

    return Narrowing(terms=tuple(search), wanted=wanted)


def _words(words: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)


def _from_domain(addresses: Sequence[str], domains: Sequence[str]) -> bool:
    """Every sender address is at one of `domains` or a subdomain of one (and there is at least one)."""
    if not addresses or not domains:
        return False
    for address in addresses:
        domain = address.rpartition("@")[2].lower().rstrip(".")
        if not any(domain == d or domain.endswith("." + d) for d in domains):
            return False
    return True
