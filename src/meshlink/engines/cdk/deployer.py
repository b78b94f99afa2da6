"""Deploy a synthesized template to CloudFormation: a new stack with CreateStack, an
existing one through a change set (what it changes, then its execution).

One code path for AWS and the local cloud: only the client handed in differs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from meshlink.aws.errors import error_code
from meshlink.deadlines import TIMEOUT_HINT, pause_toward, pauses, timed_out
from meshlink.engines.cdk.events import (
    ChangeType,
    DeleteResult,
    DeployResult,
    EventSink,
    ResourceChange,
    StackEvent,
    StackPlan,
)
from meshlink.engines.cdk.templates import (
    StackDeployError,
    TemplateStore,
    additions,
    check_parameters,
    resource_change,
    template_body,
)
from meshlink.engines.cdk.waiting import (
    ACCESS_DENIED_CODES,
    Api,
    EventTail,
    Listed,
    Pacing,
    StackStatuses,
    error_message,
    is_missing_stack,
)
from meshlink.errors import DeployError

# How long CloudFormation should take to make these changes, in seconds here.
Duration = Callable[[tuple[ResourceChange, ...]], float]

__all__ = ["Deployer", "Duration", "StackDeployError", "check_parameters", "stack_tags"]

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
# Bytes CloudFormation accepts as TemplateBody; a larger template goes through S3
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
TEMPLATE_BODY_LIMIT = 51_200
# Read by plan's quota check (quotas/preflight.py): a template over the inline limit is
# no blocker, since a Deployer given a TemplateStore (every stack node's) stages it in S3.
UPLOADS_LARGE_TEMPLATES = True
NO_CHANGE_MARKERS = ("didn't contain changes", "No updates are to be performed")
# CloudFormation's ValidationError for a CREATE change set whose stack exists: "Stack [x]
# already exists and cannot be created again with the changeSet [y]".
ALREADY_EXISTS = "already exists and cannot be created again"
DONE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# While a stack's operation runs, its events are read about every EVENTS_EVERY pauses of
# the plain backoff (its status, every poll, comes from the account's shared listing).
EVENTS_EVERY = 4
# Stacks in these states cannot be updated; deploy says so instead of guessing.
STUCK = frozenset({"ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "CREATE_FAILED"})


def stack_tags(mesh: str, node: str, mesh_id: str | None = None) -> dict[str, str]:
    """The tags every meshlink stack carries (CloudFormation copies them to resources).

    `mesh_id` is the mesh's identity (Topology.identity): a mesh never takes a stack
    carrying another identity for its own (deploy/ownership.py).
    """
    tags = {"meshlink:mesh": mesh, "meshlink:node": node}
    if mesh_id is not None:
        tags["meshlink:mesh-id"] = mesh_id
    return tags


class Deployer:
    """Deployments of one account's stacks through `client` (boto3 cloudformation).

    A stack that does not exist yet is made with CreateStack: a change set would only
    list the template's resources, and creating one takes CloudFormation seconds of its
    own before it can run. An existing stack changes through a change set (what changes,
    and whether it replaces, is known before anything is touched). A role bootstrapped
    before meshlink created stacks directly may not call CreateStack: it is asked once
    per account (the account's StackStatuses remembers), then new stacks go through
    change sets as before.

    `templates`: where templates over TEMPLATE_BODY_LIMIT go (TemplateURL); without it
    such a template is refused before CloudFormation is asked. `statuses`: the account's
    StackStatuses, shared by its Deployers.
    """

    def __init__(
        self,
        client: Any,
        *,
        on_event: EventSink | None = None,
        pacing: Pacing | None = None,
        templates: TemplateStore | None = None,
        statuses: StackStatuses | None = None,
    ) -> None:
        self.pacing = pacing or Pacing()
        self.api = Api(client, self.pacing)
        # The account's shared listing, from whoever makes the account's Deployers (its
        # clock must be this pacing's); without one, a listing of its own.
        self.statuses = statuses if statuses is not None else StackStatuses(self.api)
        self.on_event = on_event
        self.templates = templates
        self._staged: dict[str, str] = {}  # change set id -> the URL of its template

    # -- reading -----------------------------------------------------------------

    def describe(self, stack_name: str) -> dict[str, Any] | None:
        """The stack's description, or None when it does not exist."""
        try:
            stacks = self.api("describe_stacks", StackName=stack_name).get("Stacks", [])
        except Exception as exc:
            if is_missing_stack(exc):
                return None
            raise
        if not stacks or stacks[0].get("StackStatus") == "DELETE_COMPLETE":
            return None
        result: dict[str, Any] = stacks[0]
        return result

    def status(self, stack_name: str) -> str | None:
        stack = self.describe(stack_name)
        return None if stack is None else str(stack["StackStatus"])

    def outputs(self, stack_name: str) -> dict[str, str]:
        """The stack's outputs by key; DeployError when the stack does not exist."""
        stack = self.describe(stack_name)
        if stack is None:
            raise DeployError(f"stack {stack_name} does not exist", hint="run `meshlink up`")
        return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs") or []}

    # -- planning ----------------------------------------------------------------

    def diff(
        self,
        stack_name: str,
        template: Mapping[str, Any] | str,
        *,
        parameters: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> StackPlan:
        """What a deploy would change: a change set created, described and deleted."""
        stack = self._settled(stack_name)
        status = None if stack is None else str(stack["StackStatus"])
        if status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
            # deploy deletes such a stack first; planning must not, so it lists the template.
            return StackPlan(
                stack_name, "CREATE", additions(template), recreate=status == "ROLLBACK_COMPLETE"
            )
        change_type: ChangeType = "CREATE" if status is None else "UPDATE"
        change_set = self._create_change_set(stack_name, template, parameters, tags, change_type)
        if change_set is None:
            return StackPlan(stack_name, "UPDATE")
        try:
            described = self._wait_change_set(stack_name, change_set)
        finally:
            self._discard(stack_name, change_set["Id"], change_type, change_set["StackId"])
        if described is None:
            return StackPlan(stack_name, "UPDATE")
        return StackPlan(stack_name, change_type, described)

    # -- deploying ---------------------------------------------------------------

    def deploy(
        self,
        stack_name: str,
        template: Mapping[str, Any] | str,
        *,
        parameters: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        absent: bool = False,
        duration: Duration | None = None,
    ) -> DeployResult:
        """Create or update the stack to `template`; 'unchanged' when there is nothing to do.

        `duration`: how long CloudFormation should take to make `changes` (seconds here):
        the waits poll most around then (deadlines.pause_toward) instead of backing off
        blindly. A wrong guess costs polls, not correctness.

        `absent`: the caller has just seen the account's stacks without this one (the
        run's listing): no DescribeStacks first. Should the stack exist after all,
        CloudFormation refuses to create it (CreateStack's AlreadyExistsException, or a
        CREATE change set's ALREADY_EXISTS), and the deploy starts over as if it had not
        been told.
        """
        stack = None if absent else self._settled(stack_name)
        status = None if stack is None else str(stack["StackStatus"])
        if stack is not None and status in STUCK:
            raise StackDeployError(
                stack=stack_name,
                status=status,
                reason=f"the stack is in {status}: {stack.get('StackStatusReason') or ''}".strip(),
                hint="fix or delete the stack (`meshlink down`), then deploy again",
            )
        if stack is not None and status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
            # A failed first create, or a change set never executed: both only go away.
            self._delete(stack_name, str(stack["StackId"]))
            status = None
        change_type: ChangeType = "CREATE" if status is None else "UPDATE"
        try:
            if change_type == "CREATE" and self.statuses.creates_directly:
                created = self._create(stack_name, template, parameters, tags, duration)
                if created is not None:
                    return created
            change_set = self._create_change_set(
                stack_name, template, parameters, tags, change_type
            )
        except StackExists:
            if not absent:
                raise
            return self.deploy(
                stack_name, template, parameters=parameters, tags=tags, duration=duration
            )
        if change_set is None:
            return DeployResult(stack_name, "unchanged", self.outputs(stack_name))
        try:
            changes = self._wait_change_set(stack_name, change_set)
        except BaseException:
            self._discard(stack_name, change_set["Id"], change_type, change_set["StackId"])
            raise
        if changes is None:
            self._discard(stack_name, change_set["Id"], change_type, change_set["StackId"])
            return DeployResult(
                stack_name, "unchanged", self.outputs(stack_name), stack_id=change_set["StackId"]
            )
        self._execute(stack_name, change_set, change_type, duration(changes) if duration else None)
        return DeployResult(
            stack_name,
            "created" if change_type == "CREATE" else "updated",
            self.outputs(stack_name),
            changes,
            stack_id=change_set["StackId"],
        )

    def delete(self, stack_name: str) -> DeleteResult:
        """Delete the stack and wait until it is gone; deleting nothing is fine."""
        stack = self._settled(stack_name)
        if stack is None:
            return DeleteResult(stack_name, deleted=False)
        self._delete(stack_name, str(stack["StackId"]))
        return DeleteResult(stack_name, deleted=True)

    # -- steps -------------------------------------------------------------------

    def _settled(self, stack_name: str) -> dict[str, Any] | None:
        """The stack once no operation is running on it (another run's, or a rollback)."""
        stack = self.describe(stack_name)
        if stack is None:
            return None
        status = str(stack["StackStatus"])
        if _in_progress(status) and status != "REVIEW_IN_PROGRESS":
            tail = EventTail(self.api, str(stack["StackId"]), self.on_event)
            tail.skip_existing()
            self._wait(stack_name, str(stack["StackId"]), tail, lambda s: not _in_progress(s))
            stack = self.describe(stack_name)
        return stack

    def _create(
        self,
        stack_name: str,
        template: Mapping[str, Any] | str,
        parameters: Mapping[str, str] | None,
        tags: Mapping[str, str] | None,
        duration: Duration | None,
    ) -> DeployResult | None:
        """CreateStack, then its wait; None when the role may not (a change set instead).

        The changes reported are the resources CloudFormation created (their
        CREATE_COMPLETE events): what a CREATE change set would have listed."""
        arguments, staged = self._stack_arguments(stack_name, template, parameters, tags)
        asked = self.pacing.clock()  # the operation begins no earlier
        try:
            # One token for this create and botocore's retries of it: a retry of a create
            # whose answer was lost is the same create, not an AlreadyExistsException
            # (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
            # API_CreateStack.html, ClientRequestToken).
            created = self.api(
                "create_stack", **arguments, ClientRequestToken=f"meshlink-{uuid.uuid4()}"
            )
        except Exception as exc:
            if not hasattr(exc, "response"):
                raise
            code, reason = error_code(exc), error_message(exc)
            if code in ACCESS_DENIED_CODES:
                self.statuses.creates_directly = False
                return None
            if code == "AlreadyExistsException":
                raise StackExists(stack=stack_name, reason=reason) from exc
            raise StackDeployError(stack=stack_name, reason=reason) from exc
        finally:
            # CloudFormation has read the template when CreateStack answers.
            self._unstage(staged)
        stack_id = str(created["StackId"])
        tail = EventTail(self.api, stack_id, self.on_event)
        until = asked + duration(additions(template)) if duration else None
        self._wait(stack_name, stack_id, tail, lambda s: s in DONE, until)
        changes = tuple(
            ResourceChange("Add", event.logical_id, event.resource_type)
            for event in tail.seen
            if event.status == "CREATE_COMPLETE" and not event.is_stack
        )
        return DeployResult(
            stack_name, "created", self.outputs(stack_name), changes, stack_id=stack_id
        )

    def _stack_arguments(
        self,
        stack_name: str,
        template: Mapping[str, Any] | str,
        parameters: Mapping[str, str] | None,
        tags: Mapping[str, str] | None,
    ) -> tuple[dict[str, Any], str | None]:
        """What CreateStack and CreateChangeSet both take, and the URL of a template staged
        for it (the caller discards it once CloudFormation has read it)."""
        check_parameters(stack_name, template, parameters or {})
        source = self._template_source(stack_name, template_body(template))
        arguments = {
            "StackName": stack_name,
            **source,
            "Parameters": [
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in sorted((parameters or {}).items())
            ],
            "Capabilities": CAPABILITIES,
            "Tags": [{"Key": key, "Value": value} for key, value in sorted((tags or {}).items())],
        }
        return arguments, source.get("TemplateURL")

    def _create_change_set(
        self,
        stack_name: str,
        template: Mapping[str, Any] | str,
        parameters: Mapping[str, str] | None,
        tags: Mapping[str, str] | None,
        change_type: ChangeType,
    ) -> dict[str, Any] | None:
        """The new change set's ids; None when CloudFormation says at once nothing changes."""
        arguments, staged = self._stack_arguments(stack_name, template, parameters, tags)
        try:
            created: dict[str, Any] = self.api(
                "create_change_set",
                **arguments,
                ChangeSetName=f"meshlink-{uuid.uuid4().hex[:16]}",
                ChangeSetType=change_type,
                Description="meshlink",
            )
        except Exception as exc:
            self._unstage(staged)
            if not hasattr(exc, "response"):
                raise
            reason = error_message(exc)
            if any(marker in reason for marker in NO_CHANGE_MARKERS):
                return None
            if change_type == "CREATE" and ALREADY_EXISTS in reason:
                raise StackExists(stack=stack_name, reason=reason) from exc
            raise StackDeployError(stack=stack_name, reason=reason) from exc
        if staged:
            self._staged[str(created["Id"])] = staged
        return created

    def _template_source(self, stack_name: str, body: str) -> dict[str, str]:
        """TemplateBody, or a TemplateURL for a template over CloudFormation's inline limit."""
        size = len(body.encode())
        if size <= TEMPLATE_BODY_LIMIT:
            return {"TemplateBody": body}
        if self.templates is None:
            raise StackDeployError(
                stack=stack_name,
                reason=f"the template is {size} bytes, over CloudFormation's inline limit of "
                f"{TEMPLATE_BODY_LIMIT}",
                hint="deploy it through meshlink's template bucket (meshlink up does)",
            )
        return {"TemplateURL": self.templates.put(stack_name, body)}

    def _unstage(self, url: str | None) -> None:
        """Delete a staged template; a failure to is harmless (the bucket expires it)."""
        if url is None or self.templates is None:
            return
        try:
            self.templates.discard(url)
        except Exception as exc:
            if not hasattr(exc, "response"):
                raise

    def _wait_change_set(
        self, stack_name: str, change_set: dict[str, Any]
    ) -> tuple[ResourceChange, ...] | None:
        """The change set's resource changes once created; None when it changes nothing.

        A staged template goes once the change set is created (CloudFormation keeps its
        own copy for the execution and for a rollback)."""
        try:
            return self._await_change_set(stack_name, change_set)
        finally:
            self._unstage(self._staged.pop(str(change_set["Id"]), None))

    def _await_change_set(
        self, stack_name: str, change_set: dict[str, Any]
    ) -> tuple[ResourceChange, ...] | None:
        wait = self.pacing.polls()
        deadline = self.pacing.clock() + self.pacing.timeout
        while True:
            described = self._describe_change_set(change_set["Id"])
            status = described.get("Status")
            if status == "CREATE_COMPLETE":
                break
            if status == "FAILED":
                reason = str(described.get("StatusReason") or "change set failed")
                if any(marker in reason for marker in NO_CHANGE_MARKERS):
                    return None
                raise StackDeployError(stack=stack_name, reason=reason, status="FAILED")
            if self.pacing.clock() > deadline:
                raise StackDeployError(
                    stack=stack_name,
                    reason=timed_out("a change set", self.pacing.timeout, str(status)),
                )
            wait()
        changes = list(described.get("Changes", []))
        while described.get("NextToken"):
            described = self._describe_change_set(change_set["Id"], described["NextToken"])
            changes.extend(described.get("Changes", []))
        return tuple(
            resource_change(raw) for raw in changes if raw.get("Type", "Resource") == "Resource"
        )

    def _describe_change_set(self, change_set_id: str, token: str | None = None) -> dict[str, Any]:
        """One page of the change set, with each property's before and after value."""
        return self.api(
            "describe_change_set",
            ChangeSetName=change_set_id,
            IncludePropertyValues=True,
            **({"NextToken": token} if token else {}),
        )

    def _discard(
        self, stack_name: str, change_set_id: str, change_type: str, stack_id: str
    ) -> None:
        """Delete an unexecuted change set, and the empty stack a CREATE one made."""
        try:
            self.api("delete_change_set", ChangeSetName=change_set_id)
        except Exception as exc:
            if not hasattr(exc, "response"):
                raise
        if change_type == "CREATE" and self.status(stack_name) == "REVIEW_IN_PROGRESS":
            self._delete(stack_name, stack_id)

    def _execute(
        self,
        stack_name: str,
        change_set: dict[str, Any],
        change_type: str,
        expected: float | None = None,
    ) -> None:
        """Run the change set and wait for it; `expected`: how long it should take."""
        stack_id = str(change_set["StackId"])
        tail = EventTail(self.api, stack_id, self.on_event)
        if change_type == "CREATE":
            # A stack made by this change set has one event so far, its own
            # REVIEW_IN_PROGRESS: the tail leaves it out without asking for it.
            tail.skip_review()
        else:
            tail.skip_existing()
        asked = self.pacing.clock()  # the operation begins no earlier
        try:
            self.api("execute_change_set", ChangeSetName=change_set["Id"])
        except Exception as exc:
            if not hasattr(exc, "response"):
                raise
            tail.poll()
            raise self._failure(stack_name, tail, None, error_message(exc)) from exc
        until = None if expected is None else asked + expected
        self._wait(stack_name, stack_id, tail, lambda s: s in DONE, until)

    def _delete(self, stack_name: str, stack_id: str) -> None:
        tail = EventTail(self.api, stack_id, self.on_event)
        tail.skip_existing()
        try:
            self.api("delete_stack", StackName=stack_id)
        except Exception as exc:
            if not hasattr(exc, "response"):
                raise
            tail.poll()
            raise self._failure(stack_name, tail, None, error_message(exc)) from exc
        self._wait(stack_name, stack_id, tail, lambda s: s == "DELETE_COMPLETE")

    def _wait(
        self,
        stack_name: str,
        stack_id: str,
        tail: EventTail,
        done: Callable[[str], bool],
        until: float | None = None,
    ) -> str:
        """Poll until the stack leaves *_IN_PROGRESS; raise unless `done(status)`.

        Each poll reads the stack's status from its account's shared listing
        (StackStatuses: one ListStacks for every wait in the account), or by id when the
        listing does not have it; its events now and then (what the progress shows) and
        once more when it ends (the last ones, and a failure's cause). `until`: when
        (on the pacing clock) the operation should end: the polls close in on then
        (pause_toward); else they back off from poll_min to poll_max.
        """
        first, most = self.pacing.poll_min, self.pacing.poll_max
        waits = pauses(first, most)
        # Around an expected end, no faster than a tenth of the longest pause: 0.5 s on
        # AWS (an estimate in minutes is no reason to poll every 50 ms), poll_min here.
        closest = max(first, most / 10)
        event_waits = pauses(first * EVENTS_EVERY, most * EVENTS_EVERY)
        begun = self.pacing.clock()
        deadline, events_due = begun + self.pacing.timeout, begun + next(event_waits)
        pause, status = 0.0, ""
        while True:
            # A listing asked for in the last half pause is fresh enough: the account's
            # waits share about two listings per pause, whatever their number.
            now = self.pacing.clock()
            listed = self.statuses.of(stack_id, max(begun, now - pause / 2))
            if listed is None:
                stacks = self._stacks_by_id(stack_id)
                status = str(stacks[0]["StackStatus"]) if stacks else "DELETE_COMPLETE"
                listed = Listed(status, stacks[0].get("StackStatusReason") if stacks else None)
            status = listed.status
            if not _in_progress(status):
                tail.poll()
                if done(status):
                    return status
                raise self._failure(stack_name, tail, status, listed.reason)
            now = self.pacing.clock()
            if now >= events_due:
                tail.poll()
                events_due = now + next(event_waits)
            if now > deadline:
                raise StackDeployError(
                    stack=stack_name,
                    status=status,
                    reason=timed_out(
                        "CloudFormation to finish", self.pacing.timeout, _last_seen(status, tail)
                    ),
                    hint=TIMEOUT_HINT,
                )
            pause = next(waits) if until is None else pause_toward(until, now, closest, most)
            self.pacing.sleep(pause)

    def _stacks_by_id(self, stack_id: str) -> list[dict[str, Any]]:
        """DescribeStacks of one stack by id; [] once it is gone."""
        try:
            return list(self.api("describe_stacks", StackName=stack_id).get("Stacks", []))
        except Exception as exc:
            if not is_missing_stack(exc):
                raise
            return [{"StackStatus": "DELETE_COMPLETE"}]

    @staticmethod
    def _failure(
        stack_name: str, tail: EventTail, status: str | None, fallback: str | None
    ) -> StackDeployError:
        cause: StackEvent | None = tail.root_cause()
        if cause is None or cause.is_stack:
            return StackDeployError(
                stack=stack_name,
                status=status,
                reason=(cause.reason if cause else None) or fallback or f"ended in {status}",
            )
        return StackDeployError(
            stack=stack_name,
            status=status,
            logical_id=cause.logical_id,
            resource_type=cause.resource_type,
            reason=cause.reason or fallback or cause.status,
        )


class StackExists(StackDeployError):
    """A create refused because the stack exists: CreateStack's AlreadyExistsException,
    or a CREATE change set's ValidationError (ALREADY_EXISTS)."""


def _last_seen(status: str, tail: EventTail) -> str:
    """A stack's status and its newest resource event, for a wait that ran out of time."""
    last = tail.seen[-1] if tail.seen else None
    return f"{status}, last event {last.logical_id} {last.status}" if last else status


def _in_progress(status: str) -> bool:
    return status.endswith("_IN_PROGRESS")
