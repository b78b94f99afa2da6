"""prices.json: every region gives every price, with its source and the day it was taken."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from meshlink.cost.prices import PRICE_KEYS, parse_prices, price_book


def test_every_region_has_every_price_with_source_and_date() -> None:
    book = price_book()
    assert book.hours_per_month == 730
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(book.regions)
    for region in book.regions.values():
        for key in PRICE_KEYS:
            price = region[key]
            assert price.usd > 0 and price.unit and price.note
            assert price.source.startswith("https://aws.amazon.com/")
            assert price.taken == "2026-12-02"


def test_a_region_missing_a_price_is_refused() -> None:
    text = resources.files("meshlink.cost").joinpath("prices.json").read_text("utf-8")
    data = json.loads(text)
    del data["regions"]["eu-west-1"]["nlb_hour"]
    with pytest.raises(ValueError, match="eu-west-1 has no nlb_hour"):
        parse_prices(data)
