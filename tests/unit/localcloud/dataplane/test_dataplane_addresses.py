"""Loopback address allocation: unique, stable per owner, never 127.0.x.x."""

from __future__ import annotations

import ipaddress

import pytest

from meshlink.localcloud.dataplane.addresses import AddressPool, octet_for_port


def test_same_owner_same_address_and_owners_differ() -> None:
    pool = AddressPool(40)
    first = pool.allocate("eni-a")
    assert pool.allocate("eni-a") == first
    assert pool.allocate("eni-b") != first
    assert pool.owner(first) == "eni-a"
    assert first in pool and "127.41.0.1" not in pool and "nonsense" not in pool


def test_addresses_skip_network_and_broadcast_like_octets() -> None:
    pool = AddressPool(40)
    addresses = [pool.allocate(f"o{i}") for i in range(600)]
    assert len(set(addresses)) == 600
    assert all(a.split(".")[3] not in ("0", "255") for a in addresses)
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("127.40.0.0/16") for a in addresses)


def test_released_addresses_are_not_reused_while_fresh_ones_remain() -> None:
    pool = AddressPool(40)
    old = pool.allocate("old")
    pool.release("old")
    assert pool.get("old") is None
    assert pool.allocate("new") != old


def test_octet_for_port_is_even_and_never_zero() -> None:
    octets = {octet_for_port(port) for port in range(0, 70000, 7)}
    assert all(o % 2 == 0 and 2 <= o <= 252 for o in octets)
    assert octet_for_port(4580) != octet_for_port(4581)


def test_pool_refuses_127_0() -> None:
    with pytest.raises(ValueError):
        AddressPool(0)


def test_claimed_octets_are_exclusive_until_released() -> None:
    from meshlink.localcloud.dataplane.addresses import claim_octet, release_octet

    first, lock = claim_octet(200)
    second, other = claim_octet(first)
    try:
        assert lock is not None and other is not None
        assert second != first and second % 2 == 0
    finally:
        release_octet(other)
        release_octet(lock)
    again, lock = claim_octet(first)
    release_octet(lock)
    assert again == first
