"""Did the domain in From really send this mail? → pass | fail | none, with the reasons.

Two kinds of evidence, both tied to the From domain by DMARC alignment (the signing or envelope domain
must share its organizational domain with From):

- DKIM signatures, verified here with dkimpy. Its DNS look-up is injectable (`dnsfunc`), so tests sign
  with their own keys and verify offline; with `offline` and no `dnsfunc`, no signature is checked.
- Authentication-Results (RFC 8601) and ARC-Authentication-Results headers, believed only from the
  configured authserv-ids, and then only the topmost such header: the receiving server closest to the
  reader adds its header on top and removes forged copies of its own id, so anything lower may be the
  sender's invention. Nor when a host outside the trusted organisation added a Received header above it:
  that host received the mail after the header was written, so the mailbox is not the trusted
  provider's and the header came with the mail (a phish may carry a "mx.google.com; dmarc=pass" of its own).

For AWS's own domains a signature that passes but is not aligned with From (anyone's mail sent through
SES carries a valid `d=amazonses.com` signature) counts against the mail, never for it.

This module never decides what a mail is about, and never makes a network call other than the DKIM key
look-up (none at all when offline).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from triage.mail import Mail

VERDICTS = ("pass", "fail", "none")

# dkimpy's TXT look-up: (name as bytes, timeout=seconds) -> the TXT record as bytes, or None.
DnsFunc = Callable[..., bytes | None]

log = logging.getLogger(__name__)

# Suffixes under which one organisation owns the next label (a small stand-in for the Public Suffix List;
# enough for the mail providers and AWS's own domains).
_TWO_LABEL_SUFFIXES = frozenset({
    "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "ad.jp", "ed.jp", "gr.jp", "lg.jp",
    "co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "org.au", "co.nz", "com.br", "com.cn",
    "com.sg", "com.tw", "com.hk", "co.kr", "co.in", "co.za", "com.mx", "amazonaws.com.cn",
})

@dataclass(frozen=True)
class Authenticity:
    verdict: str  # pass | fail | none
    reasons: tuple[str, ...] = ()
    from_domain: str = ""  # the domain the verdict is about
    aligned: tuple[str, ...] = ()  # domains whose passing result is aligned with From


@dataclass(frozen=True)
class AuthResult:
    """One `method=result` of an Authentication-Results header, with its properties (header.d, …)."""

    method: str
    result: str
    properties: tuple[tuple[str, str], ...] = ()

    def prop(self, *names: str) -> str:
        wanted = {n.lower() for n in names}
        return next((v for k, v in self.properties if k in wanted), "")


@dataclass(frozen=True)
class AuthResultsHeader:
    authserv_id: str  # "" when the header names none (Microsoft 365 writes it that way)
    results: tuple[AuthResult, ...]


def authenticate(
    mail: Mail,
    *,
    trusted_authserv_ids: tuple[str, ...],
    offline: bool,
    dnsfunc: DnsFunc | None = None,
    aws_domains: tuple[str, ...] = (),
    inside_hosts: tuple[str, ...] = (),
) -> Authenticity:
    """Judge `mail`'s authenticity. With `offline` and no `dnsfunc`, no DNS look-up is made. `inside_hosts`:
    the other domains of the trusted ids' providers (`provider_hosts`), whose Received hops are theirs."""
    from_domain = mail.sender.domain.lower().rstrip(".")
    if not from_domain:
        return Authenticity("none", ("the mail has no From address to authenticate",))
    reasons: list[str] = []
    passes: list[tuple[str, str]] = []  # (domain, how)
    failures: list[str] = []

    if offline and dnsfunc is None:
        if mail.header_values("DKIM-Signature"):
            reasons.append("DKIM signatures not checked: offline, no DNS look-ups")
    else:
        for domain, result, why in verify_dkim(mail.raw, dnsfunc):
            if result == "pass":
                passes.append((domain, f"DKIM signature d={domain} verified"))
            elif result == "nokey":
                reasons.append(f"DKIM signature d={domain or '?'} not checked: {why}")
            else:
                failures.append(f"DKIM signature d={domain or '?'} does not verify: {why}")

    header = trusted_results(mail, trusted_authserv_ids, reasons, inside_hosts)
    dmarc_verdict = ""
    if header is not None:
        for r in header.results:
            where = f"{header.authserv_id} says {r.method}={r.result}"
            if r.method == "dmarc":
                said_for = r.prop("header.from").lower()
                if said_for and said_for != from_domain:
                    reasons.append(f"{where} for {said_for}, not for the From domain {from_domain}")
                elif r.result in ("pass", "fail"):
                    dmarc_verdict = r.result
                    reasons.append(f"{where} for {from_domain}")
            elif r.method == "dkim":
                domain = _dkim_domain(r)
                if r.result == "pass" and domain:
                    passes.append((domain, f"{where} (d={domain})"))
                elif r.result in ("fail", "permerror", "policy"):
                    failures.append(f"{where}" + (f" (d={domain})" if domain else ""))
            elif r.method == "spf":
                domain = _mailfrom_domain(r)
                if r.result == "pass" and domain:
                    passes.append((domain, f"{where} (envelope {domain})"))
                elif r.result in ("fail", "softfail"):
                    failures.append(f"{where}" + (f" (envelope {domain})" if domain else ""))

    aligned = tuple(dict.fromkeys(d for d, _ in passes if aligned_with(d, from_domain)))
    unaligned = [how for d, how in passes if not aligned_with(d, from_domain)]
    aws_from = any(_within(from_domain, d) for d in aws_domains)

    if dmarc_verdict == "fail":
        return Authenticity("fail", (*reasons, *failures), from_domain, ())
    if dmarc_verdict == "pass" or aligned:
        found = [how for d, how in passes if aligned_with(d, from_domain)]
        return Authenticity("pass", (*reasons, *(f"{h}, aligned with From {from_domain}" for h in found),
                                     *failures), from_domain, aligned)
    if unaligned and aws_from:
        return Authenticity("fail", (*reasons, *(f"{h}, but not aligned with From {from_domain}"
                                                 for h in unaligned), *failures), from_domain, ())
    if failures:
        return Authenticity("fail", (*reasons, *failures), from_domain, ())
    if unaligned:
        return Authenticity("none", (*reasons, *(f"{h}, not aligned with From {from_domain}" for h in unaligned)),
                            from_domain, ())
    if header is None:
        reasons.append("no Authentication-Results header from a trusted authserv-id")
    else:
        reasons.append(f"{header.authserv_id} gives no DKIM, SPF or DMARC result for {from_domain}")
    return Authenticity("none", tuple(reasons), from_domain, ())


