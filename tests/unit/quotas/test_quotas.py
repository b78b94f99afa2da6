"""Per quota: a mesh that breaks it is refused with exit 2, the quota's name and code.

Meshes that break a topology-decided quota go through the real CLI (`validate` and
`plan`, which fails before it needs the local cloud). Listeners per NLB (meshlink makes
one per NLB) and rules per security group (at most a handful per group) cannot be broken
under AWS's defaults: those are shown with a lower applied value, as an account could
have, through a stub Service Quotas client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.quotas.applied import AppliedLimits
from meshlink.quotas.check import QuotaExceeded, check, default_limits, enforce
from meshlink.quotas.limits import QUOTAS, Quota
from meshlink.quotas.templates import security_group_rules
from meshlink.topology.loader import load_topology, load_topology_text
from tests.helpers import EXAMPLES

ACCOUNTS = {
    "prov": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"},
    "cons1": {"id": "222222222222", "vpc_cidr": "10.2.0.0/16"},
    "cons2": {"id": "333333333333", "vpc_cidr": "10.3.0.0/16"},
}

# target aws, with the probe image pinned by digest as it must be there.
AWS_TARGET = "target: aws\nprobe_image: registry.example/probe@sha256:" + "0" * 64


def write(tmp_path: Path, services: dict[str, Any], **extra: Any) -> Path:
    data = {"name": "q", "region": "us-east-1", "accounts": ACCOUNTS, "services": services, **extra}
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def fifty_one_providers() -> dict[str, Any]:
    """51 consumed services in one account; consumers split so no VPC has over 50 endpoints."""
    services: dict[str, Any] = {f"p{i}": {"account": "prov", "port": 8000 + i} for i in range(51)}
    services["c1"] = {"account": "cons1", "port": 9000, "consumes": [f"p{i}" for i in range(26)]}
    services["c2"] = {
        "account": "cons2",
        "port": 9000,
        "consumes": [f"p{i}" for i in range(26, 51)],
    }
    return services


def fifty_one_endpoints() -> tuple[dict[str, Any], dict[str, Any]]:
    """One service consuming 51 external services: 51 interface endpoints in its VPC."""
    external = {
        f"x{i}": {"service_name": f"com.amazonaws.vpce.us-east-1.vpce-svc-{i:017x}", "port": 443}
        for i in range(51)
    }
    services = {"c1": {"account": "cons1", "port": 9000, "consumes": list(external)}}
    return services, external


def run(path: Path, command: str) -> tuple[int, str]:
    workdir = ["--workdir", str(path.parent)] if command == "plan" else []
    result = CliRunner().invoke(app, ["-f", str(path), command, *workdir], catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_nlbs_and_endpoint_services_per_region(tmp_path: Path, command: str) -> None:
    path = write(tmp_path, fifty_one_providers())
    code, out = run(path, command)
    assert code == 2, out
    assert (
        "account 'prov' would have 51 NLBs: over the quota Network Load Balancers per Region "
        "(L-69A177A2) of 50" in out
    )
    assert "51 endpoint services: over the quota VPC endpoint services per Region" in out
    assert "--service-code elasticloadbalancing --quota-code L-69A177A2" in out
    assert "Interface VPC endpoints per VPC" not in out  # 26 and 25 per consumer VPC


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_interface_endpoints_per_vpc(tmp_path: Path, command: str) -> None:
    services, external = fifty_one_endpoints()
    path = write(tmp_path, services, external=external)
    code, out = run(path, command)
    assert code == 2, out
    assert (
        "the VPC of account 'cons1' would have 51 interface endpoints: over the quota "
        "Interface VPC endpoints per VPC (L-29B6F2EB) of 50 (AWS default)"
    ) in out
    assert "--service-code vpc --quota-code L-29B6F2EB" in out
    assert "NLBs" not in out  # external services need no NLB of ours


def test_aws_service_endpoints_count_toward_the_vpc(tmp_path: Path) -> None:
    """48 peers + ecr.api, ecr.dkr, logs (no NAT) = 51 interface endpoints."""
    services, external = fifty_one_endpoints()
    services["c1"]["consumes"] = services["c1"]["consumes"][:48]
    path = write(tmp_path, services, external=external, network={"nat_gateways": "none"})
    code, out = run(path, "validate")
    assert code == 2, out
    assert "51 interface endpoints" in out and "3 to AWS services (ecr.api, ecr.dkr, logs)" in out
    # file:line:col of the account's key
    assert f"{path}:" in out


def test_the_json_of_validate_lists_the_problem(tmp_path: Path) -> None:
    path = write(tmp_path, fifty_one_providers())
    result = CliRunner().invoke(
        app, ["--json", "-f", str(path), "validate"], catch_exceptions=False
    )
    assert result.exit_code == 2
    problems = yaml.safe_load(result.stdout)["problems"]
    assert any("Network Load Balancers per Region" in p["message"] for p in problems)


class StubQuotas:
    """Service Quotas of one account: applied values by code; others NoSuchResource."""

    def __init__(self, values: dict[str, float]):
        self.values = values
        self.calls: list[tuple[str, str]] = []

    def get_service_quota(self, *, ServiceCode: str, QuotaCode: str) -> dict[str, Any]:
        self.calls.append((ServiceCode, QuotaCode))
        if QuotaCode not in self.values:
            error = Exception("not tracked")
            error.response = {"Error": {"Code": "NoSuchResourceException"}}  # type: ignore[attr-defined]
            raise error
        return {"Quota": {"QuotaCode": QuotaCode, "Value": self.values[QuotaCode]}}


def test_applied_values_replace_the_defaults() -> None:
    stub = StubQuotas({"L-69A177A2": 200.0})
    limits = AppliedLimits(lambda account: stub)
    assert limits("prov", QUOTAS["nlbs_per_region"]) == (200, True)
    assert limits("prov", QUOTAS["interface_endpoints_per_vpc"]) == (50, False)  # not tracked
    assert limits("prov", QUOTAS["template_body_bytes"]) == (51_200, False)  # not in SQ
    limits("prov", QUOTAS["nlbs_per_region"])
    assert stub.calls.count(("elasticloadbalancing", "L-69A177A2")) == 1  # read once


def test_a_raised_quota_lets_the_mesh_through() -> None:
    topology = load_topology_text(
        yaml.safe_dump({"name": "q", "accounts": ACCOUNTS, "services": fifty_one_providers()})
    )
    assert check(topology).blocking()
    raised = AppliedLimits(lambda account: StubQuotas({"L-69A177A2": 100.0}))
    report = check(topology, raised, limits_source="applied")
    assert report.blocking() == []
    assert report.to_dict()["limits"] == "applied"


def test_listeners_per_nlb_with_a_lower_applied_value(tmp_path: Path) -> None:
    topology = load_topology(EXAMPLES / "two-accounts.yaml")
    uses = [u for u in check(topology).uses if u.quota.key == "listeners_per_nlb"]
    assert [(u.subject, u.used, u.limit) for u in uses] == [
        ("the NLB of 'user-service'", 1, 50),
        ("the NLB of 'notification-service'", 1, 50),
    ]
    lowered = AppliedLimits(lambda account: StubQuotas({"L-57A373D6": 0.0}))
    report = check(topology, lowered)
    path = tmp_path / "two.yaml"
    path.write_text((EXAMPLES / "two-accounts.yaml").read_text())
    with pytest.raises(QuotaExceeded) as caught:
        enforce(report, path)
    assert caught.value.exit_code == 2
    assert "Listeners per Network Load Balancer (L-57A373D6)" in caught.value.message
    assert "AWS does not raise it" in (caught.value.problems[0].hint or "")


def edge_template(ingress_rules: int) -> dict[str, Any]:
    """An edge stack's template with a task group and `ingress_rules` ingress resources."""
    resources: dict[str, Any] = {
        "TaskSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]},
        }
    }
    for index in range(ingress_rules):
        resources[f"Rule{index}"] = {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"GroupId": {"Fn::GetAtt": ["TaskSecurityGroup", "GroupId"]}},
        }
    return {"Resources": resources}


