"""Rules for the operations fields (scaling, secrets, alerts): located, with a hint."""

from __future__ import annotations

from collections.abc import Iterator

from meshlink.errors import Problem
from meshlink.topology.locations import Locations, PathKey
from meshlink.topology.model import Topology
from meshlink.topology.naming import env_var_for_peer

# What meshlink itself sets in every task's environment (stacks/service.py).
MESHLINK_VARIABLES = ("SERVICE_NAME", "PORT", "MESHLINK_TRACING", "AWS_XRAY_DAEMON_ADDRESS")


def _problem(locations: Locations, path: PathKey, message: str, hint: str) -> Problem:
    line, col = locations.of_value(path)
    return Problem(message, line, col, hint)


def desired_count_within_scaling(topology: Topology, locations: Locations) -> Iterator[Problem]:
    for name, service in topology.services.items():
        scaling = service.scaling
        if scaling is None or scaling.min <= service.desired_count <= scaling.max:
            continue
        yield _problem(
            locations,
            ("services", name, "desired_count"),
            f"service '{name}' starts {service.desired_count} tasks, outside its scaling "
            f"range {scaling.min}..{scaling.max}",
            "set desired_count between scaling.min and scaling.max (auto scaling would move "
            "it there at once)",
        )


def requests_scaling_needs_an_nlb(topology: Topology, locations: Locations) -> Iterator[Problem]:
    for name, service in topology.services.items():
        scaling = service.scaling
        if scaling is None or scaling.requests_target is None or topology.consumers_of(name):
            continue
        yield _problem(
            locations,
            ("services", name, "scaling", "requests_target"),
            f"service '{name}' scales on connections, but nobody consumes it, so it has no "
            "NLB to count them",
            "use cpu_target, or scale it once another service consumes it",
        )


def secrets_are_usable(topology: Topology, locations: Locations) -> Iterator[Problem]:
    for name, service in topology.services.items():
        taken = {
            *MESHLINK_VARIABLES,
            *service.environment,
            *(env_var_for_peer(peer) for peer in service.consumes),
        }
        for variable, secret in service.secrets.items():
            path: PathKey = ("services", name, "secrets", variable)
            if variable in taken:
                yield _problem(
                    locations,
                    path,
                    f"secret {variable} of service '{name}' would replace the environment "
                    f"variable {variable} that the service already gets",
                    "give the secret another variable name",
                )
            region = secret.split(":")[3] if secret.startswith("arn:") else topology.region
            if region != topology.region:
                yield _problem(
                    locations,
                    path,
                    f"secret {variable} of service '{name}' is in {region}, the mesh in "
                    f"{topology.region}: ECS reads secrets only from the task's region",
                    f"replicate the secret to {topology.region} and use that ARN",
                )


def alerts_topic_in_region(topology: Topology, locations: Locations) -> Iterator[Problem]:
    arn = topology.alerts.sns_topic_arn if topology.alerts else None
    if arn is None or arn.split(":")[3] == topology.region:
        return
    yield _problem(
        locations,
        ("alerts", "sns_topic_arn"),
        f"alerts.sns_topic_arn is in {arn.split(':')[3]}; CloudWatch alarms in "
        f"{topology.region} can notify only a topic in {topology.region}",
        f"create the topic in {topology.region}, or use alerts.email",
    )


OPERATIONS_RULES = (
    desired_count_within_scaling,
    requests_scaling_needs_an_nlb,
    secrets_are_usable,
    alerts_topic_in_region,
)
