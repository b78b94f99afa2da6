"""In-between states under ``--timing aws``: what a describe shows while AWS is still busy.

moto creates and deletes at once. Here each timed model's ``state`` becomes a
:class:`TimedState`: the value moto (or a patch) sets is kept as the raw state, with the
time it was set; what is read is computed from the time elapsed (scaled durations of
:mod:`meshlink.durations`):

* EC2 NAT gateway: ``pending`` -> ``available``; ``deleting`` -> ``deleted``
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NatGateway.html).
* VPC endpoint: ``pending`` -> ``available`` (after acceptance, when the service requires
  it); an interface endpoint ``deleting`` -> ``deleted``
  (https://docs.aws.amazon.com/vpc/latest/privatelink/concepts.html#concepts-endpoint-states).
* ELBv2 load balancer: ``provisioning`` -> ``active``
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerState.html).

A resource CloudFormation creates becomes ready when the stack's schedule says
(:func:`settle`), so the stack and the resource agree. Under ``instant`` timing the raw
state is read unchanged. ECS tasks and target health are timed by the data plane
(``dataplane/reconciler.py``, ``dataplane/health.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshlink.localcloud import clock
from meshlink.localcloud.patches.registry import resolve, step

TIMES = "_meshlink_times"


@dataclass
class Times:
    """When a timed resource was asked for, and when each raw state was set."""

    born: float
    at: dict[str, float] = field(default_factory=dict)
    ready: float | None = None  # set by CloudFormation's schedule: wins over born + duration


Rule = Callable[[Any, Any, Times, clock.Timing, float], Any]


class TimedState:
    """A data descriptor for ``state``: raw value in the instance, read through a rule."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        raw = obj.__dict__.get("state")
        times = obj.__dict__.get(TIMES)
        timing = clock.current()
        if times is None or not timing.aws:
            return raw
        return self.rule(obj, raw, times, timing, clock.now())

    def __set__(self, obj: Any, value: Any) -> None:
        now = clock.now()
        times = obj.__dict__.get(TIMES)
        if times is None:
            times = obj.__dict__[TIMES] = Times(born=now)
        if obj.__dict__.get("state") != value or str(value) not in times.at:
            times.at[str(value)] = now
        obj.__dict__["state"] = value


def times_of(resource: Any) -> Times | None:
    """The timeline of a timed resource (None for any other object)."""
    found = getattr(resource, "__dict__", {}).get(TIMES)
    return found if isinstance(found, Times) else None


def settle(resource: Any, ready_at: float) -> None:
    """CloudFormation's schedule: `resource` (if timed) is ready at `ready_at` (monotonic)."""
    times = times_of(resource)
    if times is not None:
        times.ready = ready_at


def ready_at(times: Times, timing: clock.Timing, key: str) -> float:
    return times.ready if times.ready is not None else times.born + timing.seconds(key)


def _gone_after(raw: Any, times: Times, timing: clock.Timing, now: float, key: str) -> Any:
    deleted = times.at.get(str(raw), now)
    return raw if now >= deleted + timing.seconds(key) else "deleting"


def _nat_gateway(obj: Any, raw: Any, times: Times, timing: clock.Timing, now: float) -> Any:
    if raw == "available":
        return raw if now >= ready_at(times, timing, "nat_gateway.create") else "pending"
    if raw == "deleted":
        return _gone_after(raw, times, timing, now, "nat_gateway.delete")
    return raw


def endpoint_kind(endpoint: Any) -> str:
    """``interface_endpoint`` or ``gateway_endpoint`` (the durations table's prefixes)."""
    kind = str(getattr(endpoint, "vpc_endpoint_type", "") or "").lower()
    return "gateway_endpoint" if kind == "gateway" else "interface_endpoint"


def endpoint_available_at(endpoint: Any) -> float:
    """When the endpoint turns (or turned) ``available``; 0 when it is not timed."""
    times = times_of(endpoint)
    timing = clock.current()
    if times is None or not timing.aws:
        return 0.0
    created = ready_at(times, timing, f"{endpoint_kind(endpoint)}.create")
    # Accepted later than that: available once accepted (pendingAcceptance -> pending -> available).
    return max(created, times.at.get("available", times.born))


def endpoint_serves_at(endpoint: Any) -> float:
    """When the endpoint starts to pass traffic: a few seconds after it turns available."""
    available = endpoint_available_at(endpoint)
    if not available or endpoint_kind(endpoint) != "interface_endpoint":
        return available
    return available + clock.current().seconds("interface_endpoint.traffic_after_available")


def _endpoint(obj: Any, raw: Any, times: Times, timing: clock.Timing, now: float) -> Any:
    if raw == "available":
        return raw if now >= endpoint_available_at(obj) else "pending"
    if raw == "deleted" and endpoint_kind(obj) == "interface_endpoint":
        return _gone_after(raw, times, timing, now, "interface_endpoint.delete")
    return raw


def _load_balancer(obj: Any, raw: Any, times: Times, timing: clock.Timing, now: float) -> Any:
    if raw in ("provisioning", "active"):
        return "active" if now >= ready_at(times, timing, "nlb.create") else "provisioning"
    return raw


# moto model -> how its state is read under --timing aws.
TIMED: dict[str, Rule] = {
    "moto.ec2.models.nat_gateways:NatGateway": _nat_gateway,
    "moto.ec2.models.vpcs:VPCEndPoint": _endpoint,
    "moto.elbv2.models:FakeLoadBalancer": _load_balancer,
}


@step
def _timed_states() -> None:
    for owner, rule in TIMED.items():
        resolve(owner).state = TimedState(rule)
