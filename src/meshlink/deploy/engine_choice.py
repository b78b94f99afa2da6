"""network.engine: terraform | cdk | auto, and one plain line saying which and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshlink.errors import EnvironmentProblem, UsageError

if TYPE_CHECKING:
    from meshlink.deploy.runtime import MeshRuntime, NetworkEngine


def _terraform(runtime: MeshRuntime) -> NetworkEngine:
    from meshlink.engines.terraform.engine import TerraformNetworkEngine

    sessions = runtime.sessions  # starts the local cloud first when the target is local
    del sessions
    return TerraformNetworkEngine(
        runtime.topology,
        project_dir=runtime.options.workdir,
        local_endpoint=runtime.endpoint_url,
        zone_ids=runtime.zone_ids,
    )


def _cdk(runtime: MeshRuntime) -> NetworkEngine:
    from meshlink.engines.cdk.network import CdkNetworkEngine

    return CdkNetworkEngine(
        runtime.topology,
        sessions=runtime.sessions,
        cache_dir=runtime.state_dir / "synth",
        zone_ids=runtime.zone_ids,
    )


def choose_network_engine(runtime: MeshRuntime, deployed: str | None = None) -> NetworkEngine:
    """The engine the topology asks for; `auto` falls back to CDK when Terraform can't.

    Networks already deployed keep the engine that deployed them (`deployed`), so that
    status and down read and delete what is really there.
    """
    wanted = runtime.topology.network.engine
    if deployed in ("cdk", "terraform") and wanted in (deployed, "auto"):
        return _cdk(runtime) if deployed == "cdk" else _terraform(runtime)
    if deployed in ("cdk", "terraform"):
        raise UsageError(
            f"the networks were deployed with {deployed}, but network.engine is now {wanted}",
            hint="switching engines would leave the old networks behind: run `meshlink down` "
            "with the old setting first, or set network.engine back",
        )
    if wanted == "cdk":
        return _cdk(runtime)
    terraform = _terraform(runtime)
    available, reason = terraform.available()  # type: ignore[attr-defined]
    if available:
        runtime.notice(f"network engine: terraform ({reason})")
        return terraform
    if wanted == "terraform":
        raise EnvironmentProblem(
            f"network.engine is terraform but the hashicorp/aws provider cannot be had: {reason}",
            hint="put the provider in a plugin cache or filesystem mirror "
            "(TF_PLUGIN_CACHE_DIR / provider_installation in ~/.terraformrc), "
            "or set network.engine: cdk",
        )
    runtime.notice(f"network engine: cdk (Terraform's aws provider is unavailable: {reason})")
    return _cdk(runtime)
