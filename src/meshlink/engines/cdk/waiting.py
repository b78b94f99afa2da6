"""CloudFormation calls with throttling retries, and the stack-event tail used while waiting."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from meshlink.aws.errors import error_code
from meshlink.aws.errors import error_message as error_message  # deployer imports it here
from meshlink.deadlines import BUDGETS, Deadlines, pauses
from meshlink.engines.cdk.events import EventSink, StackEvent

# Error codes AWS (and the local cloud) use when a caller goes too fast.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
    }
)


# An IAM refusal (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


def is_missing_stack(exc: BaseException) -> bool:
    return error_code(exc) == "ValidationError" and "does not exist" in error_message(exc)


@dataclass
class Pacing:
    """Timing knobs: polls start fast and slow down, so the local cloud answers in
    milliseconds while real AWS is not polled more than every `poll_max` seconds.

    `timeout` bounds each wait for a stack (and for a change set): a run's Deadlines
    (meshlink/deadlines.py) set it, scaled to the timing in force or from --timeout.
    """

    poll_min: float = 0.05
    poll_max: float = 5.0
    timeout: float = BUDGETS["stack"].aws
    throttle_retries: int = 8
    throttle_base: float = 0.5
    throttle_cap: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random

    @classmethod
    def within(cls, deadlines: Deadlines) -> Pacing:
        """Polls and timeout of one run's stack waits."""
        return cls(poll_max=deadlines.poll_max, timeout=deadlines.seconds("stack"))

    def polls(self) -> Callable[[], None]:
        """A sleeper that waits a little longer on each call, up to poll_max."""
        waits = pauses(self.poll_min, self.poll_max)
        return lambda: self.sleep(next(waits))


