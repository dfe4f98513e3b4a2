"""The daemon in a thread, for tests: started with a config, stopped and joined at the end of the test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from triage.config import Config
from triage.daemon import Timing, run_daemon
from triage.pipeline import ScanOptions

FAST = Timing(idle_seconds=20, poll_seconds=120, check_seconds=0.5, backoff_first=0.2, backoff_max=1.0)
OFFLINE = ScanOptions(no_aws=True, no_translate=True)


def wait_until(condition: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


class DaemonThreads:
    """Daemons on one state file; what a daemon raised is kept in `errors` for the test to look at."""

    def __init__(self, state_path: Path, env: Mapping[str, str]) -> None:
        self.state_path, self.env = state_path, env
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def start(self, config: Config, timing: Timing = FAST) -> threading.Thread:
        def target() -> None:
            try:
                run_daemon(config, OFFLINE, str(self.state_path), self.env, stop=self.stop, timing=timing)
            except BaseException as exc:  # surfaced by the test
                self.errors.append(exc)

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def stop_all(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)
            assert not thread.is_alive(), "the daemon must stop when asked"
