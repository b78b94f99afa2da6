"""Hints quote what the user wrote, not what YAML made of it."""

from __future__ import annotations

import pytest

from meshlink.errors import TopologyError
from meshlink.topology.loader import load_topology_text

TEMPLATE = """\
name: shop
region: us-east-1
accounts:
  users: {{ id: {flow}, vpc_cidr: 10.1.0.0/16 }}
  notify:
    id: {block}
    vpc_cidr: 10.2.0.0/16
services:
  user-service: {{ account: users, port: 8080 }}
"""


def problems(text: str) -> list[tuple[int, int, str, str | None]]:
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text, "m.yaml")
    return [(p.line, p.col, p.message, p.hint) for p in caught.value.problems]


def test_an_octal_looking_id_is_quoted_as_written() -> None:
    # YAML 1.1 reads 012345670123 as octal (1402433619): the hint must not say that.
    found = problems(TEMPLATE.format(flow="012345670123", block="0222222222 # ops"))
    assert found == [
        (
            4,
            16,
            "invalid id 012345670123: account ids are strings of 12 digits",
            'quote it: id: "012345670123"',
        ),
        (
            6,
            9,
            "invalid id 0222222222: account ids are strings of 12 digits",
            'quote it: id: "0222222222"',
        ),
    ]


def test_a_quoted_id_of_the_wrong_length_is_not_told_to_quote_it() -> None:
    found = problems(TEMPLATE.format(flow='"1111"', block='"222222222222"'))
    assert found == [
        (
            4,
            16,
            "invalid id '1111': account ids are exactly 12 digits",
            'write all 12 digits, quoted: id: "111111111111"',
        )
    ]
