"""Makespan of `meshlink up` against its critical path, under the local cloud's AWS timing.

    .venv/bin/python bench/makespan.py [--sizes 2 8 16 32] [--scale 0.02] [--write]

For each size N: a mesh of N services in min(N, 4) accounts (round-robin), each service
consuming the next one (a ring: N edges, every service a provider and a consumer),
`nat_gateways: single`, one task each. A fresh local cloud runs with `--timing aws
--time-scale F` (eventual consistency on). Then, for the default settings and for
`--concurrency 1`:

* `plan --json`: the estimate's critical path (meshlink/deploy/estimate.py, the same
  durations table the local cloud holds resources for), times F: what the run would
  take if nothing but AWS's own durations counted;
* `up --json`: the makespan, from its event stream: the first node started to the last
  node finished (the schedule; "whole run" is the summary's seconds, which add the
  checks before the graph runs: identities, ownership, zones);
* `down`, so that the next setting starts from an empty cloud (same mesh: the
  synthesis `plan` cached serves both).

Reports makespan / critical path and the speed-up of the default over --concurrency 1;
`--write` adds the table, dated, at the top of the "Makespan" section of
bench/RESULTS.md (earlier runs stay below it, as history).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MESHLINK = [sys.executable, "-m", "meshlink.cli.app"]
SECTION = "## Makespan: up against its critical path (AWS timing)"


def ring(n: int, name: str) -> str:
    """N services in min(N, 4) accounts, service i consuming service i+1."""
    accounts = min(n, 4)
    lines = [
        f"name: {name}",
        "region: us-east-1",
        "target: local",
        "network: { engine: cdk, az_count: 2, nat_gateways: single }",
        "accounts:",
    ]
    for i in range(accounts):
        lines.append(f'  a{i}: {{ id: "{200000000000 + i * 1111:012d}", vpc_cidr: 10.{i}.0.0/16 }}')
    lines.append("services:")
    for i in range(n):
        peer = f"s{(i + 1) % n}"
        lines.append(
            f"  s{i}: {{ account: a{i % accounts}, port: {8080 + i}, desired_count: 1, "
            f"consumes: [{peer}] }}"
        )
    return "\n".join(lines) + "\n"


def meshlink(topology: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MESHLINK, "-f", str(topology), *args, "--workdir", str(topology.parent)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def last_json(stdout: str) -> Any:
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        return json.loads(stdout)
    except ValueError:
        return json.loads(lines[-1])


def up_and_down(
    topology: Path, label: str, extra: list[str], critical: float, env: dict[str, str]
) -> dict[str, Any]:
    """One `up` (then `down`) of the mesh; its measures."""
    started = time.time()
    done = meshlink(topology, "--json", "up", "--yes", *extra, env=env)
    wall = time.time() - started
    if done.returncode != 0:
        raise SystemExit(f"up {' '.join(extra)} failed:\n{done.stdout[-4000:]}\n{done.stderr}")
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    summary = events[-1]
    starts = [e["at"] for e in events if e.get("event") == "started"]
    ends = [e["at"] for e in events if e.get("event") == "finished"]
    schedule = max(ends) - min(starts)  # first node started -> last node finished
    for _attempt in range(2):  # a failed down resumes; the next run needs an empty cloud
        down = meshlink(topology, "down", "--yes", env=env)
        if down.returncode == 0:
            break
    else:
        print(f"warning: down failed:\n{down.stdout[-2000:]}", file=sys.stderr)
    return {
        "settings": label,
        "nodes": sum(summary["counts"].values()),
        "critical_path": critical,
        "makespan": schedule,
        "run": float(summary["seconds"]),
        "wall": wall,
        "ratio": schedule / critical,
        "load": os.getloadavg()[0],
    }


def one_size(n: int, scale: float, serial: bool, env: dict[str, str]) -> list[dict[str, Any]]:
    """plan once (the estimate, and the synthesis both runs reuse), then each setting."""
    work = Path(tempfile.mkdtemp(prefix=f"makespan-{n}-"))
    topology = work / "mesh.yaml"
    topology.write_text(ring(n, f"mk{n}"))
    planned = meshlink(topology, "--json", "plan", env=env)
    if planned.returncode != 0:
        raise SystemExit(f"plan failed:\n{planned.stdout}\n{planned.stderr}")
    estimate = last_json(planned.stdout)["estimate"]
    critical = estimate["seconds"] * scale
    modes: list[tuple[str, list[str]]] = [("default", [])]
    if serial:
        modes.append(("concurrency 1", ["--concurrency", "1"]))
    rows = []
    for label, extra in modes:
        row = up_and_down(topology, label, extra, critical, env)
        row.update(services=n, critical_nodes=len(estimate["critical_path"]))
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def start_cloud(scale: float, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env["MESHLINK_STATE_DIR"] = tempfile.mkdtemp(prefix="makespan-cloud-")
    env["MESHLINK_LOCAL_PORT"] = str(port)
    subprocess.run(
        [*MESHLINK, "local", "start", "--timing", "aws", "--time-scale", str(scale)],
        check=True,
        capture_output=True,
        env=env,
    )
    return env


def stop_cloud(env: dict[str, str]) -> None:
    subprocess.run([*MESHLINK, "local", "stop"], capture_output=True, env=env, check=False)


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| services | nodes | settings | critical path | makespan | makespan / CP | speed-up "
        "| whole run | load |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    serial = {r["services"]: r["makespan"] for r in rows if r["settings"] == "concurrency 1"}
    for r in rows:
        speedup = (
            f"{serial[r['services']] / r['makespan']:.1f}x"
            if r["settings"] == "default" and r["services"] in serial
            else ""
        )
        out.append(
            f"| {r['services']} | {r['nodes']} | {r['settings']} | {r['critical_path']:.1f}s "
            f"({r['critical_nodes']} nodes) | {r['makespan']:.1f}s | {r['ratio']:.2f} | "
            f"{speedup} | {r['run']:.1f}s | {r['load']:.0f} |"
        )
    return "\n".join(out)


def write_section(text: str) -> None:
    """`text` first in the Makespan section (created if missing); what was there stays."""
    path = REPO / "bench" / "RESULTS.md"
    current = path.read_text()
    if SECTION in current:
        before, rest = current.split(SECTION, 1)
        current = f"{before}{SECTION}\n\n{text.rstrip()}\n\n{rest.lstrip()}"
    else:
        current = f"{current.rstrip()}\n\n{SECTION}\n\n{text.rstrip()}\n"
    path.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 8, 16, 32])
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--port", type=int, default=4793)
    parser.add_argument("--serial", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    options = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for n in options.sizes:
        env = start_cloud(options.scale, options.port)
        try:
            rows += one_size(n, options.scale, options.serial, env)
        finally:
            stop_cloud(env)
    report = table(rows)
    print(report)
    if options.write:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        load = "-".join(
            f"{r['load']:.0f}"
            for r in (min(rows, key=lambda r: r["load"]), max(rows, key=lambda r: r["load"]))
        )
        write_section(f"### {when}, load average {load}\n\n{report}\n")


if __name__ == "__main__":
    main()
