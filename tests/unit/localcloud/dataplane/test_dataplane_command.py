"""What a task runs: entrypoint, command overrides, environment and DNS rewriting."""

from __future__ import annotations

import json
import sys

import pytest

from meshlink.localcloud.dataplane.command import (
    CommandError,
    build_command,
    build_env,
    container_override,
    container_ports,
    rewrite,
    unresolved_names,
)

DNS = {"vpce-1-abc.vpce-svc-9.us-east-1.vpce.amazonaws.com": "127.8.0.9"}


def test_default_is_the_bundled_service() -> None:
    assert build_command({}, {}) == [sys.executable, "-m", "meshlink_service"]


def test_override_arguments_go_to_the_entrypoint() -> None:
    command = build_command({}, {"command": ["probe", "http://x:1/health"]})
    assert command == [sys.executable, "-m", "meshlink_service", "probe", "http://x:1/health"]


def test_override_starting_with_python_is_the_whole_command() -> None:
    assert build_command({}, {"command": ["python3", "-c", "pass"]}) == [
        sys.executable,
        "-c",
        "pass",
    ]
    assert build_command({}, {"command": ["/bin/sh", "-c", "true"]}) == ["/bin/sh", "-c", "true"]


def test_docker_label_replaces_the_entrypoint() -> None:
    container = {
        "dockerLabels": {"meshlink.local.command": json.dumps(["python", "srv.py"])},
        "command": ["--flag"],
    }
    assert build_command(container, {}) == [sys.executable, "srv.py", "--flag"]


@pytest.mark.parametrize("label", ["not json", "[]", '"a string"', "[1, 2]"])
def test_bad_label_is_an_error(label: str) -> None:
    with pytest.raises(CommandError):
        build_command({"dockerLabels": {"meshlink.local.command": label}}, {})


def test_environment_is_rewritten_and_completed() -> None:
    container = {
        "environment": [
            {
                "name": "PEER_P_URL",
                "value": "http://VPCE-1-abc.vpce-svc-9.us-east-1.vpce.amazonaws.com:8080",
            },
            {"name": "SERVICE_NAME", "value": "svc"},
        ],
    }
    override = {"environment": [{"name": "EXTRA", "value": "1"}]}
    env = build_env(
        container,
        override,
        service_name="ignored",
        port=8081,
        host="127.9.0.1",
        bind_address="127.8.0.1",
        names=DNS,
    )
    assert env["PEER_P_URL"] == "http://127.8.0.9:8080"
    assert env["SERVICE_NAME"] == "svc" and env["EXTRA"] == "1"
    assert (env["PORT"], env["HOST"], env["BIND_ADDRESS"]) == ("8081", "127.9.0.1", "127.8.0.1")


def test_pascal_case_definitions_from_cloudformation() -> None:
    container = {
        "PortMappings": [{"ContainerPort": 9000}],
        "Name": "app",
        "Environment": [{"Name": "A", "Value": "b"}],
    }
    assert container_ports(container) == (9000,)
    env = build_env(
        container, {}, service_name="s", port=None, host="h", bind_address="b", names={}
    )
    assert env["A"] == "b" and env["PORT"] == "8080"


def test_unknown_aws_names_are_reported() -> None:
    env = {"A": "http://vpce-2-x.vpce-svc-1.us-east-1.vpce.amazonaws.com:80", "B": "plain"}
    assert unresolved_names(env) == ["vpce-2-x.vpce-svc-1.us-east-1.vpce.amazonaws.com"]
    assert unresolved_names({"A": rewrite(next(iter(DNS)), DNS)}) == []


def test_container_override_by_name_or_single() -> None:
    overrides = {"containerOverrides": [{"name": "app", "command": ["x"]}]}
    assert container_override(overrides, "app") == {"name": "app", "command": ["x"]}
    assert container_override(overrides, "other") == {}
    assert container_override({"containerOverrides": [{"command": ["y"]}]}, "app") == {
        "command": ["y"]
    }
    assert container_override(None, "app") == {}
