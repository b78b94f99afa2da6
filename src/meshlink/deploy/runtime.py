"""Everything one run over a mesh needs, built lazily and swappable by tests (factories)."""

from __future__ import annotations

import functools
import hashlib
import json
import shlex
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import meshlink
from meshlink.deploy.engine_choice import choose_network_engine
from meshlink.engines.network_engine import ClientSource, NetworkEngine
from meshlink.graph.journal import Journal, state_dir
from meshlink.graph.planner import node_id
from meshlink.topology.model import Topology

if TYPE_CHECKING:
    from meshlink.deadlines import Deadlines
    from meshlink.deploy.live import StackSnapshot
    from meshlink.engines.cdk.synth import Synthesized
    from meshlink.graph.executor import Outcome
    from meshlink.localcloud.info import LocalCloudInfo

__all__ = ["ClientSource", "MeshRuntime", "NetworkEngine", "RunOptions", "synth_key"]


Notice = Callable[[str], None]


@dataclass
class RunOptions:
    """What the user asked for, beyond the topology."""

    # Nodes run at once; None: every ready node (on AWS, botocore throttles per account).
    concurrency: int | None = None
    only: str | None = None  # "network" | "services" | None
    workdir: Path = field(default_factory=Path.cwd)
    # Take over stacks that carry another mesh's identity (--adopt).
    adopt: bool = False
    # plan / status: read what is there, never start or change anything.
    read_only: bool = False
    # The -f file, for the command that resumes a run (None: the default file).
    topology_file: Path | None = None
    # --timeout: every wait's deadline in seconds (None: scaled to the timing in force).
    timeout: float | None = None


def _source_digest() -> str:
    """Hash of the stack code: a cached synthesis is stale once the stacks change."""
    package = Path(__file__).resolve().parent.parent / "stacks"
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def _cdk_version() -> str:
    """aws-cdk-lib's version, looked up once a process (a scan of every path entry)."""
    try:
        return metadata.version("aws-cdk-lib")
    except metadata.PackageNotFoundError:
        return "unknown"


def synth_key(topology: Topology) -> str:
    """Cache key of the mesh's synthesized templates."""
    cdk_version = _cdk_version()
    payload = json.dumps(
        {
            "topology": topology.model_dump(mode="json"),
            "meshlink": meshlink.__version__,
            "aws-cdk-lib": cdk_version,
            "stacks": _source_digest(),
        },
        sort_keys=True,
    )
    return "mesh-" + hashlib.sha256(payload.encode()).hexdigest()[:24]


