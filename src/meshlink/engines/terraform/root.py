"""The per-account root module meshlink writes as main.tf.json (data, not templated HCL)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from meshlink.aws.sessions import assumes_role, session_name
from meshlink.engines.network_contract import NETWORK_OUTPUTS, subnet_share_name
from meshlink.errors import EnvironmentProblem
from meshlink.graph.planner import node_id
from meshlink.topology.model import Account, Topology
from meshlink.topology.naming import default_role_arn
from meshlink.topology.retention import retention_days

AWS_PROVIDER_SOURCE = "hashicorp/aws"
AWS_PROVIDER_VERSION = ">= 5.0, < 6.0"  # as the module's versions.tf: only 5.x is tested
TERRAFORM_VERSION = ">= 1.9.0"  # the module's cross-variable validation (az_ids vs az_count)
TERRAFORM_VERSION_S3 = ">= 1.10.0"  # the s3 backend's use_lockfile (no DynamoDB table)
MODULE_NAME = "network"
ROOT_FILENAME = "main.tf.json"
STATE_FILENAME = "terraform.tfstate"  # the local backend's, in each account's root folder
LOCAL_CREDENTIAL = "meshlink"
DEFAULT_LOCAL_ENDPOINT = "http://localhost:4580"
# Retention periods CloudWatch Logs accepts (days); the module validates against them.
# Services whose endpoint points at the local cloud (what tflocal does for every service
# the provider knows; these are the ones the module and its neighbours use).
LOCAL_ENDPOINT_SERVICES: tuple[str, ...] = (
    "cloudformation",
    "cloudwatch",
    "ec2",
    "ecs",
    "elbv2",
    "iam",
    "kms",
    "logs",
    "ram",
    "route53",
    "s3",
    "secretsmanager",
    "ssm",
    "sts",
)


def default_local_endpoint() -> str:
    """The local cloud's URL when the caller does not pass one (docs/CONTRACTS.md)."""
    port = os.environ.get("MESHLINK_LOCAL_PORT", "").strip()
    return f"http://localhost:{port}" if port.isdigit() else DEFAULT_LOCAL_ENDPOINT


def module_dir() -> Path:
    """The account-network module shipped with meshlink (terraform/modules/account-network)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "terraform" / "modules" / "account-network"
        if (candidate / "main.tf").is_file():
            return candidate
    raise EnvironmentProblem(
        "cannot find the Terraform module terraform/modules/account-network",
        hint="run meshlink from a source checkout, or pass module_source explicitly",
    )


def workdir_for(project_dir: Path, topology: Topology, account: str) -> Path:
    """Where an account's root lives: .meshlink/<mesh>/<target>/terraform/<account>/."""
    return project_dir / ".meshlink" / topology.name / topology.target / "terraform" / account


def _module_source(module: Path, workdir: Path) -> str:
    # Terraform reads a local module only from a path that starts with ./ or ../
    relative = os.path.relpath(module.resolve(), workdir.resolve())
    return relative if relative.startswith("..") else f"./{relative}"


def _tags(topology: Topology, account: str) -> dict[str, str]:
    # meshlink:mesh-id tells this mesh's networks from another project's of the same name.
    return {
        "meshlink:mesh": topology.name,
        "meshlink:mesh-id": topology.identity,
        "meshlink:node": node_id("network", account),
        "meshlink:account": account,
    }


def _endpoints(endpoint_url: str) -> dict[str, str]:
    return {service: endpoint_url for service in LOCAL_ENDPOINT_SERVICES}


def _provider(topology: Topology, name: str, account: Account, endpoint: str) -> dict[str, Any]:
    provider: dict[str, Any] = {
        "region": topology.region,
        "default_tags": [{"tags": _tags(topology, name)}],
    }
    local = topology.target == "local"
    if account.profile and not local:
        provider["profile"] = account.profile
    # On AWS a profile alone means "these credentials are the account"; a role (named,
    # the default MeshlinkDeploy, or the one `principal: role` allows) is assumed on top
    # of them (aws/sessions.py::assumes_role, the same choice for meshlink's own calls).
    # The local cloud is multi-account only through AssumeRole, so there the role is
    # always assumed.
    if assumes_role(account) or local:
        provider["assume_role"] = [
            {
                "role_arn": default_role_arn(account.id, account.role),
                # The operator's session, as meshlink's own calls (aws/sessions.py): the
                # deploy role's trust and CloudTrail see one name for the whole run.
                "session_name": session_name(topology.name),
            }
        ]
    if local:
        provider.update(
            access_key=LOCAL_CREDENTIAL,
            secret_key=LOCAL_CREDENTIAL,
            skip_credentials_validation=True,
            skip_requesting_account_id=True,
            skip_metadata_api_check=True,
            skip_region_validation=True,
            s3_use_path_style=True,
            endpoints=[_endpoints(endpoint)],
        )
    else:
        provider["allowed_account_ids"] = [account.id]
    return provider


def _local_backend() -> dict[str, Any]:
    return {"local": {"path": STATE_FILENAME}}


