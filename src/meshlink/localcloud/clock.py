"""The local cloud's sense of time: ``instant`` (today's behaviour) or ``aws`` (scaled).

``meshlink local start --timing aws --time-scale F`` (or ``MESHLINK_LOCAL_TIMING`` and
``MESHLINK_LOCAL_TIME_SCALE``) makes every resource take its AWS duration
(:mod:`meshlink.durations`) times F. moto still creates everything at once; the timing
patches (:mod:`meshlink.localcloud.patches.lifecycle`, ``consistency``, the
CloudFormation schedule) compute what a describe shows from the time elapsed since the
resource was asked for. Eventual consistency (:mod:`.patches.consistency`) follows the
timing unless ``MESHLINK_LOCAL_CONSISTENCY`` says otherwise.

The server process configures this module once (:func:`configure`); everything else
reads :func:`current`. No heavy imports.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from meshlink import durations
from meshlink.errors import UsageError

Mode = Literal["instant", "aws"]
MODES: tuple[Mode, ...] = ("instant", "aws")
ENV_TIMING = "MESHLINK_LOCAL_TIMING"
ENV_SCALE = "MESHLINK_LOCAL_TIME_SCALE"
ENV_CONSISTENCY = "MESHLINK_LOCAL_CONSISTENCY"
MAX_SCALE = 10.0
_FALSE = ("0", "false", "no", "off")
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Timing:
    """The timing in force: its mode, its scale, and whether reads lag behind writes."""

    mode: Mode = "instant"
    scale: float = 1.0
    consistency: bool = False

    @property
    def aws(self) -> bool:
        return self.mode == "aws"

    def seconds(self, key: str) -> float:
        """How long `key` (a :data:`meshlink.durations.DURATIONS` key) takes here."""
        return durations.seconds(key, self.scale) if self.aws else 0.0

    def lag(self, key: str) -> float:
        """How long a read may miss a write for `key` (0 without eventual consistency)."""
        return durations.seconds(key, self.scale) if self.consistency else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "scale": self.scale, "consistency": self.consistency}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Timing:
        data = data or {}
        mode = str(data.get("mode", "instant"))
        return cls(
            mode="aws" if mode == "aws" else "instant",
            scale=float(data.get("scale", 1.0)),
            consistency=bool(data.get("consistency", False)),
        )

    def describe(self) -> str:
        """One line for people: ``aws x0.02 (eventual consistency)`` or ``instant``."""
        if not self.aws:
            return "instant" + (" (eventual consistency)" if self.consistency else "")
        return f"aws x{self.scale:g}" + (" (eventual consistency)" if self.consistency else "")


def parse(
    mode: str | None = None,
    scale: float | str | None = None,
    consistency: bool | str | None = None,
    env: Mapping[str, str] | None = None,
) -> Timing:
    """The timing asked for: arguments first, then the environment; UsageError if bad."""
    environ = os.environ if env is None else env
    raw_mode = (mode or environ.get(ENV_TIMING) or "instant").strip().lower()
    if raw_mode not in MODES:
        raise UsageError(
            f"unknown timing {raw_mode!r}",
            hint=f"use --timing {' or '.join(MODES)} (or ${ENV_TIMING})",
        )
    raw_scale = scale if scale is not None else environ.get(ENV_SCALE) or 1.0
    try:
        value = float(raw_scale)
    except (TypeError, ValueError):
        value = -1.0
    if not 0 < value <= MAX_SCALE:
        raise UsageError(
            f"time scale {raw_scale!r} is not a number in (0, {MAX_SCALE:g}]",
            hint=f"e.g. --time-scale 0.02 (or ${ENV_SCALE}); 1 is AWS's own durations",
        )
    chosen: Mode = "aws" if raw_mode == "aws" else "instant"
    return Timing(chosen, value, _consistency(consistency, environ, chosen))


def _consistency(value: bool | str | None, environ: Mapping[str, str], mode: Mode) -> bool:
    if isinstance(value, bool):
        return value
    raw = (value or environ.get(ENV_CONSISTENCY) or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    if raw:
        raise UsageError(
            f"${ENV_CONSISTENCY} must be on or off, not {raw!r}",
            hint="leave it unset to follow the timing (on under --timing aws)",
        )
    return mode == "aws"


_current = Timing()


def configure(timing: Timing) -> None:
    """Set the timing of this process (the local-cloud server, at start)."""
    global _current
    _current = timing


def current() -> Timing:
    """The timing in force in this process."""
    return _current


def now() -> float:
    """The clock every timing decision uses (monotonic seconds)."""
    return time.monotonic()
