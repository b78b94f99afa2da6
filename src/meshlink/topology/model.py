"""Pydantic models of the topology file (the boundary: frozen, no unknown keys)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meshlink.topology.naming import default_role_arn as _role_arn

NAME_PATTERN = r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$"
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
DEFAULT_IMAGE = "ghcr.io/meshlink/meshlink-service:0.1.0"
# verify's probe task: the bundled service's image (its `probe-all` command). The local
# cloud runs it as a process; target aws needs it pushed (`make image`) and pinned by
# digest (topology/rules.py::aws_probe_image_is_pinned).
DEFAULT_PROBE_IMAGE = DEFAULT_IMAGE
DEFAULT_REGION = "us-east-1"
# A mesh id: 8-32 lower-case hex digits (`meshlink init` writes 16), or a UUID.
MESH_ID_PATTERN = (
    r"^(?:[0-9a-f]{8,32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)

Name = Annotated[str, Field(pattern=NAME_PATTERN, min_length=1, max_length=63)]
Port = Annotated[int, Field(ge=1, le=65535)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")]
# A Secrets Manager secret: its ARN, or its name (1-512 of letters, digits and /_+=.@-).
SecretRef = Annotated[
    str,
    Field(
        pattern=r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"
        r"|[A-Za-z0-9/_+=.@-]{1,512})$"
    ),
]
# AWS services a VPC may reach through VPC endpoints (network.aws_service_endpoints);
# s3 is a gateway endpoint, the others interface endpoints.
AwsServiceEndpoint = Literal["ecr.api", "ecr.dkr", "logs", "s3", "sts"]
AWS_SERVICE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "logs", "s3", "sts")
# What a Fargate task in a subnet without NAT needs to pull an ECR image and use awslogs
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
FARGATE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "logs", "s3")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class NetworkOptions(_Frozen):
    """How each account's network is built."""

    mode: Literal["per_account", "shared"] = Field(
        "per_account",
        description="per_account: a VPC in each account. shared: one VPC, in the networking "
        "account (network.account), whose private subnets it shares with the other accounts "
        "through AWS RAM; they run their services, NLBs and endpoint services in those subnets, "
        "and the networking account creates every interface endpoint (AWS lets only a VPC's "
        "owner create them). On AWS the accounts must be in one organization, with RAM sharing "
        "with it enabled by its management account: AWS shares subnets only within an "
        "organization.",
    )
    account: str | None = Field(
        None,
        description="With mode shared: the key (under accounts) of the networking account, "
        "which owns the VPC; only it needs vpc_cidr.",
    )
    engine: Literal["terraform", "cdk", "auto"] = Field(
        "auto", description="Which engine builds each account's VPC; auto prefers Terraform."
    )
    az_count: int = Field(2, ge=1, le=6, description="Availability zones per VPC.")
    nat_gateways: Literal["none", "single", "per_az"] = Field(
        "single", description="NAT gateways for the private subnets."
    )
    flow_logs: bool = Field(True, description="VPC flow logs to CloudWatch Logs.")
    flow_log_retention_days: int = Field(
        30,
        ge=1,
        le=3653,
        description="Days CloudWatch Logs keeps the flow logs (rounded up to a period it accepts).",
    )
    state_bucket: str | None = Field(
        None, description="S3 bucket for Terraform state (local backend when unset)."
    )
    aws_service_endpoints: list[AwsServiceEndpoint] | None = Field(
        None,
        description="VPC endpoints to AWS services in each VPC's private subnets: interface "
        "endpoints with private DNS (ecr.api, ecr.dkr, logs, sts) and an s3 gateway endpoint "
        "on the private route tables. Unset: ecr.api, ecr.dkr, logs and s3 when nat_gateways "
        "is none (what Fargate needs to pull an ECR image and ship its logs), none otherwise. "
        "A list: exactly those ([] for none); add sts when your tasks call AWS STS.",
    )

    @field_validator("aws_service_endpoints")
    @classmethod
    def _distinct_endpoints(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("aws_service_endpoints lists a service twice")
        return value

    def service_endpoints(self) -> tuple[str, ...]:
        """The AWS service endpoints each VPC gets, in a fixed order (the default resolved)."""
        if self.aws_service_endpoints is None:
            wanted: list[str] = list(FARGATE_ENDPOINTS) if self.nat_gateways == "none" else []
        else:
            wanted = list(self.aws_service_endpoints)
        return tuple(s for s in AWS_SERVICE_ENDPOINTS if s in wanted)


class Account(_Frozen):
    """One AWS account of the mesh and its VPC."""

    id: str = Field(pattern=ACCOUNT_ID_PATTERN, description="12-digit AWS account id.")
    vpc_cidr: str | None = Field(
        None,
        description="IPv4 CIDR of the account's VPC: /16 up to the smallest that holds three "
        "subnets per AZ (/25 with az_count 2). Required for every account with network.mode "
        "per_account; with shared, only the networking account has a VPC (and a CIDR).",
    )
    role: str | None = Field(
        None,
        description="Role name (or ARN) meshlink assumes to deploy in this account "
        "(MeshlinkDeploy when unset).",
    )
    profile: str | None = Field(None, description="AWS profile used instead of a role.")
    principal: str = Field(
        "root",
        description="What providers allow for this account's endpoints: 'root' (the "
        "account), 'role' (only the role meshlink deploys with), or a role/user ARN of "
        "this account (no path). Never '*'.",
    )

    @field_validator("principal")
    @classmethod
    def _principal_shape(cls, value: str) -> str:
        if value in ("root", "role"):
            return value
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@-]+", value):
            raise ValueError(
                "principal must be 'root', 'role', or arn:aws:iam::<id>:role/<name> "
                "(or :user/<name>) with no path"
            )
        return value

    def principal_arn(self) -> str:
        """The ARN endpoint services allow for this account."""
        if self.principal == "root":
            return f"arn:aws:iam::{self.id}:root"
        if self.principal == "role":
            return _role_arn(self.id, self.role)
        return self.principal

    @field_validator("role")
    @classmethod
    def _role_shape(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.startswith("arn:"):
            if not re.fullmatch(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@-]+", value):
                raise ValueError("role ARN must look like arn:aws:iam::<12 digits>:role/<name>")
        elif not re.fullmatch(r"[\w+=,.@-]{1,64}", value):
            raise ValueError("role must be a role name (1-64 of letters, digits, +=,.@_-)")
        return value


class LocalOptions(_Frozen):
    """Settings that apply only in the local cloud."""

    command: list[str] | None = Field(
        None, description="Command a task runs in the local cloud instead of the bundled service."
    )


class Scaling(_Frozen):
    """Application Auto Scaling of a service's task count (target tracking)."""

    min: int = Field(ge=0, le=100, description="Fewest tasks.")
    max: int = Field(ge=1, le=100, description="Most tasks.")
    cpu_target: float | None = Field(
        None, gt=0, le=100, description="Average CPU utilisation (%) to hold the tasks at."
    )
    requests_target: float | None = Field(
        None,
        gt=0,
        description="New connections per task per minute to hold the tasks at (the NLB's "
        "NewFlowCount over the running tasks; NLBs count connections, not requests).",
    )

    @model_validator(mode="after")
    def _one_target(self) -> Scaling:
        if (self.cpu_target is None) == (self.requests_target is None):
            raise ValueError("scaling needs exactly one of cpu_target and requests_target")
        if self.min > self.max:
            raise ValueError(f"scaling.min ({self.min}) is more than scaling.max ({self.max})")
        return self


class LogOptions(_Frozen):
    """How the mesh's CloudWatch log groups are encrypted."""

    kms_key_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]{1,128}$",
        description="A customer managed KMS key (its key ARN, in the mesh's region) for every "
        "log group meshlink creates; its key policy must let CloudWatch Logs use it. Unset: "
        "CloudWatch Logs' own encryption.",
    )


