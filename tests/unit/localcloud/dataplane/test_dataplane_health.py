"""Target health transitions as DescribeTargetHealth will show them."""

from __future__ import annotations

import pytest

from meshlink.localcloud import clock
from meshlink.localcloud.clock import Timing
from meshlink.localcloud.dataplane.health import HealthBoard, _matches
from meshlink.localcloud.dataplane.model import HealthCheck, Target, TargetGroup, World

CHECK = HealthCheck("HTTP", None, "/health", "200-399", 30, 10, 5, 3)
TARGET = Target("127.8.0.1", 8080)


def group(load_balancers: tuple[str, ...] = ("arn:nlb",)) -> TargetGroup:
    return TargetGroup("arn:tg", "1", "r", (TARGET,), CHECK, load_balancers)


def board_with(tg: TargetGroup) -> HealthBoard:
    board = HealthBoard()
    board.sync(World(target_groups={tg.arn: tg}))
    return board


def test_matcher_ranges_and_lists() -> None:
    assert _matches(200, "200") and _matches(302, "200-399") and _matches(204, "200,204")
    assert not _matches(500, "200-399") and not _matches(0, "200")


def test_new_target_is_initial_then_healthy_after_one_success() -> None:
    board = board_with(group())
    assert board.get("arn:tg", *TARGET.__dict__.values()).state == "initial"  # type: ignore[union-attr]
    assert not board.routable("arn:tg", TARGET)
    board.record(("arn:tg", TARGET.address, TARGET.port), group(), True, "ok", 0.0)
    assert board.routable("arn:tg", TARGET)


def test_unhealthy_after_two_failures_and_at_once_on_passive_failure() -> None:
    tg = group()
    board = board_with(tg)
    key = ("arn:tg", TARGET.address, TARGET.port)
    board.record(key, tg, True, "ok", 0.0)
    board.record(key, tg, False, "refused", 0.0)
    assert board.routable("arn:tg", TARGET)  # one failure is not enough
    board.record(key, tg, False, "refused", 0.0)
    state = board.get(*key)
    assert state is not None and state.state == "unhealthy" and state.description == "refused"
    board.record(key, tg, True, "ok", 0.0)
    board.report_failure("arn:tg", TARGET, "Target.FailedHealthChecks", "connect failed")
    assert not board.routable("arn:tg", TARGET)


def test_group_without_load_balancer_is_unused_and_forgotten_when_gone() -> None:
    board = board_with(group(()))
    state = board.get("arn:tg", TARGET.address, TARGET.port)
    assert state is not None and state.state == "unused"
    assert board.sync(World()) == []
    assert board.get("arn:tg", TARGET.address, TARGET.port) is None


def test_starting_target_stays_initial_until_the_grace_is_over() -> None:
    tg = group()
    board = board_with(tg)
    key = ("arn:tg", TARGET.address, TARGET.port)
    registered = board.get(*key).registered  # type: ignore[union-attr]
    for _ in range(5):
        board.record(key, tg, False, "refused", registered + 0.5)
    assert board.get(*key).state == "initial"  # type: ignore[union-attr]
    board.record(key, tg, False, "refused", registered + 100)
    assert board.get(*key).state == "unhealthy"  # type: ignore[union-attr]


def test_registration_settles_from_the_tasks_aws_time_running_not_its_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # x0.1: registration takes 9 s (nlb_target.healthy, 90 s). The task ran since t=100 in
    # AWS time; its process (and so its target) came up a second later, at t=101.
    monkeypatch.setattr(clock, "_current", Timing("aws", 0.1, False))
    tg = group()
    board = HealthBoard()
    board.running_since(TARGET.address, 100.0)
    board.sync(World())  # checks still on the world from before the target registered
    board.sync(World(target_groups={tg.arn: tg}))
    key = ("arn:tg", TARGET.address, TARGET.port)
    board.record(key, tg, True, "ok", 108.9)
    assert not board.routable("arn:tg", TARGET)  # still registering
    board.record(key, tg, True, "ok", 109.0)  # 9 s after RUNNING, not after t=101
    assert board.routable("arn:tg", TARGET)
    # Used once: the target gone and back (a new task at the same address) starts afresh.
    board.sync(World())
    board.sync(World(target_groups={tg.arn: tg}))
    state = board.get(*key)
    assert state is not None and state.running_since is None
    # A task that ended before its target was ever checked leaves nothing behind.
    board.sync(World())
    board.running_since(TARGET.address, 100.0)
    board.task_ended(TARGET.address)
    board.sync(World(target_groups={tg.arn: tg}))
    state = board.get(*key)
    assert state is not None and state.running_since is None
