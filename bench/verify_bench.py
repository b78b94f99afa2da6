"""Benchmark `meshlink verify` on the local cloud against the cold `up` of the same mesh.

Shapes of N services, `--per-account` services per account (default 2: same- and
cross-account edges):

* ring   - service i consumes i+1 (N edges, N(N-2) non-edges): a sparse mesh;
* ring2  - service i consumes i+1 and i+2 (2N edges, N(N-3) non-edges);
* full   - every service consumes every other (N(N-1) edges, no non-edge).

For each: a cold `up` (timed), wait until the control plane is green (new tasks need
two health checks), then `meshlink --json verify` (a separate process, as a user runs
it; timed), which must pass. Verify runs one probe task per consumer, so its probe
tasks grow with N while its probes (one per ordered pair) grow with N². Prints a
markdown table for bench/RESULTS.md; the goal column is verify / cold up.

    .venv/bin/python bench/verify_bench.py --sizes 8 16 32 64
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MESHLINK = [sys.executable, "-m", "meshlink.cli.app"]


def consumes(i: int, n: int, shape: str) -> list[str]:
    if shape == "full":
        return [f"s{j}" for j in range(n) if j != i]
    hops = 2 if shape == "ring2" else 1
    return [f"s{(i + k) % n}" for k in range(1, hops + 1) if (i + k) % n != i]


def topology(n: int, name: str, shape: str, per_account: int) -> str:
    accounts = (n + per_account - 1) // per_account
    lines = [
        f"name: {name}",
        "region: us-east-1",
        "target: local",
        # The CDK network engine, as the tests use: Terraform would dominate the cold up.
        "network: { engine: cdk, az_count: 2, nat_gateways: single }",
        "accounts:",
    ]
    for a in range(accounts):
        lines.append(f'  a{a}: {{ id: "{500000000000 + a * 1111:012d}", vpc_cidr: 10.{a}.0.0/16 }}')
    lines.append("services:")
    for i in range(n):
        lines.append(
            f"  s{i}: {{ account: a{i // per_account}, port: {8080 + i}, desired_count: 1, "
            f"consumes: [{', '.join(consumes(i, n, shape))}] }}"
        )
    return "\n".join(lines) + "\n"


def run(path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*MESHLINK, "-f", str(path), *args, "--workdir", str(path.parent)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def verify(path: Path, *args: str) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    result = run(path, "--json", "verify", *args, check=False)
    elapsed = time.perf_counter() - started
    report = json.loads(result.stdout)
    if not report["ok"]:
        failed = [c for c in report["checks"] if c["status"] == "fail"]
        raise SystemExit(f"verify failed: {json.dumps(failed, indent=1)[:3000]}")
    return elapsed, report


def wait_green(path: Path, timeout: float = 600.0) -> float:
    started = time.monotonic()
    while run(path, "--json", "verify", "--only", "control", check=False).returncode != 0:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"{path}: control plane not green after {timeout:.0f} s")
        time.sleep(2)
    return time.monotonic() - started


def probe_tasks(checks: list[dict[str, object]]) -> int:
    arns = set()
    for check in checks:
        evidence = check.get("evidence")
        if check["check"] in ("traffic.positive", "traffic.negative") and isinstance(
            evidence, dict
        ):
            arns.add(evidence.get("task_arn"))
    arns.discard(None)
    return len(arns)


def bench(n: int, shape: str, args: argparse.Namespace, root: Path) -> str:
    name = f"vb{shape}{n}"
    directory = root / name
    directory.mkdir()
    path = directory / "mesh.yaml"
    path.write_text(topology(n, name, shape, args.per_account))
    started = time.perf_counter()
    run(path, "up", "--yes")
    up_seconds = time.perf_counter() - started
    settle = wait_green(path)
    try:
        wall, report = verify(path, "--concurrency", str(args.concurrency))
    finally:
        if not args.keep:
            run(path, "down", "--yes", check=False)
    summary = report["summary"]
    checks = report["checks"]
    assert isinstance(summary, dict) and isinstance(checks, list)
    edges = sum(1 for c in checks if c["check"] == "traffic.positive")
    negatives = sum(1 for c in checks if c["check"] == "traffic.negative" and c["status"] == "pass")
    row = (
        f"| {shape} | {n} | {(n + args.per_account - 1) // args.per_account} | {edges} "
        f"| {negatives} | {len(checks)} | {probe_tasks(checks)} | {up_seconds:.1f}s "
        f"| {wall:.1f}s | {100 * wall / up_seconds:.0f} % |"
    )
    print(row, f"(green {settle:.0f}s after up; load {os.getloadavg()[0]:.1f})", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--shapes", nargs="+", default=["ring"])
    parser.add_argument("--per-account", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="leave the meshes deployed")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="meshlink-verify-bench-"))
    os.environ["MESHLINK_STATE_DIR"] = str(root / "state")
    os.environ.setdefault("MESHLINK_LOCAL_PORT", "4698")
    subprocess.run([*MESHLINK, "local", "start"], check=True, capture_output=True)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    header = (
        "| shape | services | accounts | edges (positive) | non-edges (negative, passed) "
        "| checks | probe tasks | cold up | verify | verify / up |"
    )
    rows = [header, "|" + "---|" * 10]
    try:
        for shape in options.shapes:
            for n in options.sizes:
                rows.append(bench(n, shape, options, root))
    finally:
        subprocess.run([*MESHLINK, "local", "stop"], capture_output=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
