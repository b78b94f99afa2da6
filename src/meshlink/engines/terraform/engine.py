"""The Terraform network engine: one root module per account, accounts in parallel."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from meshlink import subprocess_runner
from meshlink.engines.network_contract import NetworkOutputs, normalise
from meshlink.engines.terraform.cli_config import CliSetup
from meshlink.engines.terraform.drift import network_drift
from meshlink.engines.terraform.errors import TerraformUnavailable
from meshlink.engines.terraform.events import ChangeSummary, ProgressCallback
from meshlink.engines.terraform.provider import cli_setup, unavailable_reason
from meshlink.engines.terraform.root import (
    ROOT_FILENAME,
    STATE_FILENAME,
    build_init_root,
    module_dir,
    render,
    shares_data_dir,
    workdir_for,
    write_root,
    written_zone_ids,
)
from meshlink.engines.terraform.runner import TerraformExecutable, TerraformRunner
from meshlink.engines.terraform.state import state_outputs
from meshlink.errors import DeployError, MeshlinkError
from meshlink.topology.model import Topology

T = TypeVar("T")
DEFAULT_MAX_PARALLEL = 4
PLAN_FILE = "tfplan"
_INIT_STAMP = ".meshlink-init.sha256"
SHARED_DIRNAME = ".shared"  # beside the account roots; account keys never start with a dot
LOCK_FILENAME = ".terraform.lock.hcl"
ENV_SHARED_PROVIDER = "MESHLINK_TF_SHARED_PROVIDER"


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
        self._init_lock = threading.Lock()
        self._setup_lock = threading.Lock()
        self._setup: CliSetup | None = None
        self._mesh_initialised = False

    # -- one account (the shared engine interface) --------------------------------

    def workdir(self, account: str) -> Path:
        return workdir_for(self.project_dir, self.topology, account)

    def shared_dir(self) -> Path:
        """Where the mesh's one init runs: its providers, modules and lock file serve all."""
        return self.workdir(SHARED_DIRNAME)

    def setup(self) -> CliSetup:
        """meshlink's CLI config for this mesh's runs (cli_config), written once per engine."""
        with self._setup_lock:
            if self._setup is None:
                self._setup = cli_setup(self.shared_dir())
            return self._setup

    def runner(self, account: str) -> TerraformRunner:
        env = None
        if account != SHARED_DIRNAME and shares_data_dir(self.topology):
            env = {"TF_DATA_DIR": str(self.shared_dir() / ".terraform")}
        return TerraformRunner(
            self.workdir(account),
            account=account,
            executable=self.executable,
            progress=self.progress,
            env=env,
            setup=self.setup(),
            share_provider=self.provider_sharing(),
        )

    def provider_sharing(self) -> tuple[str, ...] | None:
        """Whether each command attaches to one provider process (provider_server.py).

        The variables listed are kept from the provider. None: Terraform starts its own,
        as asked by MESHLINK_TF_SHARED_PROVIDER=0, or where the provider cannot be
        configured twice (a custom CA bundle against AWS).
        """
        if os.environ.get(ENV_SHARED_PROVIDER, "1").strip() == "0":
            return None
        if self.topology.target == "local":
            return ("AWS_CA_BUNDLE",)  # plain HTTP to the local cloud
        return None if os.environ.get("AWS_CA_BUNDLE") else ()

    def mesh_zone_ids(self) -> tuple[str, ...] | None:
        """The mesh's zone ids from the `zone_ids` callable, evaluated once (None without one)."""
        if self.zone_ids is None:
            return None
        # Accounts run in threads; the first one looks the zones up, the others wait.
        with self._zone_lock:
            if self._mesh_zone_ids is None:
                self._mesh_zone_ids = tuple(self.zone_ids())
            return self._mesh_zone_ids

    def init_mesh(self) -> None:
        """`terraform init` once per mesh (and again only when what it installs changes).

        It runs in the shared root (root.build_init_root); every account root then uses
        its data dir (TF_DATA_DIR) when the backend allows (root.shares_data_dir) and
        always its lock file, so the aws provider is installed and hashed once.
        """
        setup = self.setup()
        with self._init_lock:
            if self._mesh_initialised:
                return
            shared = self.shared_dir()
            shared.mkdir(parents=True, exist_ok=True)
            root = shared / ROOT_FILENAME
            text = render(
                build_init_root(self.topology, workdir=shared, module_source=self.module_source)
            )
            if not root.is_file() or root.read_text(encoding="utf-8") != text:
                root.write_text(text, encoding="utf-8")
            self._init_when_changed(self.runner(SHARED_DIRNAME), root, setup)
            self._mesh_initialised = True

    def _init_when_changed(self, runner: TerraformRunner, root: Path, setup: CliSetup) -> None:
        """Init unless the root, the module tree and the provider sources are as last time."""
        stamp = runner.workdir / ".terraform" / _INIT_STAMP
        digest = hashlib.sha256(root.read_bytes())
        digest.update(self.module_tree_digest().encode())
        if setup.config_path is not None:
            digest.update(setup.config_path.read_bytes())
        unchanged = stamp.is_file() and stamp.read_text(encoding="utf-8") == digest.hexdigest()
        if unchanged and (runner.workdir / LOCK_FILENAME).is_file():
            return
        runner.init()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest.hexdigest(), encoding="utf-8")

    def module_tree_digest(self) -> str:
        """Hash of every .tf file the root calls: the module and its siblings (subnet-plan)."""
        module = self.module_source or module_dir()
        modules = module.parent if module.parent.name == "modules" else module
        digest = hashlib.sha256()
        for source in sorted(modules.rglob("*.tf")):
            digest.update(str(source.relative_to(modules)).encode())
            digest.update(source.read_bytes())
        return digest.hexdigest()

    def _share_lock_file(self, workdir: Path) -> None:
        shared = self.shared_dir() / LOCK_FILENAME
        if not shared.is_file():
            return
        target = workdir / LOCK_FILENAME
        text = shared.read_text(encoding="utf-8")
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")

    def prepare(self, account: str, *, resolve_zones: bool = True) -> TerraformRunner:
        """Write the account's main.tf.json and make it ready to run (see init_mesh).

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
        self.init_mesh()
        self._share_lock_file(workdir)
        runner = self.runner(account)
        if not shares_data_dir(self.topology):
            # An S3 key per account: each root keeps its own data dir and backend init.
            self._init_when_changed(runner, path, self.setup())
        return runner

    def plan(self, account: str) -> ChangeSummary:
        """What apply would do in this account (add/change/destroy counts)."""
        return self.prepare(account).plan(out=PLAN_FILE)

    def apply(self, account: str) -> NetworkOutputs:
        """Create or update the account's network; returns its normalised outputs."""
        runner = self.prepare(account)
        runner.apply()
        return self._outputs(account, runner)

    def destroy(self, account: str) -> ChangeSummary:
        """Delete everything the account's root manages (nothing to do if never applied)."""
        if not (self.workdir(account) / ROOT_FILENAME).is_file():
            return ChangeSummary(account, "destroy")
        return self.prepare(account, resolve_zones=False).destroy()

    def outputs(self, account: str) -> NetworkOutputs:
        """The account's network outputs from Terraform state, normalised.

        With the local backend they are read from the state file: no Terraform command,
        no provider start. An S3 backend's state is read through `terraform output`.
        """
        return self._outputs(account, None)

    def _outputs(self, account: str, runner: TerraformRunner | None) -> NetworkOutputs:
        """Outputs from the state file, or through `runner` (prepared if not given) on S3."""
        if shares_data_dir(self.topology):
            raw = state_outputs(self.workdir(account) / STATE_FILENAME) or {}
        else:
            raw = (runner or self.prepare(account, resolve_zones=False)).output()
        return self._normalised(account, raw)

    def prepare_all(self) -> None:
        """Nothing: each account's root module is written and initialised as it runs
        (`prepare`; `available` already ran the mesh's init when the engine was chosen)."""

    def available(self, account: str | None = None) -> tuple[bool, str]:
        """Whether Terraform can install hashicorp/aws here: the mesh's real init says.

        Detection and init agree because init uses the CLI config detection wrote
        (cli_config); an init that still fails is the reason to fall back.
        """
        del account  # one init serves every account
        try:
            self.init_mesh()
        except TerraformUnavailable as exc:
            return False, unavailable_reason(exc)
        except MeshlinkError as exc:
            return False, f"terraform init failed: {exc.message.splitlines()[0]}"
        return True, self.setup().describe()

    def resource_drift(self, account: str, ec2: Any) -> list[str]:
        """What of the account's network differs from Terraform state (drift.network_drift).

        The local backend's state is read from its file; an S3 one through `state pull`.
        Neither starts the provider.
        """
        if shares_data_dir(self.topology):
            return network_drift(self.workdir(account) / STATE_FILENAME, ec2)
        if not (self.workdir(account) / ROOT_FILENAME).is_file():
            return []
        return network_drift(self.prepare(account, resolve_zones=False).state_pull(), ec2)

    def code_fingerprint(self, account: str) -> str:
        """Hash of the HCL the root runs: the module and its siblings (the same for all)."""
        del account
        return self.module_tree_digest()

    @staticmethod
    def _normalised(account: str, raw: dict[str, object]) -> NetworkOutputs:
        if "vpc_id" not in raw:
            raise DeployError(
                f"terraform state of account {account} has no network outputs",
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