class Api:
    """A CloudFormation client whose calls are retried, with full jitter, when throttled.

    botocore's own retries (adaptive mode, set by the session factory) come first;
    these cover long waits, where many polls in a row may be throttled.
    """

    def __init__(self, client: Any, pacing: Pacing) -> None:
        self.client = client
        self.pacing = pacing

    def __call__(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        method = getattr(self.client, operation)
        attempt = 0
        while True:
            try:
                result: dict[str, Any] = method(**kwargs)
                return result
            except Exception as exc:
                if (
                    error_code(exc) not in THROTTLING_CODES
                    or attempt >= self.pacing.throttle_retries
                ):
                    raise
                ceiling = min(self.pacing.throttle_cap, self.pacing.throttle_base * 2**attempt)
                self.pacing.sleep(self.pacing.jitter() * ceiling)
                attempt += 1


def _is_review(raw: dict[str, Any]) -> bool:
    """The stack's own REVIEW_IN_PROGRESS event (a change set created it)."""
    return (
        raw.get("ResourceType") == "AWS::CloudFormation::Stack"
        and raw.get("ResourceStatus") == "REVIEW_IN_PROGRESS"
    )


def to_event(raw: dict[str, Any]) -> StackEvent:
    return StackEvent(
        stack=str(raw.get("StackName", "")),
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        status=str(raw.get("ResourceStatus", "")),
        reason=raw.get("ResourceStatusReason") or None,
        physical_id=raw.get("PhysicalResourceId") or None,
        timestamp=raw.get("Timestamp"),
    )


class EventTail:
    """Follows a stack's events from a point on, oldest first, like `tail -f`."""

    def __init__(self, api: Api, stack_id: str, sink: EventSink | None) -> None:
        self.api = api
        self.stack_id = stack_id
        self.sink = sink
        self.seen: list[StackEvent] = []
        self._marker: str | None = None
        self._skip_review = False

    def skip_existing(self) -> None:
        """Start after the newest event the stack has now (the previous operation's)."""
        try:
            page = self.api("describe_stack_events", StackName=self.stack_id)
        except Exception as exc:
            if is_missing_stack(exc):
                return
            raise
        events = page.get("StackEvents", [])
        if events:
            self._marker = events[0]["EventId"]

    def skip_review(self) -> None:
        """Start at the first event after the stack's REVIEW_IN_PROGRESS (the one event a
        stack created by a change set has before the change set runs)."""
        self._skip_review = True

    def poll(self) -> list[StackEvent]:
        """New events since the last poll, oldest first; each also goes to the sink."""
        fresh: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StackName": self.stack_id}
        while True:
            page = self.api("describe_stack_events", **kwargs)
            for raw in page.get("StackEvents", []):
                if raw["EventId"] == self._marker:
                    break
                if self._skip_review and _is_review(raw):
                    continue
                fresh.append(raw)
            else:
                token = page.get("NextToken")
                if token:
                    kwargs["NextToken"] = token
                    continue
            break
        if fresh:
            self._marker = fresh[0]["EventId"]
        events = [to_event(raw) for raw in reversed(fresh)]
        for event in events:
            self.seen.append(event)
            if self.sink is not None:
                self.sink(event)
        return events

    def root_cause(self) -> StackEvent | None:
        """The first resource failure of this operation: the one that caused the rest."""
        failures = [e for e in self.seen if e.failed and not e.is_stack]
        real = [e for e in failures if not (e.reason or "").endswith("cancelled")]
        if real or failures:
            return (real or failures)[0]
        stack_failures = [e for e in self.seen if e.failed or "ROLLBACK" in e.status]
        return next((e for e in stack_failures if e.reason), None)


# Every stack status but DELETE_COMPLETE: ListStacks also lists the stacks deleted in the
# last 90 days (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
# API_ListStacks.html), which no wait needs; a stack deleted since is simply not listed.
LISTED_STATUSES = (
    "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE",
    "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS", "DELETE_FAILED",
    "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE",
    "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
)  # fmt: skip


@dataclass(frozen=True)
class Listed:
    """A stack's line in ListStacks."""

    status: str
    reason: str | None = None


class StackStatuses:
    """The statuses of one account's stacks, from one ListStacks shared by all its waits.

    Each wait polls its stack until the stack's operation ends; a mesh has dozens of them
    in one account at once, and CloudFormation's API rate is the account's. A wait asks
    for a listing begun at or after a time of its own (on the same clock as the board's
    Api): the first thread to ask makes it, the ones that ask meanwhile wait for it and
    read it too. About one request per account and poll, whatever the number of stacks
    (the local cloud had served ~160 a second for a 32-service mesh: a DescribeStackEvents
    and a quarter DescribeStacks per stack). One board per account and run: the caller
    that makes the account's Deployers gives them the same one.

    A role that may not list stacks (a deploy role bootstrapped before meshlink listed
    them) is asked once: every wait then reads its stack by id, as it would without.
    """

    def __init__(self, api: Api) -> None:
        self._api = api
        self._changed = threading.Condition()
        self._listing: dict[str, Listed] = {}
        self._begun = -math.inf  # on api.pacing.clock: when the listing was asked for
        self._fetching = False
        self._denied = False
        # Not a status: whether the account's role may CreateStack, learned by the first
        # of its Deployers that asks (a role bootstrapped before meshlink created stacks
        # directly may not); the others then create through change sets at once.
        self.creates_directly = True

    def of(self, stack_id: str, since: float) -> Listed | None:
        """The stack in a listing asked for at `since` or later (the pacing clock); None
        when not listed (deleted, too new to be listed yet, or no listing allowed: ask
        for it by id)."""
        with self._changed:
            while not self._denied and self._begun < since:
                if not self._fetching:
                    self._fetching = True
                    break
                self._changed.wait()
            else:
                return None if self._denied else self._listing.get(stack_id)
        listing: dict[str, Listed] | None = None
        try:
            began = self._api.pacing.clock()
            listing = self._list()
        except Exception as exc:
            if error_code(exc) not in ACCESS_DENIED_CODES:
                raise
            with self._changed:
                self._denied = True
            return None
        finally:
            with self._changed:
                if listing is not None:
                    self._listing, self._begun = listing, began
                self._fetching = False
                self._changed.notify_all()
        return listing.get(stack_id)

    def _list(self) -> dict[str, Listed]:
        found: dict[str, Listed] = {}
        kwargs: dict[str, Any] = {"StackStatusFilter": list(LISTED_STATUSES)}
        while True:
            page = self._api("list_stacks", **kwargs)
            for summary in page.get("StackSummaries", []):
                found[str(summary["StackId"])] = Listed(
                    str(summary["StackStatus"]), summary.get("StackStatusReason") or None
                )
            token = page.get("NextToken")
            if not token:
                return found
            kwargs["NextToken"] = token


class AccountListings:
    """One StackStatuses per account, made on first use: what whoever makes an account's
    Deployers (a run's NodeContext, the CDK network engine) gives every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._boards: dict[str, StackStatuses] = {}

    def of(self, account: str, client: Any, pacing: Pacing) -> StackStatuses:
        """The account's listing (`client` and `pacing` make it the first time)."""
        with self._lock:
            board = self._boards.get(account)
            if board is None:
                board = self._boards[account] = StackStatuses(Api(client, pacing))
            return board
