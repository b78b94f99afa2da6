"""Run the checks over a deployed mesh: bounded concurrency, results in a stable order."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING

from meshlink.errors import EnvironmentProblem, MeshlinkError, VerifyFailed
from meshlink.verify.context import VerifyContext, VerifyOptions
from meshlink.verify.model import CheckResult, CheckSpec, Edge, Subject, Verdict, VerifyReport

if TYPE_CHECKING:
    from meshlink.deploy.runtime import MeshRuntime
    from meshlink.topology.model import Topology

OnResult = Callable[[CheckResult, int, int], None]  # result, done so far, total
Unit = tuple[CheckSpec, Subject, tuple[Edge, ...]]


def checks(options: VerifyOptions) -> list[CheckSpec]:
    """The checks a run performs, control first: the probe tasks, the long poles, are
    started before any check (one per consumer, `traffic.start_probes`), so control checks run
    while they do."""
    from meshlink.verify import (
        control_network,
        control_operations,
        control_privatelink,
        control_stacks,
        traffic,
    )

    selected: list[CheckSpec] = []
    if options.only in (None, "control"):
        selected += [
            *control_stacks.CHECKS,
            *control_privatelink.CHECKS,
            *control_network.CHECKS,
            *control_operations.CHECKS,
        ]
    if options.only in (None, "traffic"):
        selected += [*traffic.CHECKS, *(traffic.DEEP_CHECKS if options.deep else ())]
    return selected


def all_checks() -> list[CheckSpec]:
    """Every check there is, in report order (docs and tests list them from here)."""
    return checks(VerifyOptions(deep=True))


def _run_unit(ctx: VerifyContext, unit: Unit) -> CheckResult:
    spec, subject, edges = unit
    verdict = Verdict(spec.id, spec.category, subject, edges)
    started = time.monotonic()
    try:
        result = spec.run(ctx, verdict)
    except MeshlinkError:
        raise
    except Exception as error:
        _raise_if_unreachable(error)
        # One check that cannot run must not hide the others: it fails, saying why.
        result = verdict.failed(f"check could not run: {error}", error=repr(error))
    return CheckResult(
        result.check,
        result.category,
        result.subject,
        result.status,
        result.message,
        result.evidence,
        result.edges,
        time.monotonic() - started,
    )


def _raise_if_unreachable(error: Exception) -> None:
    from botocore.exceptions import EndpointConnectionError

    if isinstance(error, EndpointConnectionError):
        raise EnvironmentProblem(
            f"cannot reach the AWS API: {error}",
            hint="for target local: meshlink local status",
        ) from error


def _prime(ctx: VerifyContext) -> None:
    """The checks' reads of endpoints, security groups, connections and endpoint services,
    batched: one describe per account and kind (drift detection's), not one per check."""
    from meshlink.deploy.drift.detect import prime

    with ctx.runtime.journal.lock:
        records = list(ctx.runtime.journal.records.items())
    try:
        prime(ctx, frozenset(n for n, r in records if r.status in ("done", "failed")))
    except MeshlinkError:
        raise
    except Exception:  # noqa: S110 - a read that fails here fails again in the check
        pass  # that needs it, which says why: priming only saves calls


def _has_deployment(runtime: MeshRuntime) -> bool:
    return any(record.status == "done" for record in runtime.journal.records.values())


def verify(
    runtime: MeshRuntime, options: VerifyOptions, on_result: OnResult | None = None
) -> VerifyReport:
    """Run every selected check on every subject; save the report; return it.

    Raises VerifyFailed only when there is nothing to verify; failed checks are in the
    report (the CLI decides what a failure means for the exit code).
    """
    from meshlink.deploy.rebuild import rebuild_journal
    from meshlink.graph.lock import mesh_lock
    from meshlink.verify import traffic
    from meshlink.verify.probe_image import release
    from meshlink.verify.report import save
    from meshlink.verify.settle import settle
    from meshlink.verify.traffic import with_likely_causes

    wall = time.time()
    started = time.monotonic()
    with mesh_lock(runtime.state_dir, "meshlink verify"):
        if not runtime.journal.existed:
            rebuild_journal(runtime)
        if not _has_deployment(runtime):
            raise VerifyFailed(
                f"mesh {runtime.topology.name} has nothing deployed on {runtime.topology.target}",
                hint=f"deploy it first: meshlink up (state: {runtime.state_dir})",
            )
        ctx = VerifyContext(runtime, options)
        settle(ctx, options.settle_timeout, runtime.notice)
        if options.only in (None, "control"):
            _prime(ctx)
        units: list[Unit] = [
            (spec, subject, edges)
            for spec in checks(options)
            for subject, edges in spec.subjects(ctx)
        ]
        results: list[CheckResult | None] = [None] * len(units)
        done = 0
        probing = ThreadPoolExecutor(max_workers=max(1, options.concurrency))
        try:
            if any(spec in (traffic.POSITIVE, traffic.NEGATIVE) for spec, _, _ in units):
                traffic.start_probes(ctx, probing)
            with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
                futures = {pool.submit(_run_unit, ctx, unit): i for i, unit in enumerate(units)}
                try:
                    for future in as_completed(futures):
                        result = future.result()
                        results[futures[future]] = result
                        done += 1
                        if on_result is not None:
                            on_result(result, done, len(units))
                except BaseException:
                    # Ctrl-C: nothing new starts, running probes stop their tasks and return.
                    ctx.cancelled.set()
                    for future in futures:
                        future.cancel()
                    raise
        finally:
            probing.shutdown(wait=True, cancel_futures=True)
            for arn in release(ctx):
                runtime.notice(f"could not deregister probe task definition {arn}")
        report = VerifyReport(
            mesh=runtime.topology.name,
            target=runtime.topology.target,
            results=_ordered(with_likely_causes([r for r in results if r is not None])),
            started_at=wall,
            seconds=time.monotonic() - started,
            only=options.only,
            deep=options.deep,
            edges=list(runtime.topology.edges()),
        )
        save(runtime.state_dir, report)
    return report


CATEGORY_ORDER = {"control": 0, "traffic": 1}


def _ordered(results: list[CheckResult]) -> list[CheckResult]:
    """Control before traffic, then check by check in their declared order (stable)."""
    order = {spec.id: i for i, spec in enumerate(all_checks())}
    return sorted(results, key=lambda r: (CATEGORY_ORDER[r.category], order.get(r.check, 99)))


def runtime_for(
    topology: Topology,
    workdir: Path | None,
    notice: Callable[[str], None] | None = None,
    *,
    timeout: float | None = None,
) -> MeshRuntime:
    """A runtime bound to the already running target: verify never starts a local cloud.

    `timeout` (--timeout) bounds every wait: settling, probe tasks."""
    from meshlink.deploy.runtime import MeshRuntime, RunOptions

    options = RunOptions(timeout=timeout)
    if workdir is not None:
        options.workdir = workdir
    sessions = None
    endpoint_url = None
    if topology.target == "local":
        from meshlink.aws.sessions import SessionFactory
        from meshlink.localcloud.daemon import require_running

        endpoint_url = require_running().endpoint_url
        sessions = SessionFactory.for_topology(topology, endpoint_url)
    runtime = MeshRuntime(topology, options, sessions=sessions, notice=notice)
    runtime.endpoint_url = endpoint_url
    return runtime
