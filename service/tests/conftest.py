"""Fixtures: real peers on loopback and a factory for the service under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from meshlink_service.app import create_app
from meshlink_service.config import load_settings
from meshlink_service.testing import (
    ClosedPort,
    LoopbackServer,
    MakeClient,
    PeerScript,
    scripted_peer,
)


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Build the service from an environment dict and run its lifespan."""
    clients: list[TestClient] = []

    def make(env: dict[str, str]) -> TestClient:
        client = TestClient(create_app(load_settings(env)), raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def healthy_peer() -> Iterator[tuple[LoopbackServer, PeerScript]]:
    """A peer that answers /health 200 as 'notification-service'."""
    script = PeerScript(name="notification-service")
    with LoopbackServer(scripted_peer(script)) as server:
        yield server, script


@pytest.fixture(scope="session")
def failing_peer() -> Iterator[LoopbackServer]:
    """A peer whose /health answers 500."""
    with LoopbackServer(scripted_peer(PeerScript(name="broken", health_status=500))) as server:
        yield server


@pytest.fixture(scope="session")
def slow_peer() -> Iterator[LoopbackServer]:
    """A peer that takes 3 s to answer /health (longer than any timeout the tests set)."""
    with LoopbackServer(scripted_peer(PeerScript(name="slow", delay=3.0))) as server:
        yield server


@pytest.fixture
def down_peer() -> Iterator[ClosedPort]:
    """A peer address where nothing listens."""
    port = ClosedPort()
    yield port
    port.close()
