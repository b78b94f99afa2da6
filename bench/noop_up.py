"""Benchmark a no-op `meshlink up` against the cold `up`, in one run, on the local cloud.

For each size: a ring of N services (each consumes the next), two per account, CDK
network engine. Cold `up`, then a no-op `up` (nothing changed: drift checked, nothing
synthesized, aws_cdk not imported), then `up --no-repair` (no drift check), then `down`.
Also counts the AWS API calls the no-op makes, and the most DescribeStacks any one
account got (the goal: one, shared by every node), in-process through a botocore event
hook around `meshlink.cli.app`.
Prints a markdown table for bench/RESULTS.md.

    .venv/bin/python bench/noop_up.py --sizes 3 16
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

MESHLINK = [sys.executable, "-m", "meshlink.cli.app"]
# Runs the CLI in-process with a counter on every AWS request (per client, that is per
# account and service) and a flag on aws_cdk.
COUNTING = """
import collections, sys, boto3, botocore.session
calls = collections.Counter()
original = botocore.session.Session.create_client
def create_client(self, *args, **kwargs):
    client = original(self, *args, **kwargs)
    def count(model, **kw):
        calls[(id(client), model.name)] += 1
    client.meta.events.register("before-call", count)
    return client
botocore.session.Session.create_client = create_client
from meshlink.cli.app import main
try:
    main()  # reads sys.argv[1:]: the arguments after -c CODE
except SystemExit as exit:
    code = exit.code
else:
    code = 0
stacks = max((n for (_, op), n in calls.items() if op == "DescribeStacks"), default=0)
zones = sum(n for (_, op), n in calls.items() if op == "DescribeAvailabilityZones")
print(
    f"BENCH calls={sum(calls.values())} describe_stacks_per_account={stacks} "
    f"zone_lookups={zones} cdk={'aws_cdk' in sys.modules}",
    file=sys.stderr,
)
sys.exit(code)
"""


def ring(n: int, name: str) -> str:
    lines = [
        f"name: {name}",
        "region: us-east-1",
        "target: local",
        "network: { engine: cdk, az_count: 2, nat_gateways: single }",
        "accounts:",
    ]
    accounts = (n + 1) // 2
    for i in range(accounts):
        lines.append(f'  a{i}: {{ id: "{200000000000 + i * 1111:012d}", vpc_cidr: 10.{i}.0.0/16 }}')
    lines.append("services:")
    for i in range(n):
        lines.append(
            f"  s{i}: {{ account: a{i // 2}, port: {8080 + i}, desired_count: 1, "
            f"consumes: [s{(i + 1) % n}] }}"
        )
    return "\n".join(lines) + "\n"


def timed(args: list[str], workdir: Path, *, counted: bool = False) -> tuple[float, str]:
    command = [sys.executable, "-c", COUNTING, *args] if counted else [*MESHLINK, *args]
    started = time.perf_counter()
    result = subprocess.run(
        [*command, "--workdir", str(workdir)], capture_output=True, text=True, env=dict(os.environ)
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    note = next((line for line in result.stderr.splitlines() if line.startswith("BENCH ")), "")
    return elapsed, note.removeprefix("BENCH ")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 16])
    options = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="meshlink-bench-state-"))
    os.environ["MESHLINK_STATE_DIR"] = str(state)
    os.environ.setdefault("MESHLINK_LOCAL_PORT", "4698")
    subprocess.run([*MESHLINK, "local", "start"], check=True, capture_output=True)
    rows = []
    print(f"load average at the start: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    try:
        for n in options.sizes:
            work = Path(tempfile.mkdtemp(prefix="meshlink-bench-"))
            topology = work / "mesh.yaml"
            topology.write_text(ring(n, f"noop{n}"))
            f = ["-f", str(topology)]
            cold, _ = timed([*f, "up", "--yes"], work)
            noop, note = timed([*f, "up", "--yes"], work, counted=True)
            bare, _ = timed([*f, "up", "--yes", "--no-repair"], work)
            timed([*f, "down", "--yes"], work)
            rows.append((n, cold, noop, bare, note))
            print(f"n={n}: cold {cold:.1f}s no-op {noop:.1f}s ({note}) "
                  f"--no-repair {bare:.1f}s load {os.getloadavg()[0]:.1f}",
                  file=sys.stderr)  # fmt: skip
            shutil.rmtree(work, ignore_errors=True)
    finally:
        subprocess.run([*MESHLINK, "local", "stop"], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)
    print("| services | cold up | no-op up | no-op / cold | no-op --no-repair | no-op AWS calls |")
    print("|---:|---:|---:|---:|---:|---|")
    for n, cold, noop, bare, note in rows:
        share = f"{100 * noop / cold:.1f} %"
        print(f"| {n} | {cold:.1f}s | {noop:.1f}s | {share} | {bare:.1f}s | {note} |")


if __name__ == "__main__":
    main()
