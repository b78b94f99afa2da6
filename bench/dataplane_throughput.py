"""Data-plane benchmark: HTTP through endpoint -> NLB -> task versus calling the task.

    .venv/bin/python bench/dataplane_throughput.py [--duration 4] [--clients 1,8]

Starts its own local cloud (free port, temporary state dir), deploys a provider
service (bundled FastAPI service) behind an NLB + endpoint service and an interface
endpoint, then drives ``GET /health`` from client processes over keep-alive
connections (and one new connection per request) along three paths:

* ``endpoint``: the endpoint ENI -> (PrivateLink) NLB -> task, the consumer's path;
* ``task ENI``: the task's own ENI listener (one enforcing proxy hop);
* ``backend``: the process's private listen address (no proxy: the service alone).

Also reports convergence times and memory per task process. Prints a markdown
section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud import daemon
from tests.functional.test_dataplane_support import (
    CONSUMER,
    PORT,
    PROVIDER,
    admin,
    allow,
    endpoint,
    group,
    healthy_targets,
    network,
    provider,
    wait_for,
    zone_names,
)


def _client(args: tuple[str, float, bool]) -> list[float]:
    host, deadline, keep_alive = args
    latencies = []
    conn = http.client.HTTPConnection(host, PORT, timeout=10)
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{host}: HTTP {response.status}")
        latencies.append(time.perf_counter() - started)
        if not keep_alive:
            conn.close()
            conn = http.client.HTTPConnection(host, PORT, timeout=10)
    conn.close()
    return latencies


def drive(host: str, clients: int, duration: float, keep_alive: bool) -> dict[str, float]:
    _client((host, time.perf_counter() + 0.3, keep_alive))  # warm up
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        deadline = time.perf_counter() + duration + 0.2
        results = pool.map(_client, [(host, deadline, keep_alive)] * clients)
    latencies = sorted(x for r in results for x in r)
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / duration,
        "p50": quantiles[49] * 1000,
        "p99": quantiles[98] * 1000,
    }


def memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MiB of one process."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields["Rss"] / 1024, fields["Pss"] / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--clients", default="1,8")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    state = Path(tempfile.mkdtemp(prefix="meshlink-bench-dp-"))
    info = daemon.start(port=0, state_dir=state)
    out: dict[str, Any] = {"runs": []}
    try:
        s = SessionFactory("local", "us-east-1", info.endpoint_url)
        zones = sorted(zone_names(s, PROVIDER))[:2]
        pnet = network(s, PROVIDER, "10.2.0.0/16", zones)
        cnet = network(s, CONSUMER, "10.1.0.0/16", zones)
        created = time.perf_counter()
        p = provider(s, pnet, "provider", [CONSUMER], label=None, desired=1)
        ecs = s.client(PROVIDER, "ecs")

        def running() -> list[dict[str, Any]]:
            arns = ecs.list_tasks(cluster="provider", serviceName="provider")["taskArns"]
            tasks = ecs.describe_tasks(cluster="provider", tasks=arns)["tasks"] if arns else []
            return [t for t in tasks if t["lastStatus"] == "RUNNING"]

        wait_for("a running task", running, interval=0.02)
        out["create_to_running"] = time.perf_counter() - created
        wait_for("healthy", lambda: healthy_targets(s, PROVIDER, p.tg_arn), interval=0.02)
        out["create_to_healthy"] = time.perf_counter() - created
        allow(s, pnet, "nlb", cidr="10.1.0.0/16")
        group(s, cnet, "endpoint")
        ep = endpoint(s, cnet, p.service_name, "endpoint")
        dns = ep["DnsEntries"][0]["DnsName"]
        endpoint_ip = wait_for(
            "endpoint address",
            lambda: admin(info.endpoint_url, "/dataplane")["dns"].get(dns),
            interval=0.02,
        )
        task = admin(info.endpoint_url, "/processes")["tasks"][0]
        paths = {
            "endpoint -> NLB -> task": endpoint_ip,
            "task ENI": task["address"],
            "backend (no proxy)": task["backend"],
        }
        for keep_alive in (True, False):
            for clients in counts:
                for name, host in paths.items():
                    result = drive(host, clients, args.duration, keep_alive)
                    out["runs"].append(
                        {"path": name, "clients": clients, "keep_alive": keep_alive, **result}
                    )
                    print(out["runs"][-1], file=sys.stderr)
        # Convergence: kill the task, time until a replacement is RUNNING and healthy.
        victim = running()[0]["taskArn"]
        killed = time.perf_counter()
        os.kill(int(task["pid"]), signal.SIGKILL)
        wait_for(
            "replacement", lambda: [t for t in running() if t["taskArn"] != victim], interval=0.02
        )
        out["kill_to_replacement_running"] = time.perf_counter() - killed
        wait_for("healthy again", lambda: healthy_targets(s, PROVIDER, p.tg_arn), interval=0.02)
        out["kill_to_replacement_healthy"] = time.perf_counter() - killed
        # Memory: four tasks of the bundled service.
        ecs.update_service(cluster="provider", service="provider", desiredCount=4)
        wait_for("4 healthy", lambda: len(healthy_targets(s, PROVIDER, p.tg_arn)) == 4)
        pids = [t["pid"] for t in admin(info.endpoint_url, "/processes")["tasks"]]
        sizes = [memory(int(pid)) for pid in pids]
        out["task_rss"] = statistics.mean(r for r, _ in sizes)
        out["task_pss"] = statistics.mean(p for _, p in sizes)
        out["cloud_rss"] = memory(info.pid)[0]
        out["pass_ms"] = admin(info.endpoint_url, "/dataplane")["last_pass_ms"]
    finally:
        daemon.stop(state)
    print(render(out, args))
    return 0


def render(out: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        "",
        "## Local cloud (data plane)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on the shared build machine (2 cores, 24 GiB, "
        "other agents' jobs running), Python 3.11, moto 5.2.5. Command: "
        f"`.venv/bin/python bench/dataplane_throughput.py --duration {args.duration:g} "
        f"--clients {args.clients}`. Each row: client processes calling `GET /health` of "
        "one task of the bundled FastAPI service (uvicorn, one process) for "
        f"{args.duration:g} s.",
        "",
        "| path | clients | connections | req/s | p50 ms | p99 ms |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for run in out["runs"]:
        conn = "keep-alive" if run["keep_alive"] else "new per request"
        lines.append(
            f"| {run['path']} | {run['clients']} | {conn} | {run['rps']:.0f} | "
            f"{run['p50']:.2f} | {run['p99']:.2f} |"
        )
    lines += [
        "",
        f"* CreateService -> task RUNNING: {out['create_to_running']:.2f} s; -> target healthy: "
        f"{out['create_to_healthy']:.2f} s.",
        f"* Task killed (SIGKILL) -> replacement RUNNING: {out['kill_to_replacement_running']:.2f}"
        f" s; -> healthy: {out['kill_to_replacement_healthy']:.2f} s.",
        f"* Memory per task process (bundled service, mean of 4): RSS {out['task_rss']:.1f} MiB, "
        f"PSS {out['task_pss']:.1f} MiB. Local cloud process: RSS {out['cloud_rss']:.0f} MiB.",
        f"* One reconciler pass (poll every 0.2 s): {out['pass_ms']:.2f} ms.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
