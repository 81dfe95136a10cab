"""Seeded fault injection: decides, occasion by occasion, whether something goes wrong.

Rates come from :class:`FaultConfig`; :meth:`FaultInjector.force` queues faults for the
next occasions of a kind, for tests that need one exact failure.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass

from storyboard.providers.emulator.config import FaultConfig

__all__ = ["FAULT_KINDS", "Fault", "FaultInjector"]

FAULT_KINDS = ("http_error", "slow", "drop_create", "generation_fail", "drop_download")
"""Occasions a fault can be injected at."""


@dataclass(frozen=True)
class Fault:
    """One injected fault; ``code`` is set for ``http_error``, ``seconds`` for ``slow``."""

    kind: str
    code: int | None = None
    seconds: float | None = None


class FaultInjector:
    """Rolls a seeded die per occasion; thread-safe (a served emulator has threads)."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._forced: dict[str, list[Fault]] = {kind: [] for kind in FAULT_KINDS}
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def force(
        self, kind: str, times: int = 1, *, code: int | None = None, seconds: float | None = None
    ) -> None:
        """Make the next ``times`` occasions of ``kind`` fail.

        ``code`` picks the http_error's code (default 500); ``seconds`` a slow delay.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if kind == "http_error" and code is None:
            code = 500
        with self._lock:
            self._forced[kind].extend(Fault(kind, code, seconds) for _ in range(times))

    def roll(self, kind: str) -> Fault | None:
        """The fault to inject at this occasion of ``kind``, if any."""
        with self._lock:
            fault = self._forced[kind].pop(0) if self._forced[kind] else self._random(kind)
            if fault is not None:
                self.injected[fault.kind] += 1
            return fault

    def _random(self, kind: str) -> Fault | None:
        rate = {
            "http_error": self.config.http_error_rate,
            "slow": self.config.slow_rate,
            "drop_create": self.config.drop_create_rate,
            "generation_fail": self.config.generation_fail_rate,
            "drop_download": self.config.drop_download_rate,
        }[kind]
        if rate <= 0 or self._rng.random() >= rate:
            return None
        if kind == "http_error":
            return Fault(kind, self._rng.choice(self.config.http_error_codes))
        return Fault(kind)
