"""The local cloud is not there: before a command (not started) or during one (it died).

Both are environment problems (exit 3): nothing in the mesh or the topology is wrong.
"""

from __future__ import annotations

from pathlib import Path

from meshlink.errors import EnvironmentProblem

START_HINT = "start it with: meshlink local start"


class LocalCloudDown(EnvironmentProblem):
    """A command that needs the local cloud found none running (and must not start one)."""

    def __init__(self) -> None:
        super().__init__("the local cloud is not running", hint=START_HINT)


class LocalCloudStopped(EnvironmentProblem):
    """The local cloud stopped answering while a command was talking to it."""

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        log_file: Path | str,
        action: str | None = None,
        resume: str | None = None,
    ):
        self.endpoint_url = endpoint_url
        self.log_file = Path(log_file)
        self.resume = resume
        where = f" at {endpoint_url}" if endpoint_url else ""
        during = f" during {action}" if action else ""
        again = f"then resume with: {resume}" if resume else "then run the same command again"
        super().__init__(
            f"the local cloud{where} stopped answering{during}",
            hint=f"its log: {self.log_file}\n{START_HINT}\n{again}",
        )


def is_local_endpoint(url: str | None) -> bool:
    """True for the local cloud's endpoint (meshlink talks to localhost for nothing else)."""
    from urllib.parse import urlparse

    host = urlparse(url or "").hostname or ""
    return host in ("localhost", "127.0.0.1", "::1")