class Alerts(_Frozen):
    """Where the mesh's alarms notify: an e-mail address or an SNS topic you own."""

    email: str | None = Field(
        None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Address subscribed to a topic meshlink creates (AWS mails a confirmation).",
    )
    sns_topic_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$",
        description="An SNS topic of yours, in the mesh's region, that the alarms publish to.",
    )

    @model_validator(mode="after")
    def _one_destination(self) -> Alerts:
        if (self.email is None) == (self.sns_topic_arn is None):
            raise ValueError("alerts needs exactly one of email and sns_topic_arn")
        return self


class Service(_Frozen):
    """One microservice: provider of an endpoint service, consumer of others."""

    account: str = Field(description="Key of the account (under accounts) that runs it.")
    port: Port = Field(description="TCP port the service listens on.")
    image: str = Field(DEFAULT_IMAGE, min_length=1, description="Container image.")
    desired_count: int = Field(2, ge=0, le=100, description="Fargate tasks.")
    cpu: Literal[256, 512, 1024, 2048, 4096] = Field(256, description="Fargate CPU units.")
    memory: int = Field(512, ge=512, le=30720, description="Fargate memory (MiB).")
    consumes: list[str] = Field(
        default_factory=list, description="Services (or external services) this one calls."
    )
    acceptance_required: bool = Field(
        True,
        description="Connections to this service wait for meshlink to accept them (meshlink "
        "accepts exactly its consumers' endpoints, so no other principal of an allowed "
        "account can connect).",
    )
    health_path: str = Field("/health", pattern=r"^/", description="Health-check path.")
    environment: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables for the task."
    )
    local: LocalOptions | None = Field(None, description="Settings used only by the local cloud.")
    scaling: Scaling | None = Field(
        None, description="Auto scaling of the task count (unset: desired_count tasks, fixed)."
    )
    secrets: dict[EnvName, SecretRef] = Field(
        default_factory=dict,
        description="Environment variables read from Secrets Manager when a task starts: "
        "NAME: <secret ARN, or name in the service's account and region>. The value is never "
        "in a template, the journal or meshlink's output; only this service may read them.",
    )
    tracing: Literal["xray"] | None = Field(
        None,
        description="xray: an X-Ray daemon sidecar, and the bundled service sends traces of "
        "its routes and peer calls to it.",
    )
    log_retention_days: int = Field(
        30,
        ge=1,
        le=3653,
        description="Days CloudWatch Logs keeps the service's logs (rounded up to a period it "
        "accepts).",
    )


