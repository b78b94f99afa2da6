"""Shared fixtures.

``local_cloud`` (session-scoped): a real local cloud, started as a background process
on a free port with a temporary state directory, stopped (and checked gone) at the end.
``local_sessions``: a SessionFactory bound to it (target local, us-east-1).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from meshlink.aws.sessions import SessionFactory
    from meshlink.localcloud.info import LocalCloudInfo


@pytest.fixture(scope="session")
def local_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudInfo]:
    """A running local cloud (LocalCloudInfo: endpoint_url, port, pid, state_dir, ...).

    For the session, MESHLINK_STATE_DIR and MESHLINK_LOCAL_PORT point at it, so code that
    calls ``meshlink.localcloud.daemon.ensure_running()`` (``meshlink up``) finds this one
    instead of starting another.
    """
    from tests.helpers import running_local_cloud

    with running_local_cloud(tmp_path_factory.mktemp("localcloud-state")) as info:
        yield info


@pytest.fixture()
def local_sessions(local_cloud: LocalCloudInfo) -> SessionFactory:
    """A SessionFactory for the local cloud (any 12-digit account id works)."""
    from meshlink.aws.sessions import SessionFactory

    return SessionFactory("local", "us-east-1", local_cloud.endpoint_url)


def pytest_configure(config: pytest.Config) -> None:
    """Tests use the Terraform provider only when they ask (terraform_support)."""
    from tests.functional.terraform_support import set_aside

    set_aside(Path(tempfile.mkdtemp(prefix="meshlink-test-cache-")))


@pytest.fixture(autouse=True)
def _width_from_the_test_not_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output off a terminal is 160 columns unless $COLUMNS says otherwise: a width the
    shell (or a CI runner) exports must not change what tests read; a test that renders
    at a width sets COLUMNS itself."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
