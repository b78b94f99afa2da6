"""Benchmark `meshlink up` (cold, no-op) and `down` on the local cloud, and synthesis.

Full meshes of N services in N accounts (every service consumes every other), with
--concurrency 1 versus the default. Prints a markdown table for bench/RESULTS.md.

    .venv/bin/python bench/deploy_bench.py --sizes 2 4 8
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MESHLINK = [sys.executable, "-m", "meshlink.cli.app"]


def full_mesh(n: int, name: str) -> str:
    lines = [
        f"name: {name}",
        "region: us-east-1",
        "target: local",
        "network: { az_count: 2, nat_gateways: none }",
        "accounts:",
    ]
    for i in range(n):
        lines.append(f'  a{i}: {{ id: "{100000000000 + i * 1111:012d}", vpc_cidr: 10.{i}.0.0/16 }}')
    lines.append("services:")
    for i in range(n):
        peers = ", ".join(f"s{j}" for j in range(n) if j != i)
        lines.append(
            f"  s{i}: {{ account: a{i}, port: {8080 + i}, desired_count: 1, consumes: [{peers}] }}"
        )
    return "\n".join(lines) + "\n"


def timed(args: list[str], workdir: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [*MESHLINK, *args, "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def synth_seconds(topology_path: Path) -> float:
    code = (
        "import time, tempfile, pathlib;"
        "from meshlink.topology.loader import load_topology;"
        "from meshlink.engines.cdk.synth import synth;"
        "from meshlink.stacks.mesh import mesh_builder;"
        f"t = load_topology({str(topology_path)!r}); s = time.perf_counter();"
        "synth(mesh_builder(t), key='bench', cache_dir=pathlib.Path(tempfile.mkdtemp()));"
        "print(time.perf_counter() - s)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    options = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="meshlink-bench-state-"))
    os.environ["MESHLINK_STATE_DIR"] = str(state)
    os.environ.setdefault("MESHLINK_LOCAL_PORT", "4699")
    subprocess.run([*MESHLINK, "local", "start"], check=True, capture_output=True)
    rows = []
    try:
        for n in options.sizes:
            for concurrency in options.concurrency:
                work = Path(tempfile.mkdtemp(prefix="meshlink-bench-"))
                topology = work / "mesh.yaml"
                topology.write_text(full_mesh(n, f"bench{n}c{concurrency}"))
                synth = synth_seconds(topology)
                c = ["-f", str(topology)]
                cold = timed([*c, "up", "--yes", "--concurrency", str(concurrency)], work)
                noop = timed([*c, "up", "--yes", "--concurrency", str(concurrency)], work)
                down = timed([*c, "down", "--yes", "--concurrency", str(concurrency)], work)
                rows.append((n, n * (n - 1), concurrency, synth, cold, noop, down))
                print(
                    f"n={n} c={concurrency}: synth {synth:.1f}s cold {cold:.1f}s "
                    f"no-op {noop:.1f}s down {down:.1f}s",
                    file=sys.stderr,
                )
                shutil.rmtree(work, ignore_errors=True)
    finally:
        subprocess.run([*MESHLINK, "local", "stop"], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)
    print("| services | edges | --concurrency | synth (cold) | cold up | no-op up | down |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, edges, conc, synth, cold, noop, down in rows:
        print(
            f"| {n} | {edges} | {conc} | {synth:.1f}s | {cold:.1f}s | {noop:.1f}s | {down:.1f}s |"
        )


if __name__ == "__main__":
    main()
