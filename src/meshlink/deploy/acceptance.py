"""The accept node: accept exactly the expected endpoint connections, reject the rest."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshlink.deadlines import TIMEOUT_HINT, pauses, timed_out
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


# States an expected connection never leaves by itself: waiting longer cannot help.
BROKEN_STATES = frozenset({"rejected", "failed", "deleted", "deleting", "expired"})
# Errors of an accept call on a connection the provider's side cannot see yet.
NOT_YET_CODES = ("InvalidVpcEndpointId.NotFound", "InvalidVpcEndpoint.NotFound")


def reconcile_connections(
    ec2: Any,
    service_id: str,
    expected: Mapping[str, str],
    *,
    progress: Callable[[str], None] = lambda message: None,
    timeout: float,
    poll_max: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    first: Mapping[str, Mapping[str, Any]] | None = None,
    new: Sequence[str] = (),
) -> AcceptanceResult:
    """Accept the `expected` endpoints (id -> consumer label), reject every other live one,
    and wait until the expected ones are available.

    The provider's side is eventually consistent: a consumer's new endpoint shows up in
    its connections only after a delay. Each look accepts the expected connections it
    sees pending and rejects the unexpected live ones; an expected connection not visible
    yet is waited for, and is a failure only when `timeout` passes.

    `first`: the connections as this run already read them (nothing it did since could
    change them), taken for the first look instead of asking again.

    `new`: expected endpoints this run has just created (their stack was created): their
    connections are accepted before the first look (_accept_new), a request sooner.
    """
    result = AcceptanceResult(service_id)
    deadline = clock() + timeout
    waits = pauses(0.05, poll_max, growth=2)
    if new and first is None:
        _accept_new(ec2, service_id, expected, new, result, progress)
    while True:
        if first is not None:
            current = {eid: dict(connection) for eid, connection in first.items()}
            first = None
        else:
            current = connections(ec2, service_id)
        _reject_unexpected(ec2, service_id, expected, current, result, progress)
        _accept_pending(ec2, service_id, expected, current, result, progress)
        result.states = {
            eid: current.get(eid, {}).get("VpcEndpointState", "not visible yet") for eid in expected
        }
        waiting = {eid: state for eid, state in result.states.items() if state != "available"}
        if not waiting:
            return result
        broken = {e: s for e, s in waiting.items() if s in BROKEN_STATES}
        if broken:
            detail = ", ".join(f"{expected[e]} ({e}) is {s}" for e, s in broken.items())
            raise DeployError(
                f"endpoint service {service_id}: {detail}",
                hint="run `meshlink up` again to recreate the consumer's endpoints stack",
            )
        if clock() > deadline:
            detail = ", ".join(f"{expected[e]} ({e}): {s}" for e, s in waiting.items())
            raise DeployError(
                f"endpoint service {service_id}: "
                + timed_out("its consumers' endpoint connections", timeout, detail),
                hint=TIMEOUT_HINT,
            )
        progress("waiting for " + ", ".join(f"{expected[e]} ({s})" for e, s in waiting.items()))
        sleep(next(waits))


def _accept_new(
    ec2: Any,
    service_id: str,
    expected: Mapping[str, str],
    new: Sequence[str],
    result: AcceptanceResult,
    progress: Callable[[str], None],
) -> None:
    """Accept new endpoints' connections without looking first. A new endpoint's
    connection is pending acceptance once it reaches the provider, which it has all but
    certainly done by the time its stack is complete; one that has not yet
    (InvalidVpcEndpoint.NotFound) comes back Unsuccessful, and the looks that follow wait
    for it and accept it as they would have."""
    wanted = [eid for eid in new if eid in expected]
    if not wanted:
        return
    progress(f"accepting {', '.join(expected[e] for e in wanted)}")
    try:
        answer = ec2.accept_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=wanted)
    except Exception as error:
        if not hasattr(error, "response"):  # botocore ClientError: the looks will tell
            raise
        return
    refused = {f.get("ResourceId") for f in answer.get("Unsuccessful") or []}
    result.accepted += [e for e in wanted if e not in refused]


def _reject_unexpected(
    ec2: Any,
    service_id: str,
    expected: Mapping[str, str],
    current: dict[str, dict[str, Any]],
    result: AcceptanceResult,
    progress: Callable[[str], None],
) -> None:
    unexpected = sorted(
        eid
        for eid, c in current.items()
        if eid not in expected and c["VpcEndpointState"] in LIVE_STATES
    )
    if unexpected:
        progress(f"rejecting unexpected endpoints {', '.join(unexpected)}")
        ec2.reject_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=unexpected)
        result.rejected += [e for e in unexpected if e not in result.rejected]
        for eid in unexpected:
            current[eid]["VpcEndpointState"] = "rejected"


def _accept_pending(
    ec2: Any,
    service_id: str,
    expected: Mapping[str, str],
    current: Mapping[str, dict[str, Any]],
    result: AcceptanceResult,
    progress: Callable[[str], None],
) -> None:
    pending = [
        eid
        for eid in expected
        if current.get(eid, {}).get("VpcEndpointState") == "pendingAcceptance"
    ]
    if not pending:
        return
    progress(f"accepting {', '.join(expected[e] for e in pending)}")
    answer = ec2.accept_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=pending)
    failed = [
        f
        for f in answer.get("Unsuccessful") or []
        if f.get("Error", {}).get("Code") not in NOT_YET_CODES  # seen next look
    ]
    if failed:
        reasons = "; ".join(
            f"{f.get('ResourceId')}: {f.get('Error', {}).get('Message')}" for f in failed
        )
        raise DeployError(f"endpoint service {service_id}: could not accept {reasons}")
    retried = {f.get("ResourceId") for f in answer.get("Unsuccessful") or []}
    result.accepted += [e for e in pending if e not in retried and e not in result.accepted]
