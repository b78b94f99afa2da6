"""Benchmark `meshlink verify` on the local cloud: wall time and probes per second.

Two shapes of N services in N accounts:

* full mesh - every service consumes every other: N(N-1) edges, no non-edge;
* ring      - service i consumes only i+1: N edges, N(N-2) non-edges (negative probes).

For each, `up`, wait until the control plane is green (new tasks need two health
checks), then time `meshlink --json verify` (a separate process, as a user runs it),
`--only control`, and `--only traffic`, at the given concurrencies. Prints a markdown
table for bench/RESULTS.md.

    .venv/bin/python bench/verify_bench.py --sizes 2 4 8 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MESHLINK = [sys.executable, "-m", "meshlink.cli.app"]


def topology(n: int, name: str, shape: str) -> str:
    lines = [
        f"name: {name}",
        "region: us-east-1",
        "target: local",
        "network: { az_count: 2, nat_gateways: none }",
        "accounts:",
    ]
    for i in range(n):
        lines.append(f'  a{i}: {{ id: "{500000000000 + i * 1111:012d}", vpc_cidr: 10.{i}.0.0/16 }}')
    lines.append("services:")
    for i in range(n):
        ring = [f"s{(i + 1) % n}"]
        peers = [f"s{j}" for j in range(n) if j != i] if shape == "full" else ring
        lines.append(
            f"  s{i}: {{ account: a{i}, port: {8080 + i}, desired_count: 1, "
            f"consumes: [{', '.join(peers)}] }}"
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


def wait_green(path: Path, timeout: float = 180.0) -> float:
    started = time.monotonic()
    while run(path, "--json", "verify", "--only", "control", check=False).returncode != 0:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"{path}: control plane not green after {timeout:.0f} s")
        time.sleep(2)
    return time.monotonic() - started


def bench(n: int, shape: str, runs: int, concurrency: list[int], root: Path) -> list[str]:
    name = f"vb{shape[0]}{n}"
    directory = root / name
    directory.mkdir()
    path = directory / "mesh.yaml"
    path.write_text(topology(n, name, shape))
    started = time.perf_counter()
    run(path, "up", "--yes")
    up_seconds = time.perf_counter() - started
    settle = wait_green(path)
    rows = []
    try:
        for workers in concurrency:
            walls: dict[str, list[float]] = {"all": [], "control": [], "traffic": []}
            report: dict[str, object] = {}
            for _ in range(runs):
                for key, extra in (
                    ("all", ()),
                    ("control", ("--only", "control")),
                    ("traffic", ("--only", "traffic")),
                ):
                    wall, answer = verify(path, "--concurrency", str(workers), *extra)
                    walls[key].append(wall)
                    if key == "all":
                        report = answer
            summary = report["summary"]
            checks = report["checks"]
            assert isinstance(summary, dict) and isinstance(checks, list)
            probes = int(summary["probes"])
            edges = sum(1 for c in checks if c["check"] == "traffic.positive")
            med = {k: statistics.median(v) for k, v in walls.items()}
            inner = statistics.median(
                float(c["seconds"]) for c in checks if "traffic" in c["check"]
            )
            rows.append(
                f"| {shape} | {n} | {edges} | {probes - edges} | {len(checks)} | {workers} "
                f"| {med['all']:.1f}s | {med['control']:.1f}s | {med['traffic']:.1f}s "
                f"| {probes / med['traffic']:.1f} | {inner:.2f}s |"
            )
            print(rows[-1], f"(up {up_seconds:.0f}s, green after {settle:.0f}s)", flush=True)
    finally:
        run(path, "down", "--yes", check=False)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--shapes", nargs="+", default=["full", "ring"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8])
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
        "| shape | services | edges (positive probes) | non-edges (negative probes) | checks "
        "| concurrency | verify | --only control | --only traffic | probes/s | probe task |"
    )
    rows = [header, "|" + "---|" * 11]
    try:
        for shape in options.shapes:
            for n in options.sizes:
                rows += bench(n, shape, options.runs, options.concurrency, root)
    finally:
        subprocess.run([*MESHLINK, "local", "stop"], capture_output=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