# --- DKIM -------------------------------------------------------------------------------------


def verify_dkim(raw: bytes, dnsfunc: DnsFunc | None) -> list[tuple[str, str, str]]:
    """(signing domain, "pass" | "fail" | "nokey", why) for every DKIM-Signature of the raw mail, topmost
    first. "nokey": the key could not be fetched (rotated away, DNS down): no evidence either way, so an
    old genuine mail whose selector was retired is not taken for a forgery."""
    count = len(re.findall(rb"(?im)^dkim-signature\s*:", _header_block(raw)))
    if not count:
        return []
    import dkim  # dkimpy and dnspython take a third of a second to import: only when a signature is checked

    quiet = logging.getLogger(f"{__name__}.dkimpy")
    lookup: DnsFunc = dnsfunc or dkim.dnsplug.get_txt
    out: list[tuple[str, str, str]] = []
    for idx in range(count):
        missing: list[str] = []

        def fetch(name: bytes, timeout: int = 5, _missing: list[str] = missing) -> bytes | None:
            try:
                txt = lookup(name, timeout=timeout)
            except Exception as exc:
                _missing.append(f"key look-up failed ({type(exc).__name__})")
                raise
            if txt is None:
                _missing.append(f"no key published at {name.decode('ascii', 'replace').rstrip('.')}")
            return txt

        checker = dkim.DKIM(raw, logger=quiet)
        why = "the signature does not match the mail"
        try:
            ok = bool(checker.verify(idx=idx, dnsfunc=fetch))
        except dkim.DKIMException as exc:
            ok, why = False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        except Exception as exc:  # dkimpy raises bare errors on some broken headers; judge, never crash
            ok, why = False, f"unreadable signature ({type(exc).__name__})"
        domain = checker.domain.decode("ascii", "replace").lower() if checker.domain else ""
        if ok:
            out.append((domain, "pass", ""))
        elif missing:
            out.append((domain, "nokey", missing[0]))
        else:
            out.append((domain, "fail", why))
    return out


