"""The Terraform network engine: one root module per account, accounts in parallel."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from meshlink import subprocess_runner
from meshlink.engines.network_contract import NetworkOutputs, normalise
from meshlink.engines.terraform.events import ChangeSummary, ProgressCallback
from meshlink.engines.terraform.provider import provider_available
from meshlink.engines.terraform.root import (
    ROOT_FILENAME,
    module_dir,
    workdir_for,
    write_root,
    written_zone_ids,
)
from meshlink.engines.terraform.runner import TerraformExecutable, TerraformRunner
from meshlink.errors import DeployError, MeshlinkError
from meshlink.fingerprint import fingerprint
from meshlink.topology.model import Topology

T = TypeVar("T")
DEFAULT_MAX_PARALLEL = 4
PLAN_FILE = "tfplan"
_INIT_STAMP = ".meshlink-init.sha256"


class ParallelFailure(DeployError):
    """Some accounts failed while others ran to the end; `errors` has each one's error."""

    def __init__(self, errors: dict[str, MeshlinkError]):
        self.errors = errors
        names = ", ".join(sorted(errors))
        super().__init__(
            f"terraform failed for {len(errors)} account(s): {names}\n"
            + "\n".join(error.message for error in errors.values())
        )
        # The worst exit code wins: an environment problem (3) outranks a failure (1).
        self.exit_code = max(error.exit_code for error in errors.values())


def run_parallel(
    names: Iterable[str], job: Callable[[str], T], *, max_workers: int = DEFAULT_MAX_PARALLEL
) -> dict[str, T]:
    """Run `job` for every name on a bounded thread pool; every job runs to its end.

    Each job's Terraform runs in its own process, so the threads only wait on pipes.
    A failure does not cancel the others (a half-applied Terraform run is worse than a
    finished one); the failures are raised together afterwards.
    """
    ordered = list(names)
    results: dict[str, T] = {}
    errors: dict[str, MeshlinkError] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(ordered) or 1))) as pool:
        futures = {name: pool.submit(job, name) for name in ordered}
        try:
            for name, future in futures.items():
                try:
                    results[name] = future.result()
                except MeshlinkError as exc:
                    errors[name] = exc
        except KeyboardInterrupt:
            # The Terraform processes sit in their own process groups: pass Ctrl-C on so
            # they stop gracefully (and save state) instead of running to the end.
            for future in futures.values():
                future.cancel()
            subprocess_runner.interrupt_all()
            raise
    if errors:
        raise ParallelFailure(errors)
    return {name: results[name] for name in ordered}


