"""Loopback addresses for ENIs (127.x.y.z), unique per local cloud and stable per owner.

Linux routes all of 127.0.0.0/8 to ``lo``, so any of these addresses can be bound
without root. Each local cloud draws from its own /16 so two local clouds on one
machine (parallel test runs) do not fight over addresses: the range is chosen from
the port and claimed with an ``flock`` on a file in the temp dir, held for the
process's life (the next free range is taken when it is claimed). The /16 right
after it holds the private "backend" addresses that task processes really listen on
behind their enforcing ENI listener.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import tempfile
import threading
from pathlib import Path
from typing import IO

# 127.0.x.x is left alone: 127.0.0.1 is the host (the local cloud's own API lives there).
_FIRST_OCTET = 2
_LAST_OCTET = 252


def octet_for_port(port: int) -> int:
    """Second octet of the ENI range for a local cloud on `port` (even; +1 is backends)."""
    span = (_LAST_OCTET - _FIRST_OCTET) // 2
    return _FIRST_OCTET + 2 * (port % span)


def claim_octet(preferred: int) -> tuple[int, IO[bytes] | None]:
    """A second octet no other local cloud on this machine holds, and the lock holding it.

    Keep the returned file open for as long as the addresses are in use.
    """
    span = (_LAST_OCTET - _FIRST_OCTET) // 2
    start = (min(max(preferred, _FIRST_OCTET), _LAST_OCTET) - _FIRST_OCTET) // 2
    directory = Path(tempfile.gettempdir())
    for step in range(span):
        octet = _FIRST_OCTET + 2 * ((start + step) % span)
        try:
            handle = (directory / f"meshlink-loopback-{os.getuid()}-{octet}.lock").open("wb")
        except OSError:
            return preferred, None  # no writable temp dir: fall back to the port's choice
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return octet, handle
    return preferred, None


def release_octet(handle: IO[bytes] | None) -> None:
    if handle is not None:
        with contextlib.suppress(OSError):
            handle.close()


class AddressPool:
    """Hands out 127.<octet>.y.z addresses to owners (ENI ids); the same owner keeps its address."""

    def __init__(self, octet: int):
        if not _FIRST_OCTET <= octet <= _LAST_OCTET + 1:
            raise ValueError(f"second octet {octet} outside {_FIRST_OCTET}..{_LAST_OCTET + 1}")
        self.octet = octet
        self._lock = threading.Lock()
        self._by_owner: dict[str, str] = {}
        self._owner_of: dict[str, str] = {}
        self._next = 1
        self._free: list[int] = []

    def _render(self, index: int) -> str:
        return f"127.{self.octet}.{index // 256}.{index % 256}"

    def allocate(self, owner: str) -> str:
        """The address of `owner`, allocating one on first use."""
        with self._lock:
            found = self._by_owner.get(owner)
            if found is not None:
                return found
            # Skip .0 and .255 of every /24: some tools treat them as network/broadcast.
            while self._next % 256 in (0, 255):
                self._next += 1
            if self._next < 65536:
                index = self._next
                self._next += 1
            elif self._free:
                index = self._free.pop(0)
            else:
                raise RuntimeError(f"loopback range 127.{self.octet}.0.0/16 is exhausted")
            address = self._render(index)
            self._by_owner[owner] = address
            self._owner_of[address] = owner
            return address

    def release(self, owner: str) -> None:
        """Give `owner`'s address back; reused only once the range is spent (stale peers miss)."""
        with self._lock:
            address = self._by_owner.pop(owner, None)
            if address is None:
                return
            del self._owner_of[address]
            third, fourth = (int(part) for part in address.split(".")[2:])
            self._free.append(third * 256 + fourth)

    def get(self, owner: str) -> str | None:
        with self._lock:
            return self._by_owner.get(owner)

    def owner(self, address: str) -> str | None:
        with self._lock:
            return self._owner_of.get(address)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return parsed.version == 4 and parsed.packed[:2] == bytes((127, self.octet))
