"""The accept node: accept exactly the expected endpoint connections, reject the rest."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from meshlink.errors import DeployError

LIVE_STATES = {"pendingAcceptance", "pending", "available"}


@dataclass
class AcceptanceResult:
    """What the accept node did on one endpoint service."""

    service_id: str
    accepted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)

    def as_outputs(self) -> dict[str, Any]:
        return {
            "ServiceId": self.service_id,
            "Accepted": ",".join(sorted(self.accepted)),
            "Rejected": ",".join(sorted(self.rejected)),
            "Connections": ",".join(f"{k}={v}" for k, v in sorted(self.states.items())),
        }


def connections(ec2: Any, service_id: str) -> dict[str, dict[str, Any]]:
    """The endpoint connections of `service_id`, by endpoint id (provider's view)."""
    found: dict[str, dict[str, Any]] = {}
    paginator_args: dict[str, Any] = {"Filters": [{"Name": "service-id", "Values": [service_id]}]}
    while True:
        page = ec2.describe_vpc_endpoint_connections(**paginator_args)
        for conn in page.get("VpcEndpointConnections", []):
            found[conn["VpcEndpointId"]] = conn
        token = page.get("NextToken")
        if not token:
            return found
        paginator_args["NextToken"] = token


def reconcile_connections(
    ec2: Any,
    service_id: str,
    expected: Mapping[str, str],
    *,
    progress: Callable[[str], None] = lambda message: None,
    timeout: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> AcceptanceResult:
    """Accept the `expected` endpoints (id -> consumer label), reject every other live one,
    and wait until the expected ones are available."""
    result = AcceptanceResult(service_id)
    current = connections(ec2, service_id)
    unexpected = [
        eid
        for eid, c in current.items()
        if eid not in expected and c["VpcEndpointState"] in LIVE_STATES
    ]
    if unexpected:
        progress(f"rejecting unexpected endpoints {', '.join(sorted(unexpected))}")
        ec2.reject_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=unexpected)
        result.rejected = unexpected
    pending = [
        eid
        for eid in expected
        if current.get(eid, {}).get("VpcEndpointState") == "pendingAcceptance"
    ]
    if pending:
        progress(f"accepting {', '.join(expected[e] for e in pending)}")
        answer = ec2.accept_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=pending)
        failed = answer.get("Unsuccessful") or []
        if failed:
            reasons = "; ".join(
                f"{f.get('ResourceId')}: {f.get('Error', {}).get('Message')}" for f in failed
            )
            raise DeployError(f"endpoint service {service_id}: could not accept {reasons}")
        result.accepted = pending
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        current = connections(ec2, service_id)
        result.states = {
            eid: current.get(eid, {}).get("VpcEndpointState", "missing") for eid in expected
        }
        waiting = {eid: state for eid, state in result.states.items() if state != "available"}
        if not waiting:
            return result
        broken = {
            e: s
            for e, s in waiting.items()
            if s in ("rejected", "failed", "deleted", "missing", "expired")
        }
        if broken:
            detail = ", ".join(f"{expected[e]} ({e}) is {s}" for e, s in broken.items())
            raise DeployError(
                f"endpoint service {service_id}: {detail}",
                hint="run `meshlink up` again to recreate the consumer's endpoints stack",
            )
        if time.monotonic() > deadline:
            detail = ", ".join(f"{expected[e]}: {s}" for e, s in waiting.items())
            raise DeployError(f"endpoint service {service_id}: still waiting for {detail}")
        progress("waiting for " + ", ".join(f"{expected[e]} ({s})" for e, s in waiting.items()))
        sleep(delay)
        delay = min(delay * 2, 5.0)
