"""network.engine: terraform | cdk | auto, and one plain line saying which and why."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from meshlink.engines.network_engine import ClientSource, NetworkEngine
from meshlink.errors import EnvironmentProblem, UsageError
from meshlink.topology.model import Topology

if TYPE_CHECKING:
    from meshlink.deadlines import Deadlines


class EngineHost(Protocol):
    """What building an engine needs of a run (meshlink.deploy.runtime.MeshRuntime)."""

    notice: Callable[[str], None]

    @property
    def topology(self) -> Topology: ...

    @property
    def workdir(self) -> Path: ...

    @property
    def state_dir(self) -> Path: ...

    @property
    def endpoint_url(self) -> str | None: ...

    def connect(self) -> ClientSource: ...

    def zone_ids(self) -> Sequence[str]: ...

    @property
    def deadlines(self) -> Deadlines: ...


def _terraform(host: EngineHost) -> NetworkEngine:
    from meshlink.engines.terraform.engine import TerraformNetworkEngine

    # Terraform reaches AWS on its own: for a local target it needs the local cloud
    # running (started here, as `up` does) and its URL.
    host.connect()
    return TerraformNetworkEngine(
        host.topology,
        project_dir=host.workdir,
        local_endpoint=host.endpoint_url,
        zone_ids=host.zone_ids,
    )


def _cdk(host: EngineHost) -> NetworkEngine:
    from meshlink.deploy.estimate import stack_duration
    from meshlink.engines.cdk.network import CdkNetworkEngine
    from meshlink.engines.cdk.waiting import Pacing

    sessions = host.connect()
    scale = host.deadlines.scale
    return CdkNetworkEngine(
        host.topology,
        sessions=sessions,
        cache_dir=host.state_dir / "synth",
        zone_ids=host.zone_ids,
        pacing=Pacing.within(host.deadlines),  # the run's stack deadline and polls
        expect=lambda template: stack_duration(template, scale),
    )


# network.engine (and the journal's record of it) -> how to build that engine.
BUILDERS: dict[str, Callable[[EngineHost], NetworkEngine]] = {
    "cdk": _cdk,
    "terraform": _terraform,
}
FALLBACK = "cdk"  # what `auto` uses when Terraform's provider cannot be had


def choose_network_engine(host: EngineHost, deployed: str | None = None) -> NetworkEngine:
    """The engine the topology asks for; `auto` falls back to CDK when Terraform can't.

    Networks already deployed keep the engine that deployed them (`deployed`), so that
    status and down read and delete what is really there.
    """
    wanted = host.topology.network.engine
    if deployed in BUILDERS and wanted in (deployed, "auto"):
        return BUILDERS[deployed](host)
    if deployed in BUILDERS:
        raise UsageError(
            f"the networks were deployed with {deployed}, but network.engine is now {wanted}",
            hint="switching engines would leave the old networks behind: run `meshlink down` "
            "with the old setting first, or set network.engine back",
        )
    if wanted == FALLBACK:
        return BUILDERS[FALLBACK](host)
    terraform = BUILDERS["terraform"](host)
    available, reason = terraform.available()
    if available:
        host.notice(f"network engine: terraform ({reason})")
        return terraform
    if wanted == "terraform":
        raise EnvironmentProblem(
            f"network.engine is terraform but the hashicorp/aws provider cannot be had: {reason}",
            hint="put the provider in a plugin cache or filesystem mirror "
            "(TF_PLUGIN_CACHE_DIR / provider_installation in ~/.terraformrc), "
            "or set network.engine: cdk",
        )
    host.notice(f"network engine: {FALLBACK} (Terraform's aws provider is unavailable: {reason})")
    return BUILDERS[FALLBACK](host)
