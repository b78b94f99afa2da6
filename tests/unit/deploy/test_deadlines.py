"""Every wait's deadline: AWS budgets, scaled by the local cloud's timing, or --timeout."""

from __future__ import annotations

from itertools import islice

import pytest

from meshlink.deadlines import BUDGETS, Deadlines, for_target, pause_toward, pauses, timed_out


def test_on_aws_each_wait_gets_its_aws_budget() -> None:
    deadlines = for_target("aws")
    assert deadlines.seconds("stability") == BUDGETS["stability"].aws == 1200.0
    assert deadlines.seconds("stack") == 3600.0
    assert deadlines.poll_max == 5.0


def test_the_local_clouds_aws_timing_scales_the_budget_and_adds_its_overhead() -> None:
    deadlines = for_target("local", timing="aws", time_scale=0.02)
    assert deadlines.seconds("stability") == pytest.approx(1200 * 0.02 + 240)
    assert deadlines.seconds("acceptance") == pytest.approx(600 * 0.02 + 120)
    # polls: 5 s of AWS time, but never hammering the local cloud
    assert deadlines.poll_max == 0.25
    assert for_target("local", timing="aws", time_scale=0.5).poll_max == 2.5


def test_instant_timing_leaves_only_the_local_overhead() -> None:
    deadlines = for_target("local", timing="instant", time_scale=1.0)
    assert deadlines.scale == 0.0
    assert deadlines.seconds("settle") == BUDGETS["settle"].overhead


def test_timeout_sets_every_wait() -> None:
    for deadlines in (for_target("aws", timeout=42), for_target("local", timeout=42)):
        assert {deadlines.seconds(wait) for wait in BUDGETS} == {42.0}
    assert "--timeout" in Deadlines(override=7).describe()


def test_the_message_says_what_was_awaited_and_its_last_state() -> None:
    assert timed_out("the stack", 12.4, "CREATE_IN_PROGRESS") == (
        "gave up waiting for the stack after 12s; last seen: CREATE_IN_PROGRESS"
    )


def test_pauses_grow_to_their_ceiling_and_start_under_it() -> None:
    assert list(islice(pauses(0.1, 0.3), 5)) == pytest.approx([0.1, 0.15, 0.225, 0.3, 0.3])
    assert list(islice(pauses(0.05, 0.3, growth=2), 4)) == pytest.approx([0.05, 0.1, 0.2, 0.3])
    assert next(pauses(1.0, 0.25)) == 0.25  # a ceiling below the first pause wins


def test_polls_close_in_on_an_expected_end_then_back_off_past_it() -> None:
    assert pause_toward(100.0, 0.0, 0.05, 5.0) == 5.0  # far: the ceiling
    assert pause_toward(100.0, 96.0, 0.05, 5.0) == 2.0  # half the time left
    assert pause_toward(100.0, 99.99, 0.05, 5.0) == 0.05  # never under the floor
    assert pause_toward(100.0, 101.0, 0.05, 5.0) == 0.5  # late: half how late
    assert pause_toward(100.0, 160.0, 0.05, 5.0) == 5.0
