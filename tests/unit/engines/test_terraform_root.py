"""The per-account root module meshlink generates as main.tf.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshlink.engines.network_contract import NETWORK_OUTPUTS
from meshlink.engines.terraform.root import (
    AWS_PROVIDER_VERSION,
    LOCAL_ENDPOINT_SERVICES,
    build_root,
    module_dir,
    module_inputs,
    workdir_for,
    write_root,
    written_zone_ids,
)
from meshlink.topology.model import Topology
from meshlink.topology.retention import LOG_RETENTION_DAYS


def topology(**overrides: Any) -> Topology:
    data: dict[str, Any] = {
        "name": "shop",
        "region": "eu-west-1",
        "target": "aws",
        "network": {"az_count": 3, "nat_gateways": "per_az", "flow_log_retention_days": 14},
        "accounts": {
            "users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"},
            "notify": {"id": "222222222222", "vpc_cidr": "10.2.0.0/16", "role": "Deployer"},
            "billing": {"id": "333333333333", "vpc_cidr": "10.3.0.0/16", "profile": "bill"},
            "both": {
                "id": "444444444444",
                "vpc_cidr": "10.4.0.0/16",
                "profile": "base",
                "role": "arn:aws:iam::444444444444:role/Other",
            },
        },
        "services": {"svc": {"account": "users", "port": 8080}},
    }
    data.update(overrides)
    return Topology.model_validate(data)


def root_of(top: Topology, account: str, tmp_path: Path, **kw: Any) -> dict[str, Any]:
    workdir = workdir_for(tmp_path, top, account)
    return build_root(top, account, workdir=workdir, **kw)


def provider(root: dict[str, Any]) -> dict[str, Any]:
    (aws,) = root["provider"]["aws"]
    return aws  # type: ignore[no-any-return]


def test_workdir_is_under_dot_meshlink(tmp_path: Path) -> None:
    top = topology()
    assert workdir_for(tmp_path, top, "users") == (
        tmp_path / ".meshlink" / "shop" / "aws" / "terraform" / "users"
    )


def test_aws_target_assumes_the_default_role_and_pins_the_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The operator's session name, as meshlink's own calls (the deploy role's trust and
    # the bootstrap recording see Terraform's calls under it).
    monkeypatch.setenv("MESHLINK_OPERATOR", "ann@example.com")
    root = root_of(topology(), "users", tmp_path)
    assert root["terraform"]["required_providers"] == {
        "aws": {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION}
    }
    aws = provider(root)
    assert aws["region"] == "eu-west-1"
    assert aws["assume_role"] == [
        {
            "role_arn": "arn:aws:iam::111111111111:role/MeshlinkDeploy",
            "session_name": "meshlink-shop-ann@example.com",
        }
    ]
    assert aws["allowed_account_ids"] == ["111111111111"]
    assert "profile" not in aws and "endpoints" not in aws and "access_key" not in aws
    assert aws["default_tags"] == [
        {
            "tags": {
                "meshlink:mesh": "shop",
                "meshlink:mesh-id": "name:shop",
                "meshlink:node": "network:users",
                "meshlink:account": "users",
            }
        }
    ]


def test_named_role_is_expanded_to_an_arn(tmp_path: Path) -> None:
    aws = provider(root_of(topology(), "notify", tmp_path))
    assert aws["assume_role"][0]["role_arn"] == "arn:aws:iam::222222222222:role/Deployer"


def test_profile_alone_uses_the_profile_without_assuming_a_role(tmp_path: Path) -> None:
    aws = provider(root_of(topology(), "billing", tmp_path))
    assert aws["profile"] == "bill"
    assert "assume_role" not in aws


def test_profile_and_role_assume_the_role_from_the_profile(tmp_path: Path) -> None:
    aws = provider(root_of(topology(), "both", tmp_path))
    assert aws["profile"] == "base"
    assert aws["assume_role"][0]["role_arn"] == "arn:aws:iam::444444444444:role/Other"


def test_local_target_points_every_endpoint_at_the_local_cloud(tmp_path: Path) -> None:
    top = topology(target="local")
    aws = provider(root_of(top, "billing", tmp_path, local_endpoint="http://localhost:9999"))
    assert aws["endpoints"] == [{name: "http://localhost:9999" for name in LOCAL_ENDPOINT_SERVICES}]
    assert {"ec2", "sts", "iam", "logs"} <= set(aws["endpoints"][0])
    assert aws["access_key"] == aws["secret_key"] == "meshlink"
    for flag in (
        "skip_credentials_validation",
        "skip_requesting_account_id",
        "skip_metadata_api_check",
        "s3_use_path_style",
    ):
        assert aws[flag] is True
    # The local cloud is multi-account through AssumeRole, so the role stays; a profile
    # would point at real credentials and is dropped.
    assert aws["assume_role"][0]["role_arn"] == "arn:aws:iam::333333333333:role/MeshlinkDeploy"
    assert "profile" not in aws and "allowed_account_ids" not in aws


def test_local_backend_by_default(tmp_path: Path) -> None:
    root = root_of(topology(), "users", tmp_path)
    assert root["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}


def test_s3_backend_with_lockfile_when_a_state_bucket_is_named(tmp_path: Path) -> None:
    top = topology(network={"state_bucket": "acme-tf-state"})
    terraform = root_of(top, "billing", tmp_path)["terraform"]
    assert terraform["required_version"] == ">= 1.10.0"  # use_lockfile
    backend = terraform["backend"]
    assert backend == {
        "s3": {
            "bucket": "acme-tf-state",
            "key": "meshlink/shop/aws/billing/terraform.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "use_lockfile": True,
            "profile": "bill",
        }
    }


def test_s3_backend_on_the_local_cloud(tmp_path: Path) -> None:
    top = topology(target="local", network={"state_bucket": "state"})
    backend = root_of(top, "users", tmp_path, local_endpoint="http://localhost:4580")
    s3 = backend["terraform"]["backend"]["s3"]
    assert s3["endpoints"]["s3"] == "http://localhost:4580"
    assert s3["use_path_style"] is True and s3["use_lockfile"] is True
    assert s3["access_key"] == "meshlink"


def test_module_call_passes_the_account_inputs(tmp_path: Path) -> None:
    top = topology()
    root = root_of(top, "notify", tmp_path)
    module = root["module"]["network"]
    assert module["vpc_cidr"] == "10.2.0.0/16"
    assert module["az_count"] == 3
    assert module["nat_gateways"] == "per_az"
    assert module["flow_logs"] is True
    assert module["flow_log_retention_days"] == 14
    assert module["name"] == "shop-notify"
    assert {k: v for k, v in module.items() if k != "source"} == module_inputs(top, "notify")


def test_without_zone_ids_the_module_call_has_no_az_ids(tmp_path: Path) -> None:
    module = root_of(topology(), "users", tmp_path)["module"]["network"]
    assert "az_ids" not in module


def test_zone_ids_are_passed_to_the_module_as_az_ids(tmp_path: Path) -> None:
    top = topology()
    zones = ("euw1-az3", "euw1-az1", "euw1-az2")
    for account in top.accounts:
        module = root_of(top, account, tmp_path, zone_ids=zones)["module"]["network"]
        # The same ids, in the same order, for every account of the mesh: a plain list.
        assert module["az_ids"] == ["euw1-az3", "euw1-az1", "euw1-az2"]
        assert {k: v for k, v in module.items() if k != "source"} == module_inputs(
            top, account, zones
        )
    assert "az_ids" not in module_inputs(top, "users")


def test_write_root_records_the_zone_ids_and_reads_them_back(tmp_path: Path) -> None:
    top = topology()
    workdir = workdir_for(tmp_path, top, "users")
    assert written_zone_ids(workdir / "main.tf.json") is None  # no file yet
    path = write_root(top, "users", workdir=workdir, zone_ids=["euw1-az1", "euw1-az2"])
    assert json.loads(path.read_text())["module"]["network"]["az_ids"] == ["euw1-az1", "euw1-az2"]
    assert written_zone_ids(path) == ["euw1-az1", "euw1-az2"]
    write_root(top, "users", workdir=workdir)
    assert written_zone_ids(path) is None
    path.write_text("{not json")
    assert written_zone_ids(path) is None


def test_module_source_is_a_relative_path_to_the_shipped_module(tmp_path: Path) -> None:
    top = topology()
    workdir = workdir_for(tmp_path, top, "users")
    source = build_root(top, "users", workdir=workdir)["module"]["network"]["source"]
    assert source.startswith(("./", "../"))
    assert (workdir / source).resolve() == module_dir().resolve()


def test_outputs_pass_the_network_contract_through(tmp_path: Path) -> None:
    outputs = root_of(topology(), "users", tmp_path)["output"]
    assert tuple(outputs) == NETWORK_OUTPUTS
    assert outputs["vpc_id"] == {"value": "${module.network.vpc_id}"}


def test_write_root_is_stable_and_only_rewrites_on_change(tmp_path: Path) -> None:
    top = topology()
    workdir = workdir_for(tmp_path, top, "users")
    path = write_root(top, "users", workdir=workdir)
    first = path.read_text()
    assert json.loads(first)["module"]["network"]["vpc_cidr"] == "10.1.0.0/16"
    mtime = path.stat().st_mtime_ns
    assert write_root(top, "users", workdir=workdir) == path
    assert path.stat().st_mtime_ns == mtime
    changed = topology(network={"az_count": 2})
    write_root(changed, "users", workdir=workdir)
    assert json.loads(path.read_text())["module"]["network"]["az_count"] == 2


@pytest.mark.parametrize("account", ["users", "notify", "billing", "both"])
def test_root_is_plain_json_terraform_accepts(tmp_path: Path, account: str) -> None:
    # Terraform's JSON syntax: blocks as lists of objects, no HCL text anywhere.
    text = json.dumps(root_of(topology(), account, tmp_path))
    assert "${module.network." in text and "<<" not in text


@pytest.mark.parametrize(("asked", "given"), [(1, 1), (10, 14), (30, 30), (31, 60), (4000, 3653)])
def test_flow_log_retention_is_rounded_up_to_what_cloudwatch_accepts(
    tmp_path: Path, asked: int, given: int
) -> None:
    top = topology(network={"flow_log_retention_days": min(asked, 3653)})
    module = root_of(top, "users", tmp_path)["module"]["network"]
    assert module["flow_log_retention_days"] == min(given, 3653)


def test_module_accepts_exactly_the_retention_values() -> None:
    text = (module_dir() / "variables.tf").read_text()
    listed = text.split("flow_log_retention_days")[1].split("[", 1)[1].split("]", 1)[0]
    assert tuple(int(v) for v in listed.split(",")) == LOG_RETENTION_DAYS