def test_security_group_rules_are_counted_per_direction() -> None:
    template = edge_template(3)
    template["Resources"]["Nlb"] = {"Type": "AWS::EC2::SecurityGroup", "Properties": {}}
    template["Resources"]["Out"] = {
        "Type": "AWS::EC2::SecurityGroupEgress",
        "Properties": {"GroupId": {"Ref": "Nlb"}},
    }
    # Nlb: no egress listed -> CloudFormation's allow-all rule, plus one egress resource.
    assert security_group_rules(template) == {"TaskSecurityGroup": (3, 1), "Nlb": (0, 2)}


def test_rules_per_security_group(tmp_path: Path) -> None:
    topology = load_topology(EXAMPLES / "two-accounts.yaml")
    templates = {"meshlink-shop-edge-user-service": edge_template(2)}
    assert check(topology, templates=templates).blocking() == []
    lowered = AppliedLimits(lambda account: StubQuotas({"L-0EA8095F": 1.0}))
    report = check(topology, lowered, templates)
    [use] = report.blocking()
    assert use.quota.name == "Inbound or outbound rules per security group"
    assert use.subject.startswith("security group TaskSecurityGroup of stack meshlink-shop-edge")
    assert (use.used, use.limit, use.applied) == (2, 1, True)


def test_template_body_size(tmp_path: Path) -> None:
    topology = load_topology(EXAMPLES / "two-accounts.yaml")
    big = edge_template(0)
    big["Description"] = "x" * 51_200
    templates = {"meshlink-shop-edge-user-service": big}
    [use] = check(topology, templates=templates).blocking()
    assert use.quota.name == "Template body size in a request" and use.used > 51_200
    assert "TemplateURL" in use.quota.how_to_raise()
    uploaded = check(topology, templates=templates, uploads_large_templates=True)
    assert uploaded.blocking() == []
    [warning] = uploaded.warnings()
    assert "not a blocker" in warning.message()


