"""Start time and memory of the bundled service, one process per task as the local cloud runs it.

Measures, for each run: process spawn -> first 200 on /health (polled every 5 ms),
then RSS / PSS of the serving process after a few requests; how long a
``probe`` (verify's one-off task) takes from spawn to exit; and how long a burst
of services spawned together takes until every one answers.

    .venv/bin/python bench/service_start.py [--runs 15] [--burst 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB; PSS shares the interpreter's pages fairly between processes."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        fields[key] = int(rest.split()[0])
    return fields["Rss"], fields["Pss"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_start(env: dict[str, str]) -> tuple[float, int, int, float]:
    """Seconds to the first 200 on /health, RSS/PSS (KiB) once serving, CPU seconds used.

    CPU time (start, 21 requests, shutdown) does not depend on what else the machine
    is doing, unlike the wall-clock start time.
    """
    port = _free_port()
    cpu_before = _children_cpu()
    child_env = {**env, "PORT": str(port), "HOST": "127.0.0.1", "SERVICE_NAME": "bench"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshlink_service"],
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _healthy(port):
            if proc.poll() is not None:
                raise RuntimeError(f"service exited with {proc.returncode}")
            if time.perf_counter() - started > 30:
                raise RuntimeError("service did not become healthy in 30 s")
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        for _ in range(20):
            _healthy(port)
        rss, pss = _memory_kib(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    return elapsed, rss, pss, _children_cpu() - cpu_before


def one_probe(env: dict[str, str], url: str) -> float:
    """Seconds from spawning ``probe`` to its exit (against a running service)."""
    started = time.perf_counter()
    code = subprocess.run(
        [sys.executable, "-m", "meshlink_service", "probe", url, "--expect-service", "bench"],
        env=env,
        stdout=subprocess.DEVNULL,
        check=False,
    ).returncode
    if code != 0:
        raise RuntimeError(f"probe exited {code}")
    return time.perf_counter() - started


def burst(env: dict[str, str], count: int) -> float:
    """Seconds until ``count`` services spawned at once all answer /health (a mesh coming up)."""
    ports = [_free_port() for _ in range(count)]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "meshlink_service"],
            env={**env, "PORT": str(port), "HOST": "127.0.0.1", "SERVICE_NAME": "bench"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        pending = set(ports)
        while pending:
            pending = {port for port in pending if not _healthy(port)}
            if time.perf_counter() - started > 60:
                raise RuntimeError("burst did not become healthy in 60 s")
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=15)


def _summary(values: Sequence[float], unit: str, scale: float = 1.0) -> str:
    scaled = sorted(v * scale for v in values)
    return (
        f"median {statistics.median(scaled):.0f} {unit}, "
        f"min {scaled[0]:.0f}, max {scaled[-1]:.0f} (n={len(scaled)})"
    )


def main() -> int:
    """Run the benchmark and print a summary (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--burst", type=int, default=8, help="services started at once")
    parser.add_argument("--json", action="store_true", help="print raw figures as JSON")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEER_", "BIND_ADDRESS"))}

    one_start(env)  # warm the page cache and .pyc files; not counted
    starts: list[float] = []
    cpu: list[float] = []
    rss: list[int] = []
    pss: list[int] = []
    for _ in range(args.runs):
        elapsed, rss_kib, pss_kib, cpu_s = one_start(env)
        starts.append(elapsed)
        rss.append(rss_kib)
        pss.append(pss_kib)
        cpu.append(cpu_s)

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "meshlink_service"],
        env={**env, "PORT": str(port), "HOST": "127.0.0.1", "SERVICE_NAME": "bench"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _healthy(port):
            time.sleep(0.01)
        probes = [one_probe(env, f"http://127.0.0.1:{port}/health") for _ in range(args.runs)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)

    together = [burst(env, args.burst) for _ in range(3)]

    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, {platform.machine()}")
    print(f"start -> first 200 on /health: {_summary(starts, 'ms', 1000)}")
    print(f"CPU per process lifetime:       {_summary(cpu, 'ms', 1000)}")
    print(f"RSS per serving process:        {_summary(rss, 'MiB', 1 / 1024)}")
    print(f"PSS per serving process:        {_summary(pss, 'MiB', 1 / 1024)}")
    print(f"probe spawn -> exit:            {_summary(probes, 'ms', 1000)}")
    print(f"{args.burst} started at once, all healthy: {_summary(together, 'ms', 1000)}")
    if args.json:
        raw = {"start_s": starts, "cpu_s": cpu, "rss_kib": rss, "pss_kib": pss, "probe_s": probes}
        print(json.dumps({**raw, "burst_s": together}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
