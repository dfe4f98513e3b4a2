"""`triage daemon`: the scan pipeline forever. Placeholder until the daemon lands."""

from __future__ import annotations

from collections.abc import Mapping

from triage.config import Config
from triage.errors import ConfigError
from triage.pipeline import ScanOptions


def run_daemon(config: Config, options: ScanOptions, state_path: str, env: Mapping[str, str]) -> int:
    raise ConfigError("the daemon is not available in this build yet; run `triage scan` from a timer")
