"""``probe-all NAME=HOST:PORT ...``: one task probes every target of a consumer at once.

``meshlink verify`` runs one such task per consumer (in the consumer's subnets, with its
security group) instead of one task per (consumer, provider) pair. Each target is
``NAME=HOST:PORT``: GET ``http://HOST:PORT<path>`` and expect the service named NAME.
Every target is probed concurrently, each with its own ``--timeout``; each result is
one JSON line on stdout, then a last line ``{"done": <count>}`` says the list is
complete (whoever reads the output from a log knows nothing is missing):

    {"target": "billing", "url": "http://...:8081/health", "outcome": "ok",
     "code": 0, "detail": "answered 200 from service 'billing'", "ms": 12.0}

The exit code is 0 when every target was probed (whatever each found: the lines carry
the verdicts) and 2 for bad usage. Short target syntax keeps the list of a consumer of
about 80 services within RunTask's 8192-character limit on container overrides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from meshlink_service.probe import ProbeResult, probe

# NAME=HOST:PORT, NAME a service name (the answer's "service"), HOST a DNS name or IPv4.
_TARGET = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)=(?P<host>[A-Za-z0-9.-]+):(?P<port>\d{1,5})$"
)
MAX_PARALLEL = 64


@dataclass(frozen=True)
class Target:
    """One service to call: its expected name and where."""

    name: str
    host: str
    port: int

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


def parse_target(raw: str) -> Target:
    """``NAME=HOST:PORT`` as a Target; ValueError saying what is wrong otherwise."""
    match = _TARGET.match(raw)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ValueError(f"{raw!r} is not NAME=HOST:PORT (e.g. billing=10.0.1.5:8081)")
    return Target(match["name"], match["host"], int(match["port"]))


def result_line(target: Target, result: ProbeResult) -> str:
    """One JSON line for one target's result."""
    return json.dumps(
        {
            "target": target.name,
            "url": result.url,
            "outcome": result.outcome.name.lower().replace("_", "-"),
            "code": int(result.outcome),
            "detail": result.detail,
            "ms": round(result.elapsed_ms, 1),
        },
        sort_keys=True,
    )


def probe_all(
    targets: Sequence[Target],
    *,
    path: str = "/health",
    timeout: float = 5.0,
    bind_address: str | None = None,
) -> list[tuple[Target, ProbeResult]]:
    """Probe every target concurrently; results in the targets' order."""

    def one(target: Target) -> tuple[Target, ProbeResult]:
        found = probe(
            target.url(path), expect_service=target.name, timeout=timeout, bind_address=bind_address
        )
        return target, found

    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(targets))) as pool:
        return list(pool.map(one, targets))


def main(raw_targets: Sequence[str], *, path: str, timeout: float, bind_address: str | None) -> int:
    """Print a line per target, then the done line; 0, or 2 for a malformed target."""
    import sys

    if not path.startswith("/"):
        print(f"meshlink-service probe-all: --path {path!r} must start with /", file=sys.stderr)
        return 2
    targets: list[Target] = []
    for raw in raw_targets:
        try:
            targets.append(parse_target(raw))
        except ValueError as error:
            print(f"meshlink-service probe-all: {error}", file=sys.stderr, flush=True)
            return 2
    for target, result in probe_all(targets, path=path, timeout=timeout, bind_address=bind_address):
        print(result_line(target, result), flush=True)
    print(json.dumps({"done": len(targets)}), flush=True)
    return 0
