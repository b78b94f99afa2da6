"""Benchmark: local cloud start time, and CloudFormation create time (provider + consumer).

Run: .venv/bin/python bench/localcloud_control_plane.py [--runs 5]
Not a test: prints a markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud import daemon
from tests.functional.test_local_privatelink import (
    CONSUMER,
    PROVIDER,
    deploy,
    network,
    outputs,
)


def start_times(runs: int) -> list[float]:
    """daemon.start() until /_meshlink/health answers, then stop; fresh state dir each run."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as state:
            began = time.perf_counter()
            daemon.start(port=0, state_dir=state)
            times.append(time.perf_counter() - began)
            daemon.stop(state)
    return times


def cli_start_times(runs: int) -> list[float]:
    """`meshlink local start` as a user runs it (process start + imports + wait)."""
    exe = str(Path(sys.executable).with_name("meshlink"))
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as state:
            began = time.perf_counter()
            subprocess.run(
                [exe, "local", "start", "--port", "0", "--state-dir", state],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - began)
            daemon.stop(state)
    return times


def cfn_times(runs: int) -> tuple[list[float], list[float]]:
    """Provider stack (NLB, TG, listener, SG, endpoint service, permissions) and consumer
    stack (SG, interface endpoint), each through create_change_set + execute + describe."""
    provider_times, consumer_times = [], []
    with tempfile.TemporaryDirectory() as state:
        info = daemon.start(port=0, state_dir=state)
        sessions = SessionFactory("local", "us-east-1", info.endpoint_url)
        for run in range(runs):
            a, b = f"7{run:02d}000000001", f"7{run:02d}000000002"
            net_a = network(sessions, a, "10.1.0.0/16")
            net_b = network(sessions, b, "10.2.0.0/16")
            zones = sorted(net_a["subnets"])[:2]
            began = time.perf_counter()
            provider = deploy(
                sessions,
                a,
                "provider",
                PROVIDER,
                {
                    "VpcId": net_a["vpc"],
                    "SubnetIds": ",".join(net_a["subnets"][z] for z in zones),
                    "ConsumerPrincipal": f"arn:aws:iam::{b}:root",
                },
            )
            provider_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            consumer = deploy(
                sessions,
                b,
                "consumer",
                CONSUMER,
                {
                    "VpcId": net_b["vpc"],
                    "SubnetIds": ",".join(net_b["subnets"][z] for z in zones),
                    "ServiceName": outputs(provider)["ServiceName"],
                },
            )
            consumer_times.append(time.perf_counter() - began)
            assert consumer["StackStatus"] == "CREATE_COMPLETE", consumer
        daemon.stop(state)
    return provider_times, consumer_times


def row(label: str, values: list[float]) -> str:
    return (
        f"| {label} | {len(values)} | {statistics.median(values):.3f} | "
        f"{min(values):.3f} | {max(values):.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    provider, consumer = cfn_times(runs)
    print("| measurement | runs | median s | min s | max s |")
    print("|---|---|---|---|---|")
    print(row("local cloud start (`daemon.start`, until health answers)", start_times(runs)))
    print(row("`meshlink local start` (CLI process, wall)", cli_start_times(runs)))
    print(row("provider stack create via change set (6 resources)", provider))
    print(row("consumer stack create via change set (2 resources)", consumer))
    print(row("provider + consumer", [p + c for p, c in zip(provider, consumer, strict=True)]))


if __name__ == "__main__":
    main()