class MeshRuntime:
    """Sessions, synthesized templates, network engine and journal of one mesh+target."""

    def __init__(
        self,
        topology: Topology,
        options: RunOptions | None = None,
        *,
        sessions: ClientSource | None = None,
        network_engine: Callable[[MeshRuntime], NetworkEngine] | None = None,
        synthesize: Callable[[MeshRuntime], Synthesized] | None = None,
        notice: Notice | None = None,
    ) -> None:
        self.topology = topology
        self.options = options or RunOptions()
        self.state_dir = state_dir(self.options.workdir, topology.name, topology.target)
        self.notice: Notice = notice or (lambda message: None)
        self._sessions = sessions
        self._network_engine_factory = network_engine
        self._synthesize = synthesize
        self._lock = threading.RLock()
        self._synthesized: Synthesized | None = None
        self._network_engine: NetworkEngine | None = None
        self._journal: Journal | None = None
        self._zone_ids: list[str] | None = None
        self._identity_checked = False
        self._deadlines: Deadlines | None = None
        self._stacks: StackSnapshot | None = None
        self.endpoint_url: str | None = None
        # Interface endpoint id -> its state as this run read it, for endpoints nothing in
        # the run changed since (deploy/run.py::up; status.edge_states reads them).
        self.endpoint_states: dict[str, str] = {}

    @property
    def journal(self) -> Journal:
        with self._lock:
            if self._journal is None:
                self._journal = Journal(self.state_dir)
            return self._journal

    @property
    def stacks(self) -> StackSnapshot:
        """The mesh's stacks per account id, read once in this run (deploy/live.py)."""
        with self._lock:
            if self._stacks is None:
                from meshlink.deploy.live import StackSnapshot

                self._stacks = StackSnapshot(
                    self.topology.name,
                    lambda account_id: self.sessions.client(account_id, "cloudformation"),
                )
            return self._stacks

    @property
    def workdir(self) -> Path:
        """Where the user's project (and its .meshlink/ state) lives."""
        return self.options.workdir

    def connect(self) -> ClientSource:
        """The target's sessions, starting the local cloud first when the target is local.

        What `up`, `down`, `plan` and `status` call before their first AWS request. A
        read-only run (plan, status) never starts it: LocalCloudDown (exit 3) instead.
        """
        return self._connect(start=not self.options.read_only)

    @property
    def sessions(self) -> ClientSource:
        """The target's sessions; never starts anything (a local target must be running)."""
        return self._connect(start=False)

    def _connect(self, *, start: bool) -> ClientSource:
        with self._lock:
            if self._sessions is None:
                from meshlink.aws.sessions import SessionFactory

                if self.topology.target == "local":
                    self.endpoint_url = self._local_cloud(start=start).endpoint_url
                self._sessions = SessionFactory.for_topology(self.topology, self.endpoint_url)
            if not self._identity_checked:
                self._check_identities(self._sessions)
            return self._sessions

    def _check_identities(self, sessions: ClientSource) -> None:
        """Every account's caller identity against its id, once, before the first call.

        Only for the real session factory: a test's stand-in has no STS to ask.
        """
        from meshlink.aws.sessions import SessionFactory

        if isinstance(sessions, SessionFactory):
            from meshlink.aws.identity import check_identities

            check_identities(sessions, self.topology)
        self._identity_checked = True

    def _local_cloud(self, *, start: bool) -> LocalCloudInfo:
        from meshlink.localcloud.daemon import ensure_running, require_running

        if not start:
            return require_running()

        def started(cloud: LocalCloudInfo) -> None:
            self.notice(
                f"started the local cloud at {cloud.endpoint_url} (logs: {cloud.log_file}; "
                "stop it with: meshlink local stop)"
            )

        return ensure_running(on_start=started)

    @property
    def deadlines(self) -> Deadlines:
        """Every wait's deadline: --timeout, else scaled to the timing in force (deadlines.py)."""
        with self._lock:
            if self._deadlines is None:
                from meshlink.deadlines import for_target, local_timing

                timing, scale = (
                    local_timing(self.endpoint_url) if self.endpoint_url else ("instant", 1.0)
                )
                self._deadlines = for_target(
                    self.topology.target,
                    timeout=self.options.timeout,
                    timing=timing,
                    time_scale=scale,
                )
            return self._deadlines

    def resume_command(self, action: str) -> str:
        """The command line that runs `action` again on this mesh (resuming where it stopped)."""
        words = ["meshlink"]
        file = self.options.topology_file
        if file is not None:
            words += ["-f", str(file)]
        words.append(action)
        if file is not None and file.resolve().parent != self.workdir.resolve():
            words += ["--workdir", str(self.workdir)]
        return " ".join(shlex.quote(word) for word in words)

    def check_local_cloud(self, action: str, outcomes: Mapping[str, Outcome]) -> None:
        """Raise LocalCloudStopped when nodes failed because the local cloud went away.

        Its nodes then all fail with connection errors after the SDK's retries; one
        environment error (exit 3) with its log and the resume command says it better.
        """
        if self.topology.target != "local" or all(o.ok for o in outcomes.values()):
            return
        from meshlink.localcloud import daemon
        from meshlink.localcloud.errors import LocalCloudStopped

        if daemon.is_running():
            return  # the failures are the nodes' own
        raise LocalCloudStopped(
            endpoint_url=self.endpoint_url,
            log_file=daemon.log_path(),
            action=action,
            resume=self.resume_command(action),
        )

    def zone_ids(self) -> list[str]:
        """The zone IDs every account's subnets use: chosen once for the mesh and kept
        (deploy/zones.py); looked up on first need in a run."""
        with self._lock:
            if self._zone_ids is None:
                from meshlink.deploy.zones import zone_ids_of

                self._zone_ids = zone_ids_of(self)
            return self._zone_ids

    def deployed_engine(self) -> str | None:
        """The network engine that deployed this mesh's networks, per the journal."""
        with self.journal.lock:
            records = list(self.journal.records.items())
        for nid, record in records:
            if nid.startswith(node_id("network", "")) and record.parameters.get("engine"):
                return record.parameters["engine"]
        return None

    def account_id(self, account: str) -> str:
        return self.topology.accounts[account].id

    def client(self, account: str, service: str) -> Any:
        """A client acting in the topology account `account` (its key, not its id)."""
        return self.sessions.client(self.account_id(account), service)

    def synthesized(self) -> Synthesized:
        """The whole mesh synthesized once (cached on disk by topology + code hash)."""
        with self._lock:
            if self._synthesized is None:
                if self._synthesize is not None:
                    self._synthesized = self._synthesize(self)
                else:
                    from meshlink.engines.cdk.synth import load_cached, synth

                    key, cache = synth_key(self.topology), self.state_dir / "synth"
                    # A hit needs neither Node nor aws_cdk (a no-op `up` loads neither).
                    self._synthesized = load_cached(cache / key)
                    if self._synthesized is None:
                        from meshlink.stacks.mesh import mesh_builder

                        self._synthesized = synth(
                            mesh_builder(self.topology), key=key, cache_dir=cache
                        )
            return self._synthesized

    @property
    def network_engine(self) -> NetworkEngine:
        with self._lock:
            if self._network_engine is None:
                if self._network_engine_factory is not None:
                    self._network_engine = self._network_engine_factory(self)
                else:
                    self._network_engine = choose_network_engine(self, self.deployed_engine())
            return self._network_engine