class TerraformNetworkEngine:
    """plan / apply / destroy / outputs of the `network:<account>` nodes, with Terraform.

    Each account gets a root module in `.meshlink/<mesh>/<target>/terraform/<account>/`
    (see root.py). `progress` receives typed events (events.py) and is called from the
    threads that run the accounts, so it must be thread-safe. `local_endpoint` is the
    local cloud's URL for `target: local` (default http://localhost:$MESHLINK_LOCAL_PORT).

    `zone_ids` returns the mesh's zone ids (meshlink.deploy.zones.common_zone_ids), in
    which every account's subnets are placed so that PrivateLink consumers share zones
    with providers. It is called at most once, and only by plan/apply: destroy and
    outputs reuse the zone ids of the root already written (looking zones up needs every
    account's credentials, and reading or deleting a network must not).
    """

    name = "terraform"
    stack_backed = False  # each account's network lives in Terraform state

    def __init__(
        self,
        topology: Topology,
        *,
        project_dir: Path,
        local_endpoint: str | None = None,
        module_source: Path | None = None,
        progress: ProgressCallback | None = None,
        executable: TerraformExecutable | None = None,
        max_parallel: int = DEFAULT_MAX_PARALLEL,
        zone_ids: Callable[[], Sequence[str]] | None = None,
    ):
        self.topology = topology
        self.project_dir = Path(project_dir)
        self.local_endpoint = local_endpoint
        self.module_source = module_source
        self.progress = progress
        self.executable = executable
        self.max_parallel = max_parallel
        self.zone_ids = zone_ids
        self._mesh_zone_ids: tuple[str, ...] | None = None
        self._zone_lock = threading.Lock()

    # -- one account (the shared engine interface) --------------------------------

    def workdir(self, account: str) -> Path:
        return workdir_for(self.project_dir, self.topology, account)

    def runner(self, account: str) -> TerraformRunner:
        return TerraformRunner(
            self.workdir(account),
            account=account,
            executable=self.executable,
            progress=self.progress,
        )

    def mesh_zone_ids(self) -> tuple[str, ...] | None:
        """The mesh's zone ids from the `zone_ids` callable, evaluated once (None without one)."""
        if self.zone_ids is None:
            return None
        # Accounts run in threads; the first one looks the zones up, the others wait.
        with self._zone_lock:
            if self._mesh_zone_ids is None:
                self._mesh_zone_ids = tuple(self.zone_ids())
            return self._mesh_zone_ids

    def prepare(self, account: str, *, resolve_zones: bool = True) -> TerraformRunner:
        """Write the account's main.tf.json and init it unless nothing changed since.

        With `resolve_zones` the root gets the mesh's zone ids (mesh_zone_ids); without,
        it keeps those of the root already written, so the file does not change.
        """
        workdir = self.workdir(account)
        zone_ids = (
            self.mesh_zone_ids() if resolve_zones else written_zone_ids(workdir / ROOT_FILENAME)
        )
        path = write_root(
            self.topology,
            account,
            workdir=workdir,
            module_source=self.module_source,
            local_endpoint=self.local_endpoint,
            zone_ids=zone_ids,
        )
        runner = self.runner(account)
        stamp = workdir / ".terraform" / _INIT_STAMP
        # Re-init when the root or the module tree changes (a new nested module call or
        # provider constraint needs init; plain HCL edits of local modules would not).
        digest = hashlib.sha256(path.read_bytes())
        module = self.module_source or module_dir()
        # The module calls its siblings (../subnet-plan): hash the whole modules/ tree.
        modules = module.parent if module.parent.name == "modules" else module
        for source in sorted(modules.rglob("*.tf")):
            digest.update(source.read_bytes())
        if not (stamp.is_file() and stamp.read_text(encoding="utf-8") == digest.hexdigest()):
            runner.init()
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(digest.hexdigest(), encoding="utf-8")
        return runner

    def plan(self, account: str) -> ChangeSummary:
        """What apply would do in this account (add/change/destroy counts)."""
        return self.prepare(account).plan(out=PLAN_FILE)

    def apply(self, account: str) -> NetworkOutputs:
        """Create or update the account's network; returns its normalised outputs."""
        runner = self.prepare(account)
        runner.apply()
        return self._outputs(runner)

    def destroy(self, account: str) -> ChangeSummary:
        """Delete everything the account's root manages (nothing to do if never applied)."""
        if not (self.workdir(account) / ROOT_FILENAME).is_file():
            return ChangeSummary(account, "destroy")
        return self.prepare(account, resolve_zones=False).destroy()

    def outputs(self, account: str) -> NetworkOutputs:
        """The account's network outputs from Terraform state, normalised."""
        return self._outputs(self.prepare(account, resolve_zones=False))

    def available(self, account: str | None = None) -> tuple[bool, str]:
        """Whether the aws provider can be had (see provider_available)."""
        first = account or next(iter(self.topology.accounts))
        return provider_available(self.workdir(first), executable=self.executable)

    def code_fingerprint(self, account: str) -> str:
        """Hash of the network module's HCL (the same for every account)."""
        del account
        module = module_dir()
        files = sorted(p for p in module.rglob("*.tf") if p.is_file())
        return fingerprint([(str(p.relative_to(module)), p.read_text()) for p in files])

    @staticmethod
    def _outputs(runner: TerraformRunner) -> NetworkOutputs:
        raw = runner.output()
        missing = [name for name in ("vpc_id",) if name not in raw]
        if missing:
            raise DeployError(
                f"terraform state of account {runner.account} has no network outputs",
                hint="run 'meshlink up' to apply the network first",
            )
        return normalise(raw)

    # -- every account ------------------------------------------------------------

    def _all(
        self, accounts: Iterable[str] | None, job: Callable[[str], T], *, warm: bool = True
    ) -> dict[str, T]:
        names = list(accounts if accounts is not None else self.topology.accounts)
        if not names:
            return {}
        if warm:
            # Terraform's plugin cache is not safe for concurrent installs: init one
            # account alone (it fills the cache), then the others reuse it in parallel.
            self.prepare(names[0])
        return run_parallel(names, job, max_workers=self.max_parallel)

    def plan_all(self, accounts: Iterable[str] | None = None) -> dict[str, ChangeSummary]:
        return self._all(accounts, self.plan)

    def apply_all(self, accounts: Iterable[str] | None = None) -> dict[str, NetworkOutputs]:
        return self._all(accounts, self.apply)

    def destroy_all(self, accounts: Iterable[str] | None = None) -> dict[str, ChangeSummary]:
        return self._all(accounts, self.destroy, warm=False)
