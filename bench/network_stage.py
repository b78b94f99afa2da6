"""Benchmark the network stage: Terraform engine (real hashicorp/aws) against the CDK engine.

For 1, 2 and 4 accounts: `meshlink up --only network` cold, then a no-op `up --only
network`, then `down --only network`, on the local cloud, with each engine. The
Terraform engine needs the provider (MESHLINK_TF_PROVIDER_MIRROR, as `make bench` sets
it, or the registry). Prints a markdown table for bench/RESULTS.md.

    MESHLINK_TF_PROVIDER_MIRROR=/path/to/mirror .venv/bin/python bench/network_stage.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from deploy_bench import MESHLINK, timed  # bench/ is on sys.path when run as a script


def topology(n: int, name: str, engine: str) -> str:
    lines = [
        f"name: {name}",
        "region: us-east-1",
        "target: local",
        f"network: {{ engine: {engine}, az_count: 2, nat_gateways: single }}",
        "accounts:",
    ]
    for i in range(n):
        lines.append(f'  a{i}: {{ id: "{200000000000 + i * 1111:012d}", vpc_cidr: 10.{i}.0.0/16 }}')
    lines.append("services:")
    for i in range(n):
        lines.append(f"  s{i}: {{ account: a{i}, port: {8080 + i}, desired_count: 1 }}")
    return "\n".join(lines) + "\n"


def measure(n: int, engine: str, run: int) -> tuple[float, float, float]:
    work = Path(tempfile.mkdtemp(prefix="meshlink-bench-net-"))
    path = work / "mesh.yaml"
    path.write_text(topology(n, f"net{engine[:2]}{n}r{run}", engine))
    base = ["-f", str(path)]
    try:
        cold = timed([*base, "up", "--yes", "--only", "network"], work)
        noop = timed([*base, "up", "--yes", "--only", "network"], work)
        down = timed([*base, "down", "--yes", "--only", "network"], work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return cold, noop, down


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--runs", type=int, default=1)
    options = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="meshlink-bench-state-"))
    os.environ["MESHLINK_STATE_DIR"] = str(state)
    os.environ.setdefault("MESHLINK_LOCAL_PORT", "4698")
    subprocess.run([*MESHLINK, "local", "start"], check=True, capture_output=True)
    rows = []
    try:
        for n in options.accounts:
            results: dict[str, list[tuple[float, float, float]]] = {}
            for engine in ("cdk", "terraform"):
                results[engine] = sorted(measure(n, engine, r) for r in range(options.runs))
                median = results[engine][len(results[engine]) // 2]
                print(f"n={n} {engine}: cold/no-op/down {median}", file=sys.stderr)
            rows.append((n, results))
    finally:
        subprocess.run([*MESHLINK, "local", "stop"], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)
    print("| accounts | engine | cold `up --only network` | no-op | down | TF / CDK (cold) |")
    print("|---:|---|---:|---:|---:|---:|")
    for n, results in rows:
        cdk = results["cdk"][len(results["cdk"]) // 2]
        for engine in ("cdk", "terraform"):
            cold, noop, down = results[engine][len(results[engine]) // 2]
            ratio = f"{cold / cdk[0]:.2f}x" if engine == "terraform" else ""
            print(f"| {n} | {engine} | {cold:.1f}s | {noop:.1f}s | {down:.1f}s | {ratio} |")


if __name__ == "__main__":
    main()
