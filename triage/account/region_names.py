"""The Japanese names of AWS regions, read from rules/regions.toml: data any stage may show, with no AWS
client behind it (a scan that checks no account still names regions in its plan)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from triage.errors import RulesError


@dataclass(frozen=True)
class RegionName:
    code: str
    name: str  # アジアパシフィック (ムンバイ)
    country: str = ""  # インド, for places a reader may not know

    @property
    def full(self) -> str:
        """The name with the country once: アジアパシフィック (ムンバイ)（インド）."""
        return f"{self.name}（{self.country}）" if self.country else self.name


@dataclass(frozen=True)
class RegionNames:
    names: Mapping[str, RegionName]

    def get(self, code: str) -> RegionName:
        return self.names.get(code) or RegionName(code, code)


def load_region_names(rules_dir: Path) -> RegionNames:
    path = rules_dir / "regions.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"cannot read the region names {path}: {exc}") from None
    names = {}
    for code, entry in data.get("regions", {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise RulesError(f"{path}: [regions.{code}] needs a name")
        names[code] = RegionName(code, entry["name"], str(entry.get("country", "")))
    return RegionNames(names)
