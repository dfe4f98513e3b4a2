"""Could a mail be about AWS? Decided from its sender and subject alone, before a body is fetched.

The terms are data (`rules/relevance.toml`). Local sources read every file anyway; IMAP uses this to
fetch only candidate mail. Mail from an allowed forwarder ([notify] forwarders) is a candidate too: a
forward comes from the owner's own address, with whatever subject.
"""

from __future__ import annotations

import email.utils
import re
import tomllib
from pathlib import Path

from triage.errors import RulesError
from triage.forward import is_forwarder
from triage.sources.imap import Headers, Narrowing


def load_narrowing(rules_dir: Path, forwarders: tuple[str, ...] = ()) -> Narrowing:
    path = rules_dir / "relevance.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        search = [str(t) for t in data["search"]]
        words = [str(w) for w in data["words"]]
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path} must hold lists `search` and `words`: {exc}") from None
    if not all(t.isascii() for t in search):
        raise RulesError(f"{path}: IMAP search terms must be ASCII")
    pattern = re.compile(r"(?<![^\W\d_])(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)

    def wanted(headers: Headers) -> bool:
        if any(is_forwarder(a, forwarders) for _, a in email.utils.getaddresses([headers.sender])):
            return True
        return bool(pattern.search(headers.sender) or pattern.search(headers.subject))

    return Narrowing(terms=(*search, *(f for f in forwarders if f.isascii())), wanted=wanted)
