"""A faster timestamp parser for botocore's responses.

botocore reads every timestamp of a response with dateutil's general parser (about 50
microseconds each). A deploy polls DescribeStackEvents, whose every event carries one:
at 32 services that parser was a tenth of `up`'s own CPU. AWS's timestamps are ISO 8601
in UTC (``2026-12-03T11:24:01.272Z``), which ``datetime.fromisoformat`` reads in a
microsecond; anything else still goes to botocore's parser.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any


def parse_timestamp(value: Any) -> datetime:
    """What botocore's ``parse_timestamp`` returns (the same instant), faster for "...Z"."""
    if isinstance(value, str) and value.endswith("Z"):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed.replace(tzinfo=_utc())  # the zone object botocore gives "Z"
    from botocore.utils import parse_timestamp as general

    result: datetime = general(value)
    return result


@functools.cache
def _utc() -> Any:
    from dateutil.tz import tzutc  # type: ignore[import-untyped]

    return tzutc()


def install(botocore_session: Any) -> None:
    """Make `botocore_session`'s clients parse timestamps with :func:`parse_timestamp`."""
    factory = botocore_session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=parse_timestamp)