def test_every_quota_names_its_code_or_why_not() -> None:
    for quota in QUOTAS.values():
        assert isinstance(quota, Quota)
        if quota.code is None:
            assert not quota.adjustable and quota.how_to_raise()
        else:
            assert quota.code.startswith("L-") and len(quota.code) == 10


def test_the_examples_are_within_every_quota() -> None:
    for name in ("two-accounts.yaml", "full-mesh-4.yaml"):
        report = check(load_topology(EXAMPLES / name), default_limits)
        assert report.blocking() == [] and report.to_dict()["ok"] is True


def test_a_mesh_within_its_quotas_is_not_read_again_to_locate_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = EXAMPLES / "two-accounts.yaml"
    report = check(load_topology(path), default_limits)

    def parse(_text: str) -> None:
        raise AssertionError("nothing to locate: the file must not be parsed again")

    monkeypatch.setattr("meshlink.topology.locations.parse_document", parse)
    enforce(report, path)  # no finding: nothing read, nothing raised


def test_validate_on_aws_without_credentials_falls_back_to_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlink.quotas.preflight import validate_quotas

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    text = (EXAMPLES / "two-accounts.yaml").read_text().replace("target: local", AWS_TARGET)
    text = text.replace("vpc_cidr: 10.1.0.0/16 }", "vpc_cidr: 10.1.0.0/16, role: R }")
    image = "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc:1\n"
    text = text.replace("    port: 8080\n", "    port: 8080\n" + image)
    topology = load_topology_text(text.replace("    port: 8081\n", "    port: 8081\n" + image))
    notes: list[str] = []
    report = validate_quotas(topology, tmp_path / "two.yaml", notes.append)
    assert report.limits_source == "defaults" and report.blocking() == []
    assert len(notes) == 1 and notes[0].startswith("could not read the accounts' applied quotas (")
    assert notes[0].endswith("checked against AWS's defaults (plan reads the applied values)")


