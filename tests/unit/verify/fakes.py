"""Test doubles for the verify unit tests: a runtime with a real journal and canned clients.

The same checks run for real against the local cloud in
tests/functional/test_verify_*.py; these only pin the decision logic down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from meshlink.deadlines import Deadlines
from meshlink.graph.journal import Journal
from meshlink.topology.model import Topology
from meshlink.verify.context import VerifyContext, VerifyOptions

TWO_WAY = """\
name: unit
region: us-east-1
target: local
accounts:
  users: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
  notify: { id: "222222222222", vpc_cidr: 10.2.0.0/16 }
services:
  user-service: { account: users, port: 8080, consumes: [notification-service] }
  notification-service: { account: notify, port: 8081, consumes: [user-service] }
"""

ONE_WAY = """\
name: unit
region: us-east-1
target: local
accounts:
  a: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
  b: { id: "222222222222", vpc_cidr: 10.2.0.0/16 }
  c: { id: "333333333333", vpc_cidr: 10.3.0.0/16 }
services:
  alpha: { account: a, port: 8080, consumes: [beta] }
  beta: { account: b, port: 8081 }
  gamma: { account: c, port: 8082, desired_count: 1, local: { command: ["python", "x.py"] } }
"""


def topology(text: str = TWO_WAY) -> Topology:
    return Topology.model_validate(yaml.safe_load(text))


class Stub:
    """An AWS client double: each method answers from a callable or a fixed value."""

    def __init__(self, **answers: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._answers = answers

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._answers:
            raise AttributeError(name)
        answer = self._answers[name]

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            if isinstance(answer, BaseException):
                raise answer
            return answer(**kwargs) if callable(answer) else answer

        return call


class FakeSessions:
    def __init__(self, by_id: dict[tuple[str, str], Any]) -> None:
        self.by_id = by_id

    def client(self, account_id: str, service: str) -> Any:
        return self.by_id[(account_id, service)]


class FakeRuntime:
    """What VerifyContext uses of MeshRuntime: topology, journal, clients."""

    def __init__(self, topo: Topology, state_dir: Path) -> None:
        self.topology = topo
        self.state_dir = state_dir
        self.journal = Journal(state_dir)
        self.clients: dict[tuple[str, str], Any] = {}
        self.sessions = FakeSessions({})
        self.notices: list[str] = []

    # The deadlines of a local cloud under instant timing (meshlink/deadlines.py).
    deadlines = Deadlines(0.0, local=True)

    def notice(self, message: str) -> None:
        self.notices.append(message)

    def client(self, account: str, service: str) -> Any:
        return self.clients[(account, service)]

    def deployed_engine(self) -> str | None:
        return "cdk"

    def record(self, node: str, **outputs: Any) -> None:
        self.journal.update(node, status="done", outputs=outputs)


def context(runtime: FakeRuntime, **options: Any) -> VerifyContext:
    return VerifyContext(runtime, VerifyOptions(**options))  # type: ignore[arg-type]


class ClientError(Exception):
    """Shaped like botocore's: `response["Error"]["Code"]`."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.response = {"Error": {"Code": code, "Message": message}}