class ExternalService(_Frozen):
    """An endpoint service meshlink consumes but does not own."""

    service_name: str = Field(
        pattern=r"^com\.amazonaws\.",
        description="Endpoint service name, e.g. com.amazonaws.vpce.us-east-1.vpce-svc-0abc.",
    )
    port: Port = Field(description="TCP port the external service listens on.")


class Topology(_Frozen):
    """The whole mesh."""

    name: Name = Field(description="Mesh name; prefixes every stack and resource name.")
    mesh_id: str | None = Field(
        None,
        max_length=64,
        description="The mesh's identity (8-32 hex digits or a UUID; `meshlink init` writes "
        "one). Its stacks carry it; another mesh id's stacks are never taken over without "
        "--adopt. Without it the identity is derived from the name.",
    )
    region: str = Field(
        DEFAULT_REGION,
        pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$",
        description="AWS region of every account's network and services.",
    )
    target: Literal["local", "aws"] = Field("local", description="local cloud or real AWS.")
    network: NetworkOptions = Field(
        default_factory=NetworkOptions, description="How each account's network is built."
    )
    accounts: dict[Name, Account] = Field(
        min_length=1, description="The AWS accounts of the mesh, by key (services name this key)."
    )
    services: dict[Name, Service] = Field(
        min_length=1, description="The microservices of the mesh, by name."
    )
    external: dict[Name, ExternalService] = Field(
        default_factory=dict,
        description="Endpoint services meshlink consumes but does not own, by name.",
    )
    dashboard: bool = Field(
        False,
        description="One CloudWatch dashboard for the mesh, in its first account: each edge's "
        "NLB healthy hosts and processed bytes, each service's ECS CPU and memory (a "
        "dashboard beyond an account's first three costs $3 a month).",
    )
    alerts: Alerts | None = Field(
        None, description="Where the alarms notify (unset: alarms without notifications)."
    )
    logs: LogOptions = Field(
        default_factory=LogOptions, description="How the mesh's log groups are encrypted."
    )
    environments: dict[Name, dict[str, Any]] = Field(
        default_factory=dict,
        description="Overlays by environment name (e.g. dev, staging): `meshlink --env "
        "<name>` lays one over the rest of this file (mappings merge, other values are "
        "replaced) and deploys it as mesh `<name>-<env>`, with its own stacks and state.",
    )
    probe_image: str = Field(
        DEFAULT_PROBE_IMAGE,
        min_length=1,
        description="Image of verify's probe task (one per account, run in each consumer's "
        "network): the bundled service's image, which has the probe-all command. Target aws "
        "needs it pushed (`make image`) and pinned by digest (<registry>/meshlink-service@"
        "sha256:<digest>). `meshlink verify --probe-image` overrides it for one run.",
    )

    @property
    def identity(self) -> str:
        """What the mesh's stacks carry in their meshlink:mesh-id tag.

        Without a mesh_id (topologies written before mesh ids) it is derived from the
        name, so every file with that name is the same mesh.
        """
        return self.mesh_id or f"name:{self.name}"

    def edges(self) -> list[tuple[str, str]]:
        """Every consumer -> provider pair, meshlink-owned or external, in file order."""
        return [(name, peer) for name, svc in self.services.items() for peer in svc.consumes]

    def internal_edges(self) -> list[tuple[str, str]]:
        """Consumer -> provider pairs where meshlink owns the provider."""
        return [(c, p) for c, p in self.edges() if p in self.services]

    def consumers_of(self, provider: str) -> list[str]:
        return [c for c, p in self.edges() if p == provider]

    def services_in(self, account: str) -> list[str]:
        return [n for n, s in self.services.items() if s.account == account]

    def account_of(self, service: str) -> Account:
        return self.accounts[self.services[service].account]

    @property
    def shared_network(self) -> bool:
        """Whether one account's VPC serves every account (network.mode shared)."""
        return self.network.mode == "shared"

    def network_account(self, account: str) -> str:
        """The key of the account whose VPC `account`'s resources live in: itself, or the
        networking account when the network is shared."""
        if self.shared_network and self.network.account is not None:
            return self.network.account
        return account

    def network_accounts(self) -> list[str]:
        """Keys of the accounts that own a VPC (a network node), in file order."""
        return [a for a in self.accounts if self.network_account(a) == a]

    def participants(self) -> list[str]:
        """Keys of the accounts a shared network's subnets are shared with (none otherwise)."""
        return [a for a in self.accounts if self.network_account(a) != a]

    def shared_with(self, account: str) -> list[str]:
        """The account ids `account`'s network shares its private subnets with, sorted
        (none unless it is a shared network's owner)."""
        if not self.shared_network or self.network.account != account:
            return []
        return sorted({self.accounts[p].id for p in self.participants()})

    def vpc_cidr_of(self, account: str) -> str:
        """The CIDR of the VPC `account` owns (rules ensure every network account has one)."""
        cidr = self.accounts[account].vpc_cidr
        if cidr is None:
            raise ValueError(f"account {account!r} owns no VPC: it has no vpc_cidr")
        return cidr

    def endpoints_account(self, consumer: str) -> str:
        """The key of the account that creates `consumer`'s interface endpoints: the VPC's
        owner (AWS refuses CreateVpcEndpoint to a participant of a shared VPC)."""
        return self.network_account(self.services[consumer].account)

    def allowed_principals(self, service: str) -> list[str]:
        """The principal of every account that creates an endpoint to `service` (each
        consumer's, or the networking account's when the network is shared): sorted,
        deduplicated, never "*"."""
        return sorted(
            {
                self.accounts[self.endpoints_account(c)].principal_arn()
                for c in self.consumers_of(service)
            }
        )

    def port_of(self, peer: str) -> int:
        """Port of a consumed service, meshlink-owned or external."""
        if peer in self.services:
            return self.services[peer].port
        return self.external[peer].port
