"""One collector per service, each a module here that declares its `COLLECTOR` (see account/collecting.py).

The modules are found by listing this package, so adding a collector is adding its file. The tables the
rest of triage uses are derived from the declarations: the resource types in the reader's order, their
console pages, the types that bill without a price, and every call the collectors make.
"""

from __future__ import annotations

import importlib
import pkgutil

from triage.account.collecting import Collector, Kind


def _discover() -> tuple[Collector, ...]:
    found = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        collector = getattr(module, "COLLECTOR", None)
        if not isinstance(collector, Collector):
            raise TypeError(f"{module.__name__} is in the collectors package but declares no COLLECTOR")
        found.append(collector)
    return tuple(found)


COLLECTORS = _discover()
REGIONAL = tuple(c for c in COLLECTORS if c.regional)
ACCOUNT_WIDE = tuple(c for c in COLLECTORS if not c.regional)
KINDS = tuple(sorted((k for c in COLLECTORS for k in c.kinds), key=lambda k: k.rank))
# The codes a report can carry, in the order the reader sees them (most expensive and most telling first).
# Each has its Japanese word in templates/_account_words.j2 (a test checks).
RESOURCE_TYPES = tuple(k.code for k in KINDS)
CONSOLE_PAGES = {k.code: k.console for k in KINDS}
UNPRICED_TYPES = frozenset(k.code for k in KINDS if k.bills_unpriced)


def declared_calls() -> frozenset[str]:
    return frozenset(call for c in COLLECTORS for call in c.calls)


__all__ = ["ACCOUNT_WIDE", "COLLECTORS", "CONSOLE_PAGES", "KINDS", "REGIONAL", "RESOURCE_TYPES", "UNPRICED_TYPES",
           "Collector", "Kind", "declared_calls"]
