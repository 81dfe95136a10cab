"""Prices of Kling 3.0 generations, for estimates (the runner's cost gate) and for the
emulator's credit accounting.

Billing is per second of output, by mode (std 720p / pro 1080p) and sound. The default
table's USD figures are the higher of the two host price lists in docs (kie-api.md,
Nov 2026), so estimates err on the side of caution. kie.ai bills in credits and its
Kling 3.0 rate is not published in the seed: the credits per second below are an
**assumption** — the USD rate divided by 0.005 USD per credit (kie.ai's usual credit
price), rounded up. Override the whole table, or some rates, from a JSON or YAML file::

    {"source": "my invoice, Dec 2026",
     "rates": {"pro+sound": {"credits_per_second": 60, "usd_per_second": 0.30}}}

Every figure this module produces is an estimate, labelled with its table's source.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_PRICES",
    "Estimate",
    "PriceTable",
    "Rate",
    "billed_seconds",
    "estimate",
    "load_prices",
    "rate_key",
]


@dataclass(frozen=True)
class Rate:
    """Price of one second of output."""

    credits_per_second: float
    usd_per_second: float


def rate_key(mode: str, sound: bool) -> str:
    """The table key: ``std``, ``pro``, ``std+sound`` or ``pro+sound``."""
    return f"{mode}+sound" if sound else mode


@dataclass(frozen=True)
class PriceTable:
    """Rates by :func:`rate_key`, with where they come from."""

    rates: Mapping[str, Rate]
    source: str
    credits_source: str = ""

    def rate(self, mode: str, sound: bool) -> Rate:
        """The rate for ``mode`` with or without sound (KeyError names what is missing)."""
        key = rate_key(mode, sound)
        if key not in self.rates:
            raise KeyError(f"price table has no rate {key!r} (has {', '.join(self.rates)})")
        return self.rates[key]

    def with_overrides(self, data: Mapping[str, Any]) -> PriceTable:
        """A copy with ``rates`` (whole or per field) and ``source`` replaced from ``data``."""
        rates = dict(self.rates)
        for key, values in (data.get("rates") or {}).items():
            base = rates.get(key, Rate(0.0, 0.0))
            rates[key] = replace(base, **{k: float(v) for k, v in values.items()})
        return replace(
            self,
            rates=rates,
            source=str(data.get("source", f"{self.source} (overridden)")),
            credits_source=str(data.get("credits_source", self.credits_source)),
        )


_USD_PER_CREDIT = 0.005
_HOST_USD = {"std": 0.1764, "pro": 0.2352, "std+sound": 0.2646, "pro+sound": 0.3528}
_4K_FACTOR = 2.0
"""ASSUMPTION: 4K (accepted live, outside the seed's enum, no published rate) costs twice
pro, with and without sound."""
_HOST_USD |= {"4K": _HOST_USD["pro"] * _4K_FACTOR, "4K+sound": _HOST_USD["pro+sound"] * _4K_FACTOR}

DEFAULT_PRICES = PriceTable(
    rates={key: Rate(math.ceil(usd / _USD_PER_CREDIT), usd) for key, usd in _HOST_USD.items()},
    source="USD: the higher of two host price lists for Kling 3.0 (kie-api.md, Nov 2026)",
    credits_source=(
        "ASSUMPTION: USD rate / 0.005 USD per credit, rounded up; kie.ai's Kling 3.0 "
        "credit rate is not published in the seed; 4K (no published rate) is ASSUMED to "
        "cost twice pro"
    ),
)
"""The default table: std 36, pro 48, std+sound 53, pro+sound 71, 4K 95, 4K+sound 142
credits per second (4K: an assumption, see ``credits_source``)."""


@dataclass(frozen=True)
class Estimate:
    """Estimated cost of one generation (never a quote)."""

    seconds: int
    credits: int
    usd: float
    mode: str = "pro"
    sound: bool = False
    source: str = field(default=DEFAULT_PRICES.source)

    def __str__(self) -> str:
        return (
            f"~{self.credits} credits (~${self.usd:.2f}) for {self.seconds} s {self.mode}"
            f"{' with sound' if self.sound else ''} — estimate; prices: {self.source}"
        )


def billed_seconds(body: Mapping[str, Any]) -> int:
    """Seconds of output a createTask body asks for (``input.duration``, else the shots)."""
    data = _input(body)
    duration = data.get("duration")
    if isinstance(duration, str) and duration.isdigit():
        return int(duration)
    if isinstance(duration, int) and not isinstance(duration, bool):
        return duration
    shots = data.get("multi_prompt") or []
    total = sum(s.get("duration", 0) for s in shots if isinstance(s, Mapping))
    if isinstance(total, int) and total > 0:
        return total
    raise ValueError("the body has no duration: set input.duration")


def estimate(body: Mapping[str, Any], table: PriceTable = DEFAULT_PRICES) -> Estimate:
    """Estimated credits and USD of a createTask body under ``table``."""
    data = _input(body)
    mode = str(data.get("mode") or "pro")
    sound = bool(data.get("sound")) or data.get("multi_shots") is True
    seconds = billed_seconds(body)
    rate = table.rate(mode, sound)
    return Estimate(
        seconds=seconds,
        credits=math.ceil(seconds * rate.credits_per_second),
        usd=round(seconds * rate.usd_per_second, 4),
        mode=mode,
        sound=sound,
        source=table.source,
    )


def _input(body: Mapping[str, Any]) -> Mapping[str, Any]:
    data = body.get("input")
    return data if isinstance(data, Mapping) else {}


def load_prices(path: str | Path, base: PriceTable = DEFAULT_PRICES) -> PriceTable:
    """``base`` overridden by a JSON or YAML file (see the module docstring)."""
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if Path(path).suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a price table must be a mapping with 'rates'")
    return base.with_overrides(data)
