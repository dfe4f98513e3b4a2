"""Where triage finds its data (rules/, templates/) and keeps its files (config, state)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP = "triage"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding rules/ and templates/.

    `TRIAGE_DATA_DIR` wins; then the source checkout the package runs from (the usual editable
    install); then the `share/triage` folder a wheel install puts them in.
    """
    env = os.environ if env is None else env
    if env.get("TRIAGE_DATA_DIR"):
        return Path(env["TRIAGE_DATA_DIR"])
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "rules").is_dir():
        return checkout
    return Path(sys.prefix) / "share" / APP


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