def _header_block(raw: bytes) -> bytes:
    end = re.search(rb"\r?\n\r?\n", raw)
    return raw[: end.start()] if end else raw


# --- Authentication-Results (RFC 8601) --------------------------------------------------------


def trusted_results(mail: Mail, trusted: tuple[str, ...], notes: list[str] | None = None,
                    inside_hosts: tuple[str, ...] = ()) -> AuthResultsHeader | None:
    """The topmost Authentication-Results (or ARC-Authentication-Results) header from a trusted authserv-id,
    unless a host outside the trusted organisation added a Received header above it (see `received_by`)."""
    trusted_ids = tuple(t.lower().rstrip(".") for t in trusted)
    outside = ""  # the first host outside the trusted organisation that received the mail, top down
    for name, value in mail.headers:
        lname = name.lower()
        if lname == "received":
            host = received_by(value)
            if not outside and host and not within_trusted(host, trusted_ids, inside_hosts):
                outside = host
            continue
        if lname not in ("authentication-results", "arc-authentication-results"):
            continue
        if lname == "arc-authentication-results":
            value = re.sub(r"^\s*i\s*=\s*\d+\s*;", "", value)
        parsed = parse_authentication_results(value)
        if parsed.authserv_id and any(_within(parsed.authserv_id, t) for t in trusted_ids):
            if outside:
                if notes is not None:
                    notes.append(f"ignored {name} from {parsed.authserv_id}: {outside} received the mail after it, "
                                 "and is not a server of a trusted authserv-id")
                return None
            if notes is not None:
                notes.append(f"believed the topmost trusted {name} header, from {parsed.authserv_id}")
            return parsed
        if notes is not None:
            who = parsed.authserv_id or "no authserv-id"
            notes.append(f"ignored {name} from {who}: not a trusted authserv-id")
    return None


_RECEIVED_BY = re.compile(r"\bby\s+([A-Za-z0-9][A-Za-z0-9.-]{0,253})")


def received_by(received: str) -> str:
    """The host that added a Received header ("… by mx1.corp.example.com with ESMTP …"); "" when it names an
    address only (Gmail's own hops write "by 2002:a05:…"), a bare host name ("by localhost") or none."""
    m = _RECEIVED_BY.search(received)
    host = m.group(1).lower().rstrip(".") if m else ""
    return "" if not host or re.fullmatch(r"[0-9.]+", host) or "." not in host else host


def within_trusted(host: str, trusted: tuple[str, ...], inside_hosts: tuple[str, ...] = ()) -> bool:
    """Whether `host` belongs to the organisation of a trusted authserv-id: the id's registered domain
    (mx.google.com → any host under google.com; a corporate mx.corp.example.com → smtp-in2.example.com), or
    one of `inside_hosts`, the other domains of the same provider (`provider_hosts`)."""
    host = host.lower().rstrip(".")
    patterns = {organizational_domain(t.lower().rstrip(".")) for t in trusted}.union(inside_hosts)
    return any(_host_matches(host, p) for p in patterns)


