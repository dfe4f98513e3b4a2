"""Exponential backoff with jitter, for anything that reconnects: the daemon's passes, each folder's IDLE
connection, the outbox's deliveries."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    first: float
    maximum: float
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        self._next = min(self.maximum, self._next * 2 if self._next else self.first)
        return self._next * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = 0.0

    @property
    def failing(self) -> bool:
        """A delay was handed out since the last reset: an outage is going on."""
        return self._next > 0
