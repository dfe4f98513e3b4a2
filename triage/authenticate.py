"""Did AWS really send this mail? → pass | fail | none, with reasons.

Placeholder until issue 3: believes only an Authentication-Results header from a trusted authserv-id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.mail import Mail

VERDICTS = ("pass", "fail", "none")


@dataclass(frozen=True)
class Authenticity:
    verdict: str  # pass | fail | none
    reasons: tuple[str, ...] = ()


def authenticate(mail: Mail, *, trusted_authserv_ids: tuple[str, ...], offline: bool) -> Authenticity:
    """Judge `mail`'s authenticity. With `offline`, no DNS look-up is made."""
    for header in mail.header_values("Authentication-Results"):
        authserv_id = header.split(";", 1)[0].strip().lower()
        if authserv_id not in trusted_authserv_ids:
            continue
        dkim = re.search(r"\bdkim=(\w+)", header)
        if dkim and dkim.group(1).lower() == "pass":
            return Authenticity("pass", (f"{authserv_id}: dkim=pass",))
        if dkim:
            return Authenticity("fail", (f"{authserv_id}: dkim={dkim.group(1).lower()}",))
    return Authenticity("none", ("no trusted verdict",))
