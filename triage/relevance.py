"""Could a mail be about AWS? Decided from its sender and subject alone, before a body is fetched.

The terms are data (`rules/relevance.toml`). Local sources read every file anyway; IMAP uses this to
fetch only candidate mail. `words` count in From and Subject; `sender_words` ("amazon") only in From, and
not from Amazon's own shop domains (`retail_domains`): order, shipping and Prime mail says "Amazon" and
nothing about AWS, and so does a friend's "Amazonで買った本". Mail from an allowed forwarder ([notify]
forwarders) is a candidate too: a forward comes from the owner's own address, with whatever subject.

Another organisation's list mail that names AWS only in its subject (a monitoring digest, a CI run, a
cloud's marketing) is dropped when its List-Id and DKIM signing domain say one organisation sent it and
its subject speaks of no threat, key or bill (`alert_subjects`); rules/relevance.toml says exactly when.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from triage.errors import RulesError
from triage.forwarders import is_forwarder
from triage.sources.narrowing import Headers, Narrowing


def load_narrowing(rules_dir: Path, forwarders: tuple[str, ...] = ()) -> Narrowing:
    path = rules_dir / "relevance.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        search = [str(t) for t in data.get("search", [])]
        words = [str(w) for w in data["words"]]
        sender_words = [str(w) for w in data.get("sender_words", [])]
        retail = tuple(str(d).lower().strip(".") for d in data.get("retail_domains", []))
        alerts = re.compile("|".join(f"(?:{p})" for p in data.get("alert_subjects", [])) or r"(?!)", re.I)
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path} must hold a list `words`: {exc}") from None
    except re.error as exc:
        raise RulesError(f"{path}: a pattern in `alert_subjects` is not a regular expression: {exc}") from None
    if not all(t.isascii() for t in search):
        raise RulesError(f"{path}: IMAP search terms must be ASCII")
    terms = (*dict.fromkeys([*search, *(w for w in words if w.isascii())]), *(f for f in forwarders if f.isascii()))
    anywhere = _words(words)
    in_sender = _words(sender_words) if sender_words else None

    def wanted(headers: Headers) -> bool:
        if any(is_forwarder(a, forwarders) for a in headers.addresses):
            return True
        if anywhere.search(headers.sender):
            return True
        calls_itself_amazon = in_sender is not None and bool(in_sender.search(headers.sender))
        if anywhere.search(headers.subject):
            return (calls_itself_amazon or not _list_mail_of_one_organisation(headers)
                    or bool(alerts.search(unicodedata.normalize("NFKC", headers.subject))))
        return calls_itself_amazon and not _from_domain(headers.addresses, retail)

    return Narrowing(terms=terms, wanted=wanted, sender_terms=tuple(w for w in sender_words if w.isascii()),
                     quiet_domains=retail)


def _words(words: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)


def _list_mail_of_one_organisation(headers: Headers) -> bool:
    """Came through a list (List-Id), and one DKIM signing domain covers every address in From, Sender,
    Reply-To and Return-Path."""
    if not headers.list_id or not headers.addresses:
        return False
    senders = (*headers.addresses, *headers.reply_to, *((headers.return_path,) if headers.return_path else ()))
    return any(signer and _from_domain(senders, (signer,)) for signer in headers.dkim_domains)


def _from_domain(addresses: Sequence[str], domains: Sequence[str]) -> bool:
    """Every sender address is at one of `domains` or a subdomain of one (and there is at least one)."""
    if not addresses or not domains:
        return False
    for address in addresses:
        domain = address.rpartition("@")[2].lower().rstrip(".")
        if not any(domain == d or domain.endswith("." + d) for d in domains):
            return False
    return True
