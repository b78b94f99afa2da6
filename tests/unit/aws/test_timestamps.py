"""The fast timestamp parser reads what botocore's reads, as the same instants."""

from __future__ import annotations

import pytest
from botocore.utils import parse_timestamp as botocore_parse

from meshlink.aws.sessions import SessionFactory
from meshlink.aws.timestamps import parse_timestamp


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-03T11:24:01.272Z",  # what AWS sends
        "2026-12-03T11:24:01Z",
        "2026-12-03T11:24:01.272000+02:00",
        "Tue, 03 Dec 2026 11:24:01 GMT",
        "1796295141",
        "2026-12-03T11:24:01",
    ],
)
def test_the_same_instant_as_botocore(value: str) -> None:
    ours, theirs = parse_timestamp(value), botocore_parse(value)
    assert ours == theirs and (ours.tzinfo is None) == (theirs.tzinfo is None)


def test_what_is_no_timestamp_fails_as_in_botocore() -> None:
    with pytest.raises(ValueError):
        botocore_parse("soonZ")
    with pytest.raises(ValueError):
        parse_timestamp("soonZ")


def test_a_factory_session_parses_with_it() -> None:
    core = SessionFactory("local", "us-east-1", "http://127.0.0.1:9")._botocore_session()
    parser = core.get_component("response_parser_factory").create_parser("query")
    assert parser._timestamp_parser is parse_timestamp
