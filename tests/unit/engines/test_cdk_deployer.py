"""The deployer's decisions, against a scripted CloudFormation double (real runs: functional/)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink.engines.cdk.deployer import Deployer, StackDeployError, check_parameters
from meshlink.engines.cdk.events import StackEvent
from meshlink.engines.cdk.templates import template_fingerprint
from meshlink.engines.cdk.waiting import Api, EventTail, Listed, Pacing, StackStatuses

TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def client_error(code: str, message: str = "boom") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Operation")


class Fake:
    """Answers each operation from a queue of scripted responses (or raises them)."""

    def __init__(self, **script: list[Any]) -> None:
        self.script = {op: list(responses) for op, responses in script.items()}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((operation, kwargs))
            queue = self.script.get(operation)
            if not queue:
                raise AssertionError(f"unexpected call {operation}({kwargs})")
            answer = queue[0] if len(queue) == 1 else queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return dict(answer)

        return call

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def pacing(clock: Clock, **overrides: Any) -> Pacing:
    return Pacing(sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: 0.5, **overrides)


def stack(status: str, **extra: Any) -> dict[str, Any]:
    return {"Stacks": [{"StackName": "s", "StackId": "id-s", "StackStatus": status, **extra}]}


def listed(*statuses: str) -> list[dict[str, Any]]:
    """ListStacks answers, one per status, each listing stack s (and another stack)."""
    other = {"StackId": "id-other", "StackName": "other", "StackStatus": "CREATE_IN_PROGRESS"}
    return [
        {"StackSummaries": [other, {"StackId": "id-s", "StackName": "s", "StackStatus": status}]}
        for status in statuses
    ]


def event(n: int, logical: str, status: str, reason: str | None = None,
          type_: str = "AWS::EC2::Subnet") -> dict[str, Any]:  # fmt: skip
    return {"EventId": f"e{n}", "StackName": "s", "LogicalResourceId": logical,
            "ResourceType": type_, "ResourceStatus": status, "ResourceStatusReason": reason,
            "Timestamp": datetime(2026, 1, 1, tzinfo=UTC)}  # fmt: skip


def test_throttled_calls_are_retried_with_jittered_backoff() -> None:
    clock = Clock()
    fake = Fake(describe_stacks=[client_error("Throttling"), client_error("Throttling"),
                                 stack("CREATE_COMPLETE")])  # fmt: skip
    api = Api(fake, pacing(clock, throttle_base=1.0))
    assert api("describe_stacks", StackName="s")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert clock.sleeps == [0.5, 1.0]  # jitter 0.5 of 1s, then of 2s

    always = Api(
        Fake(describe_stacks=[client_error("Throttling")]), pacing(clock, throttle_retries=2)
    )
    with pytest.raises(ClientError):
        always("describe_stacks", StackName="s")
    other = Fake(describe_stacks=[client_error("AccessDenied")])
    with pytest.raises(ClientError):
        Api(other, pacing(clock))("describe_stacks", StackName="s")
    assert len(other.calls) == 1


def test_polls_start_fast_and_slow_down() -> None:
    clock = Clock()
    wait = pacing(clock, poll_min=0.1, poll_max=0.3).polls()
    for _ in range(5):
        wait()
    assert clock.sleeps == pytest.approx([0.1, 0.15, 0.225, 0.3, 0.3])


def test_event_tail_pages_stops_at_marker_and_finds_root_cause() -> None:
    # Newest first, as CloudFormation returns them; e1 belongs to an older operation.
    fake = Fake(describe_stack_events=[
        {"StackEvents": [event(1, "s", "UPDATE_COMPLETE", type_="AWS::CloudFormation::Stack")]},
        {"StackEvents": [event(5, "B", "CREATE_FAILED", "Resource creation cancelled"),
                         event(4, "A", "CREATE_FAILED", "bad CIDR")], "NextToken": "t"},
        {"StackEvents": [event(3, "B", "CREATE_IN_PROGRESS"), event(2, "A", "CREATE_IN_PROGRESS"),
                         event(1, "s", "UPDATE_COMPLETE", type_="AWS::CloudFormation::Stack")]},
        {"StackEvents": [event(5, "B", "CREATE_FAILED")]},
    ])  # fmt: skip
    seen: list[StackEvent] = []
    tail = EventTail(Api(fake, pacing(Clock())), "id-s", seen.append)
    tail.skip_existing()
    assert [e.logical_id for e in tail.poll()] == ["A", "B", "A", "B"]
    assert [e.status for e in seen] == ["CREATE_IN_PROGRESS"] * 2 + ["CREATE_FAILED"] * 2
    assert tail.poll() == []  # nothing newer than e5
    cause = tail.root_cause()
    assert cause is not None and (cause.logical_id, cause.reason) == ("A", "bad CIDR")


def test_no_change_change_set_is_reported_unchanged_and_deleted() -> None:
    outputs = {"Outputs": [{"OutputKey": "TopicArn", "OutputValue": "arn:x"}]}
    fake = Fake(
        describe_stacks=[stack("UPDATE_COMPLETE", **outputs)],
        create_change_set=[{"Id": "cs-1", "StackId": "id-s"}],
        describe_change_set=[{"Status": "FAILED", "StatusReason": "The submitted information "
                              "didn't contain changes. Submit different information."}],
        delete_change_set=[{}],
    )  # fmt: skip
    result = Deployer(fake, pacing=pacing(Clock())).deploy("s", TEMPLATE)
    assert (result.outcome, result.outputs) == ("unchanged", {"TopicArn": "arn:x"})
    assert "execute_change_set" not in fake.ops()
    assert ("delete_change_set", {"ChangeSetName": "cs-1"}) in fake.calls
    create = dict(fake.calls)["create_change_set"]
    assert create["ChangeSetType"] == "UPDATE"
    assert create["Capabilities"] == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]


def test_failed_update_names_the_resource() -> None:
    fake = Fake(
        describe_stacks=[stack("UPDATE_COMPLETE")],
        list_stacks=listed("UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"),
        create_change_set=[{"Id": "cs-1", "StackId": "id-s"}],
        describe_change_set=[{"Status": "CREATE_PENDING"}, {"Status": "CREATE_COMPLETE",
            "Changes": [{"Type": "Resource", "ResourceChange": {"Action": "Modify",
                "LogicalResourceId": "Topic", "ResourceType": "AWS::SNS::Topic",
                "Replacement": "True"}}]}],
        describe_stack_events=[{"StackEvents": []},
                               {"StackEvents": [event(2, "Topic", "UPDATE_FAILED", "denied")]}],
        execute_change_set=[{}],
    )  # fmt: skip
    deployer = Deployer(fake, pacing=pacing(Clock()))
    with pytest.raises(StackDeployError) as caught:
        deployer.deploy("s", TEMPLATE)
    error = caught.value
    assert (error.logical_id, error.reason, error.status) == (
        "Topic",
        "denied",
        "UPDATE_ROLLBACK_COMPLETE",
    )
    assert error.message == "stack s: Topic (AWS::EC2::Subnet) failed: denied"


def test_waiting_gives_up_after_the_timeout() -> None:
    clock = Clock()
    fake = Fake(
        describe_stacks=[stack("DELETE_IN_PROGRESS")],
        list_stacks=listed("DELETE_IN_PROGRESS"),
        describe_stack_events=[{"StackEvents": []}],
    )
    deployer = Deployer(fake, pacing=pacing(clock, timeout=10, poll_max=2))
    awaited = "gave up waiting for CloudFormation to finish after 10s; last seen: DELETE_IN_PR"
    with pytest.raises(StackDeployError, match=awaited):
        deployer.delete("s")
    assert 10 < clock.now < 13


def test_plan_of_a_rolled_back_stack_changes_nothing() -> None:
    fake = Fake(describe_stacks=[stack("ROLLBACK_COMPLETE")])
    plan = Deployer(fake, pacing=pacing(Clock())).diff("s", TEMPLATE)
    assert plan.recreate and plan.change_type == "CREATE" and not plan.unchanged
    assert [(c.action, c.logical_id) for c in plan.changes] == [("Add", "Topic")]
    assert plan.counts() == {"add": 1, "change": 0, "remove": 0}
    assert fake.ops() == ["describe_stacks"]


def test_a_refused_delete_is_a_deploy_error() -> None:
    fake = Fake(
        describe_stacks=[stack("CREATE_COMPLETE")],
        describe_stack_events=[{"StackEvents": []}],
        delete_stack=[client_error("ValidationError", "Stack s is protected")],
    )
    with pytest.raises(StackDeployError, match="the stack failed: Stack s is protected"):
        Deployer(fake, pacing=pacing(Clock())).delete("s")


def test_stuck_stack_is_an_error_with_a_hint() -> None:
    fake = Fake(describe_stacks=[stack("UPDATE_ROLLBACK_FAILED", StackStatusReason="oops")])
    with pytest.raises(StackDeployError, match="UPDATE_ROLLBACK_FAILED: oops") as caught:
        Deployer(fake, pacing=pacing(Clock())).deploy("s", TEMPLATE)
    assert caught.value.hint and "meshlink down" in caught.value.hint


def test_missing_stack_deletes_nothing() -> None:
    fake = Fake(describe_stacks=[client_error("ValidationError", "Stack with id s does not exist")])
    assert not Deployer(fake, pacing=pacing(Clock())).delete("s").deleted
    assert fake.ops() == ["describe_stacks"]


def test_parameters_and_size_are_checked_before_calling_aws() -> None:
    template = {"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String", "Default": "x"}},
                "Resources": TEMPLATE["Resources"]}  # fmt: skip
    check_parameters("s", template, {"A": "1"})
    with pytest.raises(StackDeployError, match=r"not in the template: C; .*without a value: A"):
        check_parameters("s", template, {"C": "1"})
    huge = {"Resources": {f"T{i}": {"Type": "AWS::SNS::Topic"} for i in range(2000)}}
    fake = Fake(describe_stacks=[client_error("ValidationError", "Stack s does not exist")])
    with pytest.raises(StackDeployError, match="inline limit"):
        Deployer(fake, pacing=pacing(Clock())).deploy("s", huge)
    assert "create_change_set" not in fake.ops()


def test_fingerprint_ignores_key_order_not_values() -> None:
    a = template_fingerprint({"Resources": {"A": {"Type": "X"}, "B": {"Type": "Y"}}}, {"P": "1"})
    b = template_fingerprint('{"Resources": {"B": {"Type": "Y"}, "A": {"Type": "X"}}}', {"P": "1"})
    assert a == b and a.startswith("sha256:")
    assert a != template_fingerprint(
        {"Resources": {"A": {"Type": "X"}, "B": {"Type": "Y"}}}, {"P": "2"}
    )


class Store:
    """A TemplateStore double: what was staged and discarded."""

    def __init__(self) -> None:
        self.put_calls: list[tuple[str, int]] = []
        self.discarded: list[str] = []

    def put(self, stack_name: str, body: str) -> str:
        self.put_calls.append((stack_name, len(body)))
        return f"https://bucket.s3.us-east-1.amazonaws.com/templates/{stack_name}/x.json"

    def discard(self, url: str) -> None:
        self.discarded.append(url)


def test_a_template_over_the_inline_limit_goes_by_url_and_is_discarded_once_read() -> None:
    huge = {"Resources": {f"T{i}": {"Type": "AWS::SNS::Topic"} for i in range(2000)}}
    store = Store()
    # A new stack: CreateStack reads the template before it answers.
    new = Fake(
        describe_stacks=[client_error("ValidationError", "Stack s does not exist"),
                         stack("CREATE_COMPLETE")],
        create_stack=[{"StackId": "id-s"}],
        list_stacks=listed("CREATE_COMPLETE"),
        describe_stack_events=[{"StackEvents": []}],
    )  # fmt: skip
    Deployer(new, pacing=pacing(Clock()), templates=store).deploy("s", huge)
    create = dict(new.calls)["create_stack"]
    assert "TemplateBody" not in create
    assert create["TemplateURL"].endswith("/templates/s/x.json")
    assert store.put_calls[0][0] == "s" and store.put_calls[0][1] > 51_200
    assert store.discarded == [create["TemplateURL"]]

    # An update: discarded once the change set is created (CloudFormation keeps a copy).
    update = Fake(
        describe_stacks=[stack("CREATE_COMPLETE")],
        list_stacks=listed("UPDATE_COMPLETE"),
        create_change_set=[{"Id": "cs-1", "StackId": "id-s"}],
        describe_change_set=[{"Status": "CREATE_COMPLETE", "Changes": [
            {"Type": "Resource", "ResourceChange": {
                "Action": "Add", "LogicalResourceId": "T1", "ResourceType": "AWS::SNS::Topic"}}]}],
        describe_stack_events=[{"StackEvents": []}],
        execute_change_set=[{}],
    )  # fmt: skip
    Deployer(update, pacing=pacing(Clock()), templates=store).deploy("s", huge)
    staged = dict(update.calls)["create_change_set"]["TemplateURL"]
    assert store.discarded[-1] == staged
    assert update.ops().index("describe_change_set") < update.ops().index("execute_change_set")

    # A small template stays inline.
    small = Fake(
        describe_stacks=[stack("UPDATE_COMPLETE")],
        create_change_set=[{"Id": "cs-2", "StackId": "id-s"}],
        describe_change_set=[{"Status": "FAILED", "StatusReason": "didn't contain changes"}],
        delete_change_set=[{}],
    )
    Deployer(small, pacing=pacing(Clock()), templates=store).deploy("s", TEMPLATE)
    assert "TemplateBody" in dict(small.calls)["create_change_set"]
    assert len(store.put_calls) == 2

    # A refused CreateStack still discards its upload.
    refused = Fake(
        describe_stacks=[client_error("ValidationError", "Stack s does not exist")],
        create_stack=[client_error("ValidationError", "Template format error")],
    )
    with pytest.raises(StackDeployError, match="Template format error"):
        Deployer(refused, pacing=pacing(Clock()), templates=store).deploy("s", huge)
    assert len(store.discarded) == 3


def test_a_wait_reads_the_shared_listing_each_poll_and_the_events_on_a_slower_backoff() -> None:
    stack_event = "AWS::CloudFormation::Stack"
    old = event(0, "s", "CREATE_COMPLETE", type_=stack_event)
    started = [event(1, "s", "DELETE_IN_PROGRESS", type_=stack_event), old]
    done = [event(3, "s", "DELETE_COMPLETE", type_=stack_event), *started]
    fake = Fake(
        describe_stacks=[stack("CREATE_COMPLETE")],
        list_stacks=[*listed(*["DELETE_IN_PROGRESS"] * 6), {"StackSummaries": []}],
        describe_stack_events=[{"StackEvents": [old]}, {"StackEvents": started},
                               {"StackEvents": done}],
        delete_stack=[{}],
    )  # fmt: skip
    seen: list[StackEvent] = []
    clock = Clock()
    deployer = Deployer(fake, pacing=pacing(clock), on_event=seen.append)
    # Gone from the listing (ListStacks leaves deleted stacks out): asked for by id.
    fake.script["describe_stacks"].append(client_error("ValidationError", "Stack does not exist"))
    assert deployer.delete("s").deleted
    waited = fake.ops()[fake.ops().index("delete_stack") + 1 :]
    # Polls after 0, 0.05, 0.125, 0.24, 0.41, 0.66 and 1.04 s; the events when 0.2 s,
    # then 0.3 s more, have passed (EVENTS_EVERY times the polls' own backoff).
    assert waited == [
        "list_stacks", "list_stacks", "list_stacks", "list_stacks", "describe_stack_events",
        "list_stacks", "list_stacks", "describe_stack_events",
        "list_stacks", "describe_stacks", "describe_stack_events",
    ]  # fmt: skip
    assert [e.status for e in seen] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]


def test_a_wait_told_how_long_the_stack_takes_polls_most_around_then() -> None:
    fake = Fake(
        create_stack=[{"StackId": "id-s"}],
        list_stacks=[*listed(*["CREATE_IN_PROGRESS"] * 5), *listed("CREATE_COMPLETE")],
        describe_stack_events=[{"StackEvents": []}],
        describe_stacks=[stack("CREATE_COMPLETE")],
    )
    clock = Clock()
    Deployer(fake, pacing=pacing(clock, poll_max=5.0)).deploy(
        "s", TEMPLATE, absent=True, duration=lambda changes: 8.0 * len(changes)
    )
    # Half the time left each time, never over poll_max nor under a tenth of it (0.5 s
    # with AWS's 5 s): the poll that saw it done came at 8 s.
    assert clock.sleeps == [4.0, 2.0, 1.0, 0.5, 0.5]
    assert clock.now == 8.0
    create = dict(fake.calls)["create_stack"]
    assert create["ClientRequestToken"].startswith("meshlink-")  # botocore's retries: one create


def test_the_waits_of_one_account_share_each_listing() -> None:
    release = threading.Event()
    listings: list[int] = []

    class Slow(Fake):
        def list_stacks(self, **_: Any) -> dict[str, Any]:
            listings.append(1)
            release.wait(5)
            return listed("CREATE_IN_PROGRESS")[0]

    board = StackStatuses(Api(Slow(), Pacing()))
    since = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [pool.submit(board.of, "id-s", since) for _ in range(8)]
        time.sleep(0.2)  # every thread is waiting on the one listing
        release.set()
        statuses = [answer.result(timeout=5) for answer in answers]
    assert len(listings) == 1
    assert {s.status if s else None for s in statuses} == {"CREATE_IN_PROGRESS"}
    assert board.of("id-other", since) == Listed("CREATE_IN_PROGRESS")  # fresh enough: no call
    assert board.of("id-gone", since) is None and len(listings) == 1


def test_an_update_polls_around_what_its_change_set_should_take() -> None:
    modify = {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "Topic",
            "ResourceType": "AWS::SNS::Topic",
        },
    }
    fake = Fake(
        describe_stacks=[stack("CREATE_COMPLETE")],
        create_change_set=[{"Id": "cs-1", "StackId": "id-s"}],
        describe_change_set=[{"Status": "CREATE_COMPLETE", "Changes": [modify]}],
        describe_stack_events=[{"StackEvents": []}],
        execute_change_set=[{}],
        list_stacks=[*listed(*["UPDATE_IN_PROGRESS"] * 4), *listed("UPDATE_COMPLETE")],
    )  # fmt: skip
    clock = Clock()
    told: list[int] = []

    def duration(changes: Any) -> float:
        told.append(len(changes))
        return 4.0

    result = Deployer(fake, pacing=pacing(clock, poll_max=5.0)).deploy(
        "s", TEMPLATE, duration=duration
    )
    assert result.outcome == "updated" and told == [1]  # the change set's one change
    assert clock.sleeps == [2.0, 1.0, 0.5, 0.5] and clock.now == 4.0


def test_a_stack_known_absent_is_created_without_a_describe() -> None:
    fake = Fake(
        create_stack=[{"StackId": "id-s"}],
        list_stacks=listed("CREATE_COMPLETE"),
        describe_stack_events=[{"StackEvents": [
            event(2, "s", "CREATE_COMPLETE", type_="AWS::CloudFormation::Stack"),
            event(1, "Topic", "CREATE_COMPLETE", type_="AWS::SNS::Topic"),
            event(0, "s", "CREATE_IN_PROGRESS", type_="AWS::CloudFormation::Stack")]}],
        describe_stacks=[stack("CREATE_COMPLETE", Outputs=[
            {"OutputKey": "Arn", "OutputValue": "arn:topic"}])],
    )  # fmt: skip
    seen: list[StackEvent] = []
    result = Deployer(fake, pacing=pacing(Clock()), on_event=seen.append).deploy(
        "s", TEMPLATE, absent=True, tags={"meshlink:mesh": "m"}
    )
    assert result.outcome == "created" and result.outputs == {"Arn": "arn:topic"}
    # No DescribeStacks before, no change set: CreateStack, then its wait.
    assert fake.ops()[:2] == ["create_stack", "list_stacks"]
    create = dict(fake.calls)["create_stack"]
    assert create["Tags"] == [{"Key": "meshlink:mesh", "Value": "m"}]
    assert create["Capabilities"] == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    assert [(e.logical_id, e.status) for e in seen] == [
        ("s", "CREATE_IN_PROGRESS"),
        ("Topic", "CREATE_COMPLETE"),
        ("s", "CREATE_COMPLETE"),
    ]
    # The changes: what CloudFormation created, as a CREATE change set would list them.
    assert [(c.action, c.logical_id) for c in result.changes] == [("Add", "Topic")]


def test_a_stack_said_absent_that_exists_is_updated_instead() -> None:
    fake = Fake(
        create_stack=[client_error("AlreadyExistsException", "Stack [s] already exists")],
        create_change_set=[{"Id": "cs-2", "StackId": "id-s"}],
        describe_stacks=[stack("CREATE_COMPLETE")],
        describe_change_set=[{"Status": "FAILED", "StatusReason": "didn't contain changes"}],
        delete_change_set=[{}],
    )
    result = Deployer(fake, pacing=pacing(Clock())).deploy("s", TEMPLATE, absent=True)
    assert result.outcome == "unchanged"
    creates = [kwargs["ChangeSetType"] for op, kwargs in fake.calls if op == "create_change_set"]
    assert fake.ops()[0] == "create_stack" and creates == ["UPDATE"]
    # Not said absent, the same refusal is the caller's error.
    refused = Fake(
        describe_stacks=[client_error("ValidationError", "Stack s does not exist")],
        create_stack=[client_error("AlreadyExistsException", "Stack [s] already exists")],
    )
    with pytest.raises(StackDeployError, match="already exists"):
        Deployer(refused, pacing=pacing(Clock())).deploy("s", TEMPLATE)


EXISTS = "Stack [s] already exists and cannot be created again with the changeSet [cs-1]."


def test_a_role_that_may_not_create_stacks_creates_through_a_change_set() -> None:
    fake = Fake(
        create_stack=[client_error("AccessDenied", "not authorized to perform CreateStack")],
        create_change_set=[{"Id": "cs-1", "StackId": "id-s"}],
        describe_change_set=[{"Status": "CREATE_COMPLETE", "Changes": []}],
        execute_change_set=[{}],
        list_stacks=listed("CREATE_COMPLETE"),
        describe_stack_events=[{"StackEvents": [
            event(1, "s", "CREATE_COMPLETE", type_="AWS::CloudFormation::Stack"),
            event(0, "s", "REVIEW_IN_PROGRESS", type_="AWS::CloudFormation::Stack")]}],
        describe_stacks=[stack("CREATE_COMPLETE")],
    )  # fmt: skip
    seen: list[StackEvent] = []
    deployer = Deployer(fake, pacing=pacing(Clock()), on_event=seen.append)
    assert deployer.deploy("s", TEMPLATE, absent=True).outcome == "created"
    assert fake.ops()[:4] == [
        "create_stack", "create_change_set", "describe_change_set", "execute_change_set"
    ]  # fmt: skip
    # The change set's own REVIEW_IN_PROGRESS is left out, as it is not this operation's.
    assert [e.status for e in seen] == ["CREATE_COMPLETE"]
    # Asked once per account: the account's next Deployer creates through a change set.
    fake.calls.clear()
    Deployer(fake, pacing=pacing(Clock()), statuses=deployer.statuses).deploy(
        "s2", TEMPLATE, absent=True
    )
    assert "create_stack" not in fake.ops()
    # Not said absent, a CREATE change set refused because the stack exists is an error.
    refused = Fake(
        describe_stacks=[client_error("ValidationError", "Stack s does not exist")],
        create_stack=[client_error("AccessDenied", "no")],
        create_change_set=[client_error("ValidationError", EXISTS)],
    )
    with pytest.raises(StackDeployError, match="already exists"):
        Deployer(refused, pacing=pacing(Clock())).deploy("s", TEMPLATE)


def test_a_role_that_may_not_list_stacks_waits_by_describing_its_stack() -> None:
    fake = Fake(
        describe_stacks=[stack("CREATE_COMPLETE"), stack("DELETE_IN_PROGRESS"),
                         client_error("ValidationError", "Stack id-s does not exist")],
        list_stacks=[client_error("AccessDenied", "not authorized to perform ListStacks")],
        describe_stack_events=[{"StackEvents": []}],
        delete_stack=[{}],
    )  # fmt: skip
    assert Deployer(fake, pacing=pacing(Clock())).delete("s").deleted
    waited = fake.ops()[fake.ops().index("delete_stack") + 1 :]
    # Asked once; then the stack by id on every poll, as before there was a listing.
    assert waited == ["list_stacks", "describe_stacks", "describe_stacks", "describe_stack_events"]
