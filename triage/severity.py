"""The mail kinds of DESIGN.md and their severities: the vocabulary every output uses."""

from __future__ import annotations

SEVERITIES = ("info", "low", "medium", "high", "critical")

# kind -> default severity, in DESIGN.md's order.
KINDS: dict[str, str] = {
    "compromised-account": "critical",
    "exposed-credentials": "critical",
    "abuse-report": "critical",
    "account-suspension": "critical",
    "account-change": "high",
    "billing-alert": "high",
    "security-finding": "high",
    "phishing": "high",
    "support-case-update": "medium",
    "billing-statement": "low",
    "health-event": "low",
    "marketing": "info",
    "other": "info",
}

# Kinds for which the account itself is checked: AWS says something is wrong inside the account.
SECURITY_KINDS = frozenset({
    "compromised-account", "exposed-credentials", "abuse-report", "account-suspension",
    "account-change", "billing-alert", "security-finding",
})


def rank(severity: str) -> int:
    """Position of a severity; higher is more urgent."""
    return SEVERITIES.index(severity)


def at_least(severity: str, threshold: str) -> bool:
    return rank(severity) >= rank(threshold)