class StubElb:
    """elbv2 of an account with `other` NLBs of others and `ours` tagged with the mesh."""

    def __init__(self, *, other: int, ours: int, identity: str):
        self.tags = {f"arn:other/{i}": {} for i in range(other)}
        self.tags |= {f"arn:ours/{i}": {"meshlink:mesh-id": identity} for i in range(ours)}

    def get_paginator(self, name: str) -> Any:
        balancers = [{"LoadBalancerArn": arn, "Type": "network"} for arn in self.tags]
        balancers.append({"LoadBalancerArn": "arn:alb", "Type": "application"})
        pages = [{"LoadBalancers": balancers[i : i + 50]} for i in range(0, len(balancers), 50)]
        return type("P", (), {"paginate": lambda self: pages})()

    def describe_tags(self, *, ResourceArns: list[str]) -> dict[str, Any]:
        assert len(ResourceArns) <= 20
        return {
            "TagDescriptions": [
                {
                    "ResourceArn": a,
                    "Tags": [{"Key": k, "Value": v} for k, v in self.tags[a].items()],
                }
                for a in ResourceArns
            ]
        }


class DeniedQuotas:
    def get_service_quota(self, **kwargs: str) -> dict[str, Any]:
        error = Exception("not authorized to perform servicequotas:GetServiceQuota")
        error.response = {"Error": {"Code": "AccessDeniedException"}}  # type: ignore[attr-defined]
        raise error


def test_a_role_that_cannot_read_quotas_gets_the_defaults_and_a_note() -> None:
    limits = AppliedLimits(lambda account: DeniedQuotas())
    assert limits("prov", QUOTAS["nlbs_per_region"]) == (50, False)
    assert limits.unread == {
        "prov": "AccessDeniedException: not authorized to perform servicequotas:GetServiceQuota"
    }


def test_plan_on_aws_reads_applied_quotas_and_says_when_it_cannot() -> None:
    from types import SimpleNamespace

    from meshlink.quotas.preflight import mesh_quotas

    text = (EXAMPLES / "two-accounts.yaml").read_text().replace("target: local", AWS_TARGET)
    text = text.replace("vpc_cidr: 10.1.0.0/16 }", "vpc_cidr: 10.1.0.0/16, role: R }")
    image = "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc:1\n"
    text = text.replace("    port: 8080\n", "    port: 8080\n" + image)
    topology = load_topology_text(text.replace("    port: 8081\n", "    port: 8081\n" + image))
    raised = StubQuotas({"L-69A177A2": 80.0})
    clients = {
        ("111111111111", "service-quotas"): raised,
        ("222222222222", "service-quotas"): DeniedQuotas(),
        ("111111111111", "elbv2"): StubElb(other=79, ours=1, identity=topology.identity),
        ("222222222222", "elbv2"): StubElb(other=0, ours=1, identity=topology.identity),
    }
    notes: list[str] = []
    runtime = SimpleNamespace(
        topology=topology,
        sessions=SimpleNamespace(client=lambda account_id, service: clients[account_id, service]),
        account_id=lambda account: topology.accounts[account].id,
        notice=notes.append,
    )
    report = mesh_quotas(runtime, templates=False)  # type: ignore[arg-type]
    assert report.limits_source == "applied"
    nlbs = {
        u.account: (u.limit, u.applied) for u in report.uses if u.quota.key == "nlbs_per_region"
    }
    assert nlbs == {"users": (80, True), "notify": (50, False)}
    # users: 79 NLBs of others + its own 1 = 80 of 80: still within; one more would not be.
    [users] = [u for u in report.uses if u.quota.key == "nlbs_per_region" and u.account == "users"]
    assert users.used == 80 and not users.exceeded
    assert users.note == "one per consumed service, and 79 the account has already"
    assert notes == [
        "could not read the applied quotas of account 'notify' (AccessDeniedException: not "
        "authorized to perform servicequotas:GetServiceQuota); checked against AWS's defaults"
    ]
