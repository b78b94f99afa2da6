"""Benchmark: CDK synthesis of the network stacks, cold vs cached, for 1 and 4 accounts.

    .venv/bin/python bench/cdk_synth.py [--repeat 3] [--accounts 1 4]

Each measurement runs in a fresh Python process, as `meshlink up` would:
* cold   - empty cache: import aws-cdk-lib, start Node (jsii), synthesize, write the assembly;
* cached - same key again: read the stored templates (Node must not start);
* warm   - in one process, a second synth with a new key (Node already running).
Times are the median of --repeat runs; "process" includes interpreter start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def topology(accounts: int) -> Any:
    from meshlink.topology.model import Topology

    return Topology.model_validate(
        {
            "name": "bench",
            "network": {"az_count": 2, "nat_gateways": "per_az"},
            "accounts": {
                f"acct{i}": {"id": f"{100000000000 + i}", "vpc_cidr": f"10.{i}.0.0/16"}
                for i in range(accounts)
            },
            "services": {"svc": {"account": "acct0", "port": 8080}},
        }
    )


def child(accounts: int, cache: Path, key: str, warm_key: str | None) -> None:
    """One measured synth (run in its own process); prints JSON timings."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    start = time.perf_counter()
    from meshlink.engines.cdk.synth import synth

    topo = topology(accounts)

    def build(app: Any) -> None:
        from meshlink.stacks.network import build_network

        build_network(topo)(app)

    result = synth(build, key=key, cache_dir=cache)
    elapsed = time.perf_counter() - start
    timings: dict[str, Any] = {"seconds": elapsed, "cached": result.cached}
    timings["node_loaded"] = "aws_cdk" in sys.modules
    if warm_key:
        again = time.perf_counter()
        synth(build, key=warm_key, cache_dir=cache)
        timings["warm_seconds"] = time.perf_counter() - again
    print(json.dumps(timings))


def measure(accounts: int, cache: Path, key: str, warm_key: str | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(accounts), str(cache), key]
    if warm_key:
        command.append(warm_key)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--accounts", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    print("accounts | cold synth | cold process | cached synth | cached process | warm synth")
    for accounts in args.accounts:
        cold, cached, warm = [], [], []
        for run in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(tmp)
                first = measure(accounts, cache, f"k{run}", warm_key=f"w{run}")
                assert not first["cached"]
                second = measure(accounts, cache, f"k{run}")
                assert second["cached"] and not second["node_loaded"]
                cold.append(first)
                cached.append(second)
                warm.append(first["warm_seconds"])

        def med(rows: list[dict[str, Any]], field: str) -> str:
            return f"{statistics.median(r[field] for r in rows):.3f} s"

        print(
            f"{accounts} | {med(cold, 'seconds')} | {med(cold, 'process_seconds')} | "
            f"{med(cached, 'seconds')} | {med(cached, 'process_seconds')} | "
            f"{statistics.median(warm):.3f} s"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], (sys.argv[5:] or [None])[0])
    else:
        main()
