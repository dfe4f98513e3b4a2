"""Could a mail be about AWS? Decided from its sender and subject alone, before a body is fetched.

The terms are data (`rules/relevance.toml`). Local sources read every file anyway; IMAP uses this to
fetch only candidate mail. `words` count in From and Subject; `sender_words` ("amazon") only in From, and
not from Amazon's own shop domains (`retail_domains`): order, shipping and Prime mail says "Amazon" and
nothing about AWS, and so does a friend's "Amazonで買った本". Mail from an allowed forwarder ([notify]
forwarders) is a candidate too: a forward comes from the owner's own address, with whatever subject.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

from triage.errors import RulesError
from triage.forwarders import is_forwarder
from triage.sources.narrowing import Headers, Narrowing


def load_narrowing(rules_dir: Path, forwarders: tuple[str, ...] = ()) -> Narrowing:
    path = rules_dir / "relevance.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        search = [str(t) for t in data["search"]]
        words = [str(w) for w in data["words"]]
        sender_words = [str(w) for w in data.get("sender_words", [])]
        retail = tuple(str(d).lower().strip(".") for d in data.get("retail_domains", []))
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path} must hold lists `search` and `words`: {exc}") from None
    if not all(t.isascii() for t in search):
        raise RulesError(f"{path}: IMAP search terms must be ASCII")
    anywhere = _words(words)
    in_sender = _words(sender_words) if sender_words else None

    def wanted(headers: Headers) -> bool:
        if any(is_forwarder(a, forwarders) for a in headers.addresses):
            return True
        if anywhere.search(headers.sender) or anywhere.search(headers.subject):
            return True
        if in_sender is None or not in_sender.search(headers.sender):
            return False
        return not _from_domain(headers.addresses, retail)

    return Narrowing(terms=(*search, *(f for f in forwarders if f.isascii())), wanted=wanted)


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
