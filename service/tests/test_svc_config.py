"""Configuration from the environment, and how a bad one fails at start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from meshlink_service.config import (
    ConfigError,
    Peer,
    load_settings,
    peer_env_var,
    peer_name_from_env,
)


def test_defaults() -> None:
    settings = load_settings({})
    assert (settings.service_name, settings.port, settings.host) == (
        "microservice",
        8080,
        "0.0.0.0",
    )
    assert settings.bind_address is None
    assert settings.peers == ()
    assert settings.ready_requires_peers is False


def test_peers_from_env_names() -> None:
    settings = load_settings(
        {
            "PEER_NOTIFICATION_SERVICE_URL": "http://10.0.0.5:8081/",
            "PEER_BILLING_URL": "https://billing.internal",
            "PEER__URL": "http://ignored",  # no name: not a peer variable
            "peer_lower_url": "http://ignored",
            "OTHER": "x",
        }
    )
    assert settings.peers == (
        Peer("billing", "https://billing.internal", "PEER_BILLING_URL"),
        Peer("notification-service", "http://10.0.0.5:8081", "PEER_NOTIFICATION_SERVICE_URL"),
    )
    assert settings.peer("billing") is settings.peers[0]
    assert settings.peer("nope") is None


@pytest.mark.parametrize(
    ("var", "name"),
    [
        ("PEER_NOTIFICATION_SERVICE_URL", "notification-service"),
        ("PEER_A_URL", "a"),
        ("PEER_SVC2_URL", "svc2"),
        ("PEER_URL", None),
        ("PEER_A__B_URL", None),
        ("XPEER_A_URL", None),
    ],
)
def test_peer_name_mapping(var: str, name: str | None) -> None:
    assert peer_name_from_env(var) == name
    if name is not None:
        assert peer_env_var(name) == var


def test_bind_address_is_listen_host_when_host_unset() -> None:
    settings = load_settings({"BIND_ADDRESS": "127.0.0.9"})
    assert (settings.host, settings.bind_address) == ("127.0.0.9", "127.0.0.9")
    explicit = load_settings({"BIND_ADDRESS": "127.0.0.9", "HOST": "0.0.0.0"})
    assert (explicit.host, explicit.bind_address) == ("0.0.0.0", "127.0.0.9")


def test_timeouts_and_flags() -> None:
    settings = load_settings(
        {
            "PEER_TIMEOUT_SECONDS": "2.5",
            "PEER_CONNECT_TIMEOUT_SECONDS": "0.2",
            "PEERS_CHECK_TIMEOUT_SECONDS": "1",
            "PEER_CONNECT_RETRIES": "0",
            "READY_REQUIRES_PEERS": "Yes",
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.peer_timeout == 2.5
    assert settings.peer_connect_timeout == 0.2
    assert settings.peers_check_timeout == 1.0
    assert settings.peer_connect_retries == 0
    assert settings.ready_requires_peers is True
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "abc"}, "PORT='abc' is not an integer between 1 and 65535"),
        ({"PORT": "0"}, "PORT='0' is not an integer between 1 and 65535"),
        ({"PORT": "70000"}, "PORT='70000' is not an integer between 1 and 65535"),
        ({"SERVICE_NAME": "has space"}, "SERVICE_NAME='has space' is not a valid service name"),
        ({"BIND_ADDRESS": "127.0.0"}, "BIND_ADDRESS='127.0.0' is not an IP address"),
        ({"HOST": "0.0.0.0:80"}, "HOST='0.0.0.0:80' is not an IP address or host name"),
        ({"PEER_A_URL": "ftp://x"}, "PEER_A_URL='ftp://x' is not an http(s) URL with a host"),
        ({"PEER_A_URL": "http://"}, "PEER_A_URL='http://' is not an http(s) URL with a host"),
        ({"PEER_A_URL": "x:8080"}, "PEER_A_URL='x:8080' is not an http(s) URL with a host"),
        ({"PEER_A_URL": "http://h:99999"}, "PEER_A_URL='http://h:99999' is not a valid URL"),
        ({"PEER_A_URL": ""}, "PEER_A_URL='' is not an http(s) URL with a host"),
        ({"PEER_TIMEOUT_SECONDS": "-1"}, "PEER_TIMEOUT_SECONDS='-1' is not a number of seconds"),
        ({"PEER_TIMEOUT_SECONDS": "nan"}, "PEER_TIMEOUT_SECONDS='nan' is not a number of seconds"),
        ({"PEER_CONNECT_RETRIES": "11"}, "PEER_CONNECT_RETRIES='11' is not an integer"),
        ({"READY_REQUIRES_PEERS": "maybe"}, "READY_REQUIRES_PEERS='maybe' is not a boolean"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='loud' is not one of"),
    ],
)
def test_invalid_config_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert str(raised.value).startswith(message)


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PEER_")}
    return subprocess.run(
        [sys.executable, "-m", "meshlink_service"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=20,
    )


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"PORT": "eighty"}, "PORT='eighty'"),
        ({"PEER_NOTIFICATION_SERVICE_URL": "notification-service:8080"}, "PEER_NOTIFICATION"),
    ],
)
def test_invalid_config_fails_at_start_with_one_line(env: dict[str, str], needle: str) -> None:
    result = _serve(env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("meshlink-service: invalid configuration: ")
    assert needle in lines[0]


def test_console_script_and_module_entry_point() -> None:
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="meshlink-service")
    assert script.value == "meshlink_service.cli:main"
    result = subprocess.run(
        [sys.executable, "-m", "meshlink_service", "--help"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0
    assert "probe" in result.stdout
