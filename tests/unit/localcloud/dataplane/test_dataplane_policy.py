"""VPC isolation, PrivateLink and security-group rules, judged from source addresses."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from meshlink.localcloud.dataplane.model import Endpoint, Eni, EniKind, LoadBalancer, Rule, World
from meshlink.localcloud.dataplane.policy import admit


def eni(
    address: str,
    vpc: str,
    groups: tuple[str, ...],
    kind: EniKind = "task",
    cidr: str = "10.1.1.0/24",
    owner: str = "",
) -> Eni:
    return Eni(
        id=f"eni-{address}",
        kind=kind,
        address=address,
        account="1",
        region="r",
        vpc_id=vpc,
        groups=groups,
        networks=(ipaddress.IPv4Network(cidr),),
        owner=owner or address,
    )


def tcp(port: int, *, group: str | None = None, cidr: str | None = None) -> Rule:
    return Rule(
        "tcp",
        port,
        port,
        cidrs=(ipaddress.IPv4Network(cidr),) if cidr else (),
        groups=(group,) if group else (),
    )


CLIENT = eni("127.8.0.1", "vpc-a", ("sg-client",))
OTHER = eni("127.8.0.2", "vpc-a", ("sg-other",))
SERVER = eni("127.8.0.3", "vpc-a", ("sg-server",))
FOREIGN = eni("127.8.0.4", "vpc-b", ("sg-client",), cidr="10.2.1.0/24")
NLB = eni("127.8.0.5", "vpc-p", ("sg-nlb",), kind="nlb", cidr="10.9.1.0/24", owner="arn:nlb")
ENDPOINT = eni("127.8.0.6", "vpc-a", ("sg-endpoint",), kind="endpoint", owner="vpce-1")


def world(**changes: object) -> World:
    base = World(
        enis={e.address: e for e in (CLIENT, OTHER, SERVER, FOREIGN, NLB, ENDPOINT)},
        groups={
            "sg-server": (tcp(80, group="sg-client"), tcp(81, cidr="10.1.0.0/16")),
            "sg-nlb": (tcp(80, cidr="10.1.0.0/16"),),
            "sg-default": (tcp(22, group="x"),),
        },
        default_groups={"vpc-a": "sg-default"},
        load_balancers={"arn:nlb": LoadBalancer("arn:nlb", NLB, "nlb.example", {80: ()}, True)},
        endpoints={ENDPOINT.address: Endpoint("vpce-1", (ENDPOINT,), ("arn:nlb",), (80,))},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_source_group_rule_admits_only_members_on_its_port() -> None:
    assert admit(world(), CLIENT.address, SERVER, 80)
    assert not admit(world(), OTHER.address, SERVER, 80)
    assert not admit(world(), CLIENT.address, SERVER, 82)


def test_cidr_rule_matches_the_senders_subnet() -> None:
    assert admit(world(), OTHER.address, SERVER, 81)  # 10.1.1.0/24 is inside 10.1.0.0/16


def test_other_vpc_is_refused_whatever_the_groups_say() -> None:
    verdict = admit(world(), FOREIGN.address, SERVER, 80)
    assert not verdict and "isolated" in verdict.reason


def test_endpoint_reaches_its_services_nlb_as_privatelink() -> None:
    assert admit(world(), ENDPOINT.address, NLB, 80)
    # The NLB's group judges PrivateLink traffic when enforcement is on...
    strict = world(groups={"sg-nlb": (tcp(80, cidr="10.7.0.0/16"),)})
    assert not admit(strict, ENDPOINT.address, NLB, 80)
    # ... and not when it is off.
    lax = world(
        load_balancers={"arn:nlb": LoadBalancer("arn:nlb", NLB, "n", {80: ()}, False)}, groups={}
    )
    assert admit(lax, ENDPOINT.address, NLB, 80)


def test_endpoint_of_another_service_is_not_privatelink_to_this_nlb() -> None:
    other = world(endpoints={ENDPOINT.address: Endpoint("vpce-1", (ENDPOINT,), ("arn:x",), (80,))})
    assert not admit(other, ENDPOINT.address, NLB, 80)


def test_host_access_switch() -> None:
    assert admit(world(), "127.0.0.1", SERVER, 80)
    verdict = admit(world(host_access=False), "127.0.0.1", SERVER, 80)
    assert not verdict and "host access is off" in verdict.reason


def test_no_groups_means_the_vpc_default_group_for_tasks_and_nothing_for_nlbs() -> None:
    bare = replace(SERVER, groups=())
    assert not admit(world(), CLIENT.address, bare, 80)
    bare_nlb = replace(NLB, groups=(), vpc_id="vpc-a")
    assert admit(world(), CLIENT.address, bare_nlb, 80)


def test_all_traffic_rule() -> None:
    everything = world(groups={"sg-server": (Rule("-1", None, None, groups=("sg-other",)),)})
    assert admit(everything, OTHER.address, SERVER, 5432)


def test_endpoint_in_the_nlbs_own_vpc_is_privatelink_too() -> None:
    """A consumer in the provider's account: its endpoint shares the NLB's VPC.

    Its traffic is still PrivateLink traffic: the NLB's groups judge it only when
    enforcement is on, exactly as for an endpoint in another VPC.
    """
    local_nlb = replace(NLB, vpc_id="vpc-a")
    lax = world(
        enis={e.address: e for e in (CLIENT, local_nlb, ENDPOINT)},
        load_balancers={"arn:nlb": LoadBalancer("arn:nlb", local_nlb, "n", {80: ()}, False)},
        groups={"sg-nlb": ()},
    )
    verdict = admit(lax, ENDPOINT.address, local_nlb, 80)
    assert verdict and "PrivateLink from vpce-1" in verdict.reason
    # The same VPC's task going straight at the NLB is not PrivateLink: its groups judge.
    assert not admit(lax, CLIENT.address, local_nlb, 80)
    strict = replace(
        lax, load_balancers={"arn:nlb": LoadBalancer("arn:nlb", local_nlb, "n", {80: ()}, True)}
    )
    verdict = admit(strict, ENDPOINT.address, local_nlb, 80)
    assert not verdict and "PrivateLink from vpce-1" in verdict.reason
