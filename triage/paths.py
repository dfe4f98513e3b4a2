"""Where triage finds its data (rules/, templates/) and keeps its files (config, state)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP = "triage"
DATA_FOLDERS = ("rules", "templates")


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding rules/ and templates/.

    `TRIAGE_DATA_DIR` wins. Then the copy a wheel carries inside the package (`triage/_data`, found
    beside this module, so `pip install .` and `pipx install .` find it wherever the package
    lands). Then the source checkout the package runs from (the editable install). When neither holds
    the data, the package's own place is returned, so the error that follows names where it should be.
    """
    env = os.environ if env is None else env
    if env.get("TRIAGE_DATA_DIR"):
        return Path(env["TRIAGE_DATA_DIR"])
    packed = packed_data_dir()
    if any((packed / name).is_dir() for name in DATA_FOLDERS):
        return packed
    checkout = Path(__file__).resolve().parent.parent
    if any((checkout / name).is_dir() for name in DATA_FOLDERS):
        return checkout
    return packed


def packed_data_dir() -> Path:
    """Where a built wheel puts rules/ and templates/: `_data` inside the installed package (beside this
    module: the data is read as files, so the package is always on disk)."""
    return Path(__file__).parent / "_data"


def rules_dir(env: Mapping[str, str] | None = None) -> Path:
    return data_dir(env) / "rules"


def templates_dir(env: Mapping[str, str] | None = None) -> Path:
    return data_dir(env) / "templates"


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("TRIAGE_CONFIG"):
        return Path(env["TRIAGE_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP / "config.toml"


def default_state_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP / "state.sqlite3"


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """What triage may forget: the verdict on the data set (triage.dataset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / APP
