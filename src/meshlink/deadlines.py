"""How long each wait may last: an AWS budget scaled by the timing in force, or --timeout.

Every wait meshlink does (a stack's deploy or delete, an ECS service's stability, the
acceptance of endpoint connections, verify's settling and its probe tasks) takes its
deadline from one `Deadlines`, built once per run:

* on AWS, the budget itself (scale 1);
* on the local cloud, the budget times the cloud's time scale (0 under `instant`
  timing, F under `--timing aws --time-scale F`), plus the emulator's own overhead:
  real seconds that no time scale shrinks (moto's work, task processes starting);
* with `--timeout SECONDS`, exactly that, for every wait.

A deadline that passes raises an error naming what was awaited and its last seen state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

Wait = Literal["stack", "change_set", "stability", "acceptance", "settle", "probe_task"]


@dataclass(frozen=True)
class Budget:
    """One wait's budget: `aws` seconds of AWS time, `overhead` real seconds on the local cloud."""

    aws: float
    overhead: float
    why: str


# Budgets are generous multiples of what AWS takes (the durations table: meshlink.durations),
# so that a slow day is not a failure while a stuck resource still ends the run.
BUDGETS: Mapping[Wait, Budget] = {
    # CloudFormation's own timeout for a stack is unlimited; an NLB (~150 s) behind a
    # NAT gateway (~100 s) behind a VPC takes under 10 minutes: an hour is 6x that.
    "stack": Budget(3600.0, 600.0, "a stack deploy or delete"),
    "change_set": Budget(600.0, 120.0, "a change set's creation"),
    # A Fargate task takes ~40 s to run and its NLB target ~90 s to turn healthy; ECS
    # replaces tasks that fail their checks, so allow several rounds.
    "stability": Budget(1200.0, 240.0, "an ECS service's tasks and targets"),
    # An endpoint's connection shows on the provider's side after a delay, then
    # pendingAcceptance -> pending -> available: minutes on AWS.
    "acceptance": Budget(600.0, 120.0, "endpoint connections"),
    # verify only waits for transient states (a deployment in progress, first checks).
    "settle": Budget(600.0, 90.0, "a mesh still converging"),
    # A probe task: image pull and start (~40 s on Fargate) plus its requests.
    "probe_task": Budget(240.0, 45.0, "a probe task"),
}


POLL_MAX = 5.0  # seconds between two polls of AWS, at most
POLL_FLOOR = 0.25  # ... of the local cloud, at least (it serves every engineer's runs)


@dataclass(frozen=True)
class Deadlines:
    """The deadline of each kind of wait for one run (see the module docstring)."""

    scale: float = 1.0  # AWS seconds -> seconds here; 0 under the local cloud's instant timing
    local: bool = False  # the local cloud: its overhead is added
    override: float | None = None  # --timeout SECONDS: every wait gets exactly this

    def seconds(self, wait: Wait) -> float:
        """How long `wait` may last, in real seconds."""
        if self.override is not None:
            return self.override
        budget = BUDGETS[wait]
        return budget.aws * self.scale + (budget.overhead if self.local else 0.0)

    @property
    def poll_max(self) -> float:
        """The longest pause between two polls: 5 s on AWS; on a scaled local cloud, 5 s of
        AWS time (so that polling adds no more to a run than it would on AWS)."""
        if not self.local:
            return POLL_MAX
        return min(POLL_MAX, max(POLL_FLOOR, POLL_MAX * self.scale))

    def describe(self) -> str:
        """One line for notices: where the deadlines come from."""
        if self.override is not None:
            return f"every wait ends after {self.override:g}s (--timeout)"
        if not self.local:
            return "waits use AWS budgets (stacks 1h, services 20 min)"
        return f"waits scale with the local cloud's timing (x{self.scale:g} + overhead)"


AWS = Deadlines()


def for_target(
    target: str,
    *,
    timeout: float | None = None,
    timing: str | None = None,
    time_scale: float | None = None,
) -> Deadlines:
    """The deadlines of a run on `target`; `timing`/`time_scale` are the local cloud's."""
    if target != "local":
        return Deadlines(1.0, local=False, override=timeout)
    scale = (time_scale if time_scale is not None else 1.0) if timing == "aws" else 0.0
    return Deadlines(scale, local=True, override=timeout)


def local_timing(endpoint_url: str) -> tuple[str, float]:
    """The local cloud's timing and time scale, from its admin API (instant, 1 if unsaid)."""
    import json
    import urllib.request

    url = f"{endpoint_url.rstrip('/')}/_meshlink/health"
    try:
        with urllib.request.urlopen(url, timeout=5.0) as response:  # noqa: S310 - localhost
            health = json.loads(response.read())
    except (OSError, ValueError):
        return "instant", 1.0
    timing = health.get("timing") if isinstance(health, dict) else None
    if not isinstance(timing, dict):  # an older server: instant
        return "instant", 1.0
    return str(timing.get("mode", "instant")), float(timing.get("scale", 1.0))


def pauses(first: float, most: float, growth: float = 1.5) -> Iterator[float]:
    """The pauses between polls: `first`, then `growth` times longer each time, up to
    `most` (mostly the run's `Deadlines.poll_max`)."""
    pause = min(first, most)
    while True:
        yield pause
        pause = min(pause * growth, most)


def pause_toward(end: float, now: float, first: float, most: float) -> float:
    """The pause before the next poll of something expected to be done at `end` (on the
    clock of `now`): half the time left, so that polls close in on `end` (few while it is
    far, a quick one soon after it); once past it, half how late it is, so that they back
    off again when the expectation was short. Never under `first` nor over `most`."""
    return min(most, max(first, abs(end - now) / 2))


def timed_out(what: str, seconds: float, last_seen: str) -> str:
    """The message of a wait whose deadline passed: what was awaited, its last seen state."""
    return f"gave up waiting for {what} after {seconds:.0f}s; last seen: {last_seen}"


TIMEOUT_HINT = (
    "raise the deadline with --timeout SECONDS, or look at what it was waiting for "
    "(meshlink status; meshlink local logs on the local cloud)"
)
