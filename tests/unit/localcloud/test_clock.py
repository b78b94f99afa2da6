"""The local cloud's timing: parsing (arguments over environment), scaled durations."""

from __future__ import annotations

import pytest

from meshlink import durations
from meshlink.errors import UsageError
from meshlink.localcloud import clock
from meshlink.localcloud.clock import Timing


def test_default_is_instant_without_consistency() -> None:
    timing = clock.parse(env={})
    assert timing == Timing("instant", 1.0, False)
    assert timing.seconds("nat_gateway.create") == 0.0
    assert timing.lag("describe.not_found_after_create") == 0.0


def test_aws_scales_the_table_and_turns_consistency_on() -> None:
    timing = clock.parse("aws", 0.02, env={})
    assert timing.aws and timing.consistency
    assert timing.seconds("nlb.create") == pytest.approx(durations.seconds("nlb.create") * 0.02)
    assert timing.lag("describe.not_found_after_create") > 0


def test_environment_is_read_and_arguments_win() -> None:
    env = {clock.ENV_TIMING: "aws", clock.ENV_SCALE: "0.5", clock.ENV_CONSISTENCY: "off"}
    assert clock.parse(env=env) == Timing("aws", 0.5, False)
    assert clock.parse("instant", 2, env=env) == Timing("instant", 2.0, False)
    assert clock.parse(env={clock.ENV_CONSISTENCY: "on"}).consistency


@pytest.mark.parametrize(
    ("mode", "scale", "consistency", "words"),
    [
        ("slow", None, None, "unknown timing 'slow'"),
        ("aws", "fast", None, "time scale 'fast'"),
        ("aws", 0, None, "time scale 0"),
        ("aws", 11, None, "time scale 11"),
        ("aws", 1, "maybe", "must be on or off"),
    ],
)
def test_bad_values_are_usage_errors(
    mode: str, scale: object, consistency: str | None, words: str
) -> None:
    with pytest.raises(UsageError) as caught:
        clock.parse(mode, scale, consistency, env={})  # type: ignore[arg-type]
    assert words in caught.value.message
    assert caught.value.exit_code == 2
    assert caught.value.hint


def test_round_trip_and_description() -> None:
    timing = Timing("aws", 0.02, True)
    assert Timing.from_dict(timing.to_dict()) == timing
    assert Timing.from_dict({}) == Timing()
    assert timing.describe() == "aws x0.02 (eventual consistency)"
    assert Timing().describe() == "instant"


def test_configure_sets_the_process_timing() -> None:
    before = clock.current()
    try:
        clock.configure(Timing("aws", 0.1, False))
        assert clock.current().seconds("fargate_task.running") == pytest.approx(4.0)
    finally:
        clock.configure(before)
