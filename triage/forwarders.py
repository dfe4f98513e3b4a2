"""Who may forward mail to triage ([notify] forwarders): an address, or every address of a domain.

Asked by the source (a forward from an allowed forwarder is a candidate, whatever its subject) and by the
unwrapping of a forward (`triage.forward`), so it sits before both.
"""

from __future__ import annotations


def is_forwarder(address: str, forwarders: tuple[str, ...]) -> bool:
    """`me@example.jp` allows that address; `@family.example.jp` every address of that domain."""
    address = address.strip().lower()
    if "@" not in address:
        return False
    domain = address.rpartition("@")[2]
    for allowed in forwarders:
        allowed = allowed.strip().lower()
        if allowed == address or (allowed.startswith("@") and allowed[1:] == domain):
            return True
    return False
