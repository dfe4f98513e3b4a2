"""The severities of DESIGN.md, least to most urgent: the scale every output uses.

What each mail kind means, its default severity included, is data: rules/kinds.toml (`triage.kinds`).
"""

from __future__ import annotations

SEVERITIES = ("info", "low", "medium", "high", "critical")


def rank(severity: str) -> int:
    """Position of a severity; higher is more urgent."""
    return SEVERITIES.index(severity)


def at_least(severity: str, threshold: str) -> bool:
    return rank(severity) >= rank(threshold)
