"""What every engine of `network:<account>` nodes offers (Terraform and CDK alike).

deploy/engine_choice.py picks the engine; the network handler and status ask it for
capabilities (`stack_backed`, `code_fingerprint`) instead of comparing engine names.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:
    from meshlink.engines.cdk.events import StackPlan
    from meshlink.engines.terraform.events import ChangeSummary

# A stack-backed engine plans with a change set; Terraform with its change summary.
NetworkPlan: TypeAlias = "StackPlan | ChangeSummary"

# Engine name (as network.engine and the journal spell it) -> "module:class", imported
# only when asked for: naming an engine must not load Terraform or aws-cdk-lib.
ENGINE_TYPES: dict[str, str] = {
    "cdk": "meshlink.engines.cdk.network:CdkNetworkEngine",
    "terraform": "meshlink.engines.terraform.engine:TerraformNetworkEngine",
}


class ClientSource(Protocol):
    """Per-account boto3 clients (meshlink.aws.sessions.SessionFactory)."""

    def client(self, account_id: str, service: str) -> Any: ...


class NetworkEngine(Protocol):
    """plan / apply / destroy / outputs of each account's network, and what callers ask."""

    name: str  # recorded in the journal: a deployed mesh keeps its engine
    # Each account's network is a CloudFormation stack (status and verify read that
    # stack); otherwise it lives in the engine's own state (Terraform).
    stack_backed: bool

    def available(self, account: str | None = None) -> tuple[bool, str]:
        """Whether the engine can run here, and why (or why not), in one phrase."""
        ...

    def prepare_all(self) -> None:
        """What every account's apply needs first, done once before `up`'s graph runs:
        a network that cannot be built stops `up` with nothing deployed, and the network
        nodes then only wait on AWS."""
        ...

    def plan(self, account: str) -> NetworkPlan:
        """What `apply` would change in the account's network; changes nothing."""
        ...

    def apply(self, account: str) -> Mapping[str, Any]:
        """Create or update the account's network; its outputs (network_contract)."""
        ...

    def destroy(self, account: str) -> object:
        """Delete the account's network (nothing to do when it is not there)."""
        ...

    def outputs(self, account: str) -> Mapping[str, Any]:
        """The deployed network's outputs (network_contract); DeployError when absent."""
        ...

    def code_fingerprint(self, account: str) -> str:
        """Hash of what builds the network: a meshlink whose network code changed re-applies."""
        ...


@runtime_checkable
class ResourceDriftReader(Protocol):
    """An engine whose network lives outside CloudFormation reads its drift itself.

    (A stack-backed network's drift is its stack's, read by the stack handlers.)
    """

    def resource_drift(self, account: str, ec2: Any) -> list[str]:
        """One line per difference between the engine's state and the live network."""
        ...


def engine_type(name: str) -> type[NetworkEngine]:
    """The engine class called `name` (KeyError for an unknown name)."""
    module, _, cls = ENGINE_TYPES[name].partition(":")
    found: type[NetworkEngine] = getattr(importlib.import_module(module), cls)
    return found


def stack_backed(name: str | None) -> bool:
    """Whether networks deployed by engine `name` are CloudFormation stacks.

    Unknown (None: nothing recorded yet) counts as stack-backed, like the CDK engine.
    """
    return name is None or (name in ENGINE_TYPES and engine_type(name).stack_backed)
