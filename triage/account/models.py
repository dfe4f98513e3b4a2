"""Service models cut down to the read calls triage declares, so its clients have no write methods at all.

botocore builds every client from the JSON model of the whole service; EC2's has about 800 operations,
and making a client means making a method for each: some 25 ms of CPU per client, and a sweep makes one
client per service and region, over a hundred. Cut down to the few Describe/List/Get calls the
collectors declare (their CALLS), a client is made in a fraction of that time. It also makes read-only
structural: a write is not only refused by the guard, the client has no method for it.

The cut is done in the session's own model loader (botocore's `data_loader` component), for the services
named in `allowed`; any other service keeps its full model and the guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.loaders import Loader


class ReadOnlyModels(Loader):
    def __init__(self, allowed: Mapping[str, frozenset[str]], extra_search_paths: list[str] | None = None) -> None:
        super().__init__(extra_search_paths=extra_search_paths)
        self._allowed = allowed
        self._cut: dict[tuple[str, str | None], dict[str, Any]] = {}

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = super().load_service_model(service_name, type_name, api_version)
        if type_name != "service-2" or service_name not in self._allowed:
            return model
        key = (service_name, api_version)
        if key not in self._cut:
            self._cut[key] = cut_model(model, self._allowed[service_name])
        return self._cut[key]


def cut_model(model: Mapping[str, Any], operations: frozenset[str]) -> dict[str, Any]:
    """The model with only `operations` and the shapes they reach."""
    kept_operations = {name: op for name, op in model["operations"].items() if name in operations}
    shapes: Mapping[str, Any] = model["shapes"]
    wanted = [ref["shape"] for op in kept_operations.values()
              for ref in (op.get("input"), op.get("output"), *op.get("errors", ())) if ref]
    kept: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in kept:
            continue
        kept.add(name)
        wanted.extend(_referenced(shapes[name]))
    return {**model, "operations": kept_operations, "shapes": {name: shapes[name] for name in kept}}


def _referenced(shape: Mapping[str, Any]) -> list[str]:
    kind = shape.get("type")
    if kind == "structure":
        return [m["shape"] for m in shape.get("members", {}).values()]
    if kind == "list":
        return [shape["member"]["shape"]]
    if kind == "map":
        return [shape["key"]["shape"], shape["value"]["shape"]]
    return []
