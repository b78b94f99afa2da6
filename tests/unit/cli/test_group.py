from __future__ import annotations

import pytest

from meshlink.cli.group import hoist_global_options


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["validate", "-f", "x.yaml", "--json"], ["-f", "x.yaml", "--json", "validate"]),
        (["-f", "x.yaml", "up", "--yes"], ["-f", "x.yaml", "up", "--yes"]),
        (["up", "--file=x.yaml", "--debug"], ["--file=x.yaml", "--debug", "up"]),
        (["local", "logs", "-f"], ["local", "logs", "-f"]),  # -f is follow there
        (["local", "status", "--json"], ["--json", "local", "status"]),
        (["convert", "a.json", "--", "-f"], ["convert", "a.json", "--", "-f"]),
    ],
)
def test_global_options_are_moved_before_the_command(args: list[str], expected: list[str]) -> None:
    assert hoist_global_options(args) == expected