def _backend(topology: Topology, name: str, account: Account, endpoint: str) -> dict[str, Any]:
    bucket = topology.network.state_bucket
    if not bucket:
        return _local_backend()
    s3: dict[str, Any] = {
        "bucket": bucket,
        "key": f"meshlink/{topology.name}/{topology.target}/{name}/terraform.tfstate",
        "region": topology.region,
        "encrypt": True,
        "use_lockfile": True,
    }
    if topology.target == "local":
        s3.update(
            access_key=LOCAL_CREDENTIAL,
            secret_key=LOCAL_CREDENTIAL,
            skip_credentials_validation=True,
            skip_requesting_account_id=True,
            skip_metadata_api_check=True,
            skip_region_validation=True,
            use_path_style=True,
            endpoints={"s3": endpoint, "sts": endpoint, "iam": endpoint},
        )
    elif account.profile:
        s3["profile"] = account.profile
    return {"s3": s3}


def module_inputs(
    topology: Topology, name: str, zone_ids: Sequence[str] | None = None
) -> dict[str, Any]:
    """The account-network module's inputs for account `name`.

    `zone_ids` are the mesh's zone ids (the same for every account): the module places
    the subnets by zone id. Without them it takes the account's first az_count zones.
    """
    options = topology.network
    inputs: dict[str, Any] = {
        "name": f"{topology.name}-{name}",
        "vpc_cidr": topology.vpc_cidr_of(name),
        "az_count": options.az_count,
        "nat_gateways": options.nat_gateways,
        # Resolved here (the module's null default means the same), so both engines agree.
        "aws_service_endpoints": list(options.service_endpoints()),
        "flow_logs": options.flow_logs,
        "flow_log_retention_days": retention_days(options.flow_log_retention_days),
        "tags": _tags(topology, name),
    }
    if zone_ids is not None:
        inputs["az_ids"] = list(zone_ids)
    participants = topology.shared_with(name)
    if participants:  # a shared network's owner: RAM shares its private subnets
        inputs["share_subnets_with"] = participants
        inputs["share_name"] = subnet_share_name(topology.name, name)
    if topology.logs.kms_key_arn is not None:
        inputs["log_kms_key_arn"] = topology.logs.kms_key_arn
    return inputs


def build_root(
    topology: Topology,
    account: str,
    *,
    workdir: Path,
    module_source: Path | None = None,
    local_endpoint: str | None = None,
    zone_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The main.tf.json document of one account's root module (see module_inputs)."""
    spec = topology.accounts[account]
    endpoint = local_endpoint or default_local_endpoint()
    source = _module_source(module_source or module_dir(), workdir)
    return {
        "//": f"Generated by meshlink for mesh {topology.name}, account {account}. Do not edit.",
        "terraform": {
            "required_version": (
                TERRAFORM_VERSION_S3 if topology.network.state_bucket else TERRAFORM_VERSION
            ),
            "required_providers": {
                "aws": {"source": AWS_PROVIDER_SOURCE, "version": AWS_PROVIDER_VERSION}
            },
            "backend": _backend(topology, account, spec, endpoint),
        },
        "provider": {"aws": [_provider(topology, account, spec, endpoint)]},
        "module": {MODULE_NAME: {"source": source, **module_inputs(topology, account, zone_ids)}},
        "output": {
            name: {"value": f"${{module.{MODULE_NAME}.{name}}}"} for name in NETWORK_OUTPUTS
        },
    }


def shares_data_dir(topology: Topology) -> bool:
    """Whether every account's root can share one initialised data dir (one init per mesh).

    Terraform records the backend's configuration in the data dir: the local backend's is
    the same for every account (a state file in the root's own folder), an S3 key is not.
    """
    return not topology.network.state_bucket


def build_init_root(
    topology: Topology,
    *,
    workdir: Path,
    module_source: Path | None = None,
) -> dict[str, Any]:
    """The root that `init` runs in once per mesh: what every account root needs installed.

    The same provider requirement, module call and (local) backend as the account roots,
    so the providers, modules and lock file it installs serve all. The module call takes
    the first account's inputs: init checks that required arguments are present (Terraform
    1.15 does), never their values.
    """
    source = _module_source(module_source or module_dir(), workdir)
    inputs = module_inputs(topology, topology.network_accounts()[0])
    terraform: dict[str, Any] = {
        "required_version": (
            TERRAFORM_VERSION_S3 if topology.network.state_bucket else TERRAFORM_VERSION
        ),
        "required_providers": {
            "aws": {"source": AWS_PROVIDER_SOURCE, "version": AWS_PROVIDER_VERSION}
        },
    }
    if shares_data_dir(topology):
        terraform["backend"] = _local_backend()
    return {
        "//": f"Generated by meshlink: the one init of mesh {topology.name}. Do not edit.",
        "terraform": terraform,
        "module": {MODULE_NAME: {"source": source, **inputs}},
    }


def render(document: dict[str, Any]) -> str:
    """Stable text (sorted keys) so an unchanged topology writes an identical file."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write_root(
    topology: Topology,
    account: str,
    *,
    workdir: Path,
    module_source: Path | None = None,
    local_endpoint: str | None = None,
    zone_ids: Sequence[str] | None = None,
) -> Path:
    """Write main.tf.json into `workdir` (only when its content changed); return its path."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / ROOT_FILENAME
    text = render(
        build_root(
            topology,
            account,
            workdir=workdir,
            module_source=module_source,
            local_endpoint=local_endpoint,
            zone_ids=zone_ids,
        )
    )
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def written_zone_ids(path: Path) -> list[str] | None:
    """The zone ids a previously written main.tf.json passes (None: none, or no file)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        zone_ids = document["module"][MODULE_NAME].get("az_ids")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if isinstance(zone_ids, list) and all(isinstance(z, str) for z in zone_ids):
        return zone_ids
    return None