def provider_hosts(trusted: tuple[str, ...], providers: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """The domains of every provider (rules/mail-providers.toml) one of whose domains is the registered
    domain of a trusted authserv-id: their hosts' Received hops are the provider's own."""
    orgs = {organizational_domain(t.lower().rstrip(".")) for t in trusted}
    return tuple(dict.fromkeys(d for family in providers if orgs.intersection(family) for d in family))


def _host_matches(host: str, pattern: str) -> bool:
    """`host` is `pattern` or under it; a "*" label in `pattern` matches exactly one label."""
    if "*" not in pattern:
        return _within(host, pattern)
    want, got = pattern.split("."), host.split(".")
    return len(got) == len(want) and all(w in ("*", g) for w, g in zip(want, got, strict=True))


def parse_authentication_results(value: str) -> AuthResultsHeader:
    """Parse one header value: `authserv-id [version]; method=result ptype.prop=value …; …`."""
    text = _strip_comments(value)
    parts = [p.strip() for p in _split_outside_quotes(text, ";")]
    if not parts:
        return AuthResultsHeader("", ())
    head = parts[0].split()
    authserv_id = ""
    rest = parts[1:]
    if head and "=" not in head[0]:
        authserv_id = head[0].lower().rstrip(".")
    else:  # no authserv-id: the first part is already a result
        rest = parts
    results = []
    for part in rest:
        tokens = _split_outside_quotes(part, None)
        if not tokens or tokens[0].lower() == "none" or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        props = []
        for token in tokens[1:]:
            key, eq, val = token.partition("=")
            if eq:
                props.append((key.strip().lower(), val.strip().strip('"')))
        results.append(AuthResult(method.split("/")[0].strip().lower(), result.strip().lower(), tuple(props)))
    return AuthResultsHeader(authserv_id, tuple(results))


_COMMENT_SPECIAL = re.compile(r'[\\"()]')  # what _strip_comments acts on; every other character is copied


def _strip_comments(value: str) -> str:
    """`value` without its (comments), nested ones too; not inside "quotes", not an escaped \\( or \\)."""
    if "(" not in value:
        return value
    out: list[str] = []
    depth, quoted, pos = 0, False, 0
    while True:
        special = _COMMENT_SPECIAL.search(value, pos)
        at = special.start() if special else len(value)
        if depth == 0:
            out.append(value[pos:at])
        if special is None:
            return "".join(out)
        ch = special.group()
        pos = at + 1
        if ch == "\\":  # it and the character it escapes, kept outside a comment
            if depth == 0:
                out.append(value[at:at + 2])
            pos = at + 2
            continue
        if ch == '"' and depth == 0:
            quoted = not quoted
        if not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)


def _split_outside_quotes(text: str, sep: str | None) -> list[str]:
    """Split on `sep` (None: whitespace) except inside double quotes."""
    if '"' not in text:
        return text.split() if sep is None else [p.strip() for p in text.split(sep) if p.strip()]
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if not quoted and (ch == sep if sep else ch.isspace()):
            if "".join(current).strip():
                out.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        out.append("".join(current).strip())
    return out


def _dkim_domain(r: AuthResult) -> str:
    domain = r.prop("header.d")
    if not domain:
        identity = r.prop("header.i")
        domain = identity.rpartition("@")[2] if identity else ""
    return domain.lower().rstrip(".")


def _mailfrom_domain(r: AuthResult) -> str:
    value = r.prop("smtp.mailfrom")
    return (value.rpartition("@")[2] if "@" in value else value).lower().rstrip(".")


# --- alignment ----------------------------------------------------------------------------------


def organizational_domain(domain: str) -> str:
    labels = domain.lower().rstrip(".").split(".")
    for size in (3, 2):
        if len(labels) > size and ".".join(labels[-size:]) in _TWO_LABEL_SUFFIXES:
            return ".".join(labels[-size - 1:])
    return ".".join(labels[-2:])


def aligned_with(domain: str, from_domain: str) -> bool:
    """DMARC relaxed alignment: both under one organizational domain."""
    return bool(domain) and organizational_domain(domain) == organizational_domain(from_domain)


def _within(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith("." + parent)
