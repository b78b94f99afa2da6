"""Configuration from the environment only, validated once at start.

Stdlib only: the config is loaded before FastAPI is imported, so a bad value
fails in milliseconds with one line instead of after the whole import.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_SERVICE_NAME = "microservice"
DEFAULT_PORT = 8080
DEFAULT_HOST = "0.0.0.0"

# PEER_<NAME>_URL; NAME is upper-case words joined by '_' (e.g. NOTIFICATION_SERVICE).
_PEER_ENV = re.compile(r"^PEER_(?P<name>[A-Z0-9]+(?:_[A-Z0-9]+)*)_URL$")
# A service name ends up in JSON, log lines and metric labels: keep it printable.
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# HOST: an IP address or an RFC 1123 host name (a typo should fail here, not at bind).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class ConfigError(ValueError):
    """Invalid configuration; ``str()`` is the one-line message shown at start."""


@dataclass(frozen=True)
class Peer:
    """A consumed peer: its route name (``notification-service``) and base URL."""

    name: str
    url: str
    env_var: str


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    service_name: str = DEFAULT_SERVICE_NAME
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    bind_address: str | None = None
    peers: tuple[Peer, ...] = ()
    # Total budget for one forwarded POST /call (connect + send + answer).
    peer_timeout: float = 5.0
    # Connecting is quick on a healthy PrivateLink endpoint; fail fast otherwise.
    peer_connect_timeout: float = 1.0
    # Per-peer budget for the /health fan-out of GET /peers and /ready.
    peers_check_timeout: float = 2.0
    # Extra attempts after a connection error, idempotent calls only.
    peer_connect_retries: int = 2
    ready_requires_peers: bool = False
    log_level: str = "INFO"

    def peer(self, name: str) -> Peer | None:
        """The consumed peer called ``name``, or None when this service does not consume it."""
        for peer in self.peers:
            if peer.name == name:
                return peer
        return None


def peer_name_from_env(var: str) -> str | None:
    """``PEER_NOTIFICATION_SERVICE_URL`` -> ``notification-service``; None if not a peer var."""
    match = _PEER_ENV.match(var)
    if match is None:
        return None
    return match.group("name").lower().replace("_", "-")


def peer_env_var(name: str) -> str:
    """Inverse of :func:`peer_name_from_env`: ``notification-service`` -> its env var."""
    return f"PEER_{name.upper().replace('-', '_')}_URL"


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and validate the service's settings; raises :class:`ConfigError`."""
    service_name = env.get("SERVICE_NAME", DEFAULT_SERVICE_NAME).strip()
    if not _SERVICE_NAME.match(service_name):
        raise ConfigError(
            f"SERVICE_NAME={service_name!r} is not a valid service name "
            "(letters, digits, '.', '_', '-'; at most 128 characters)"
        )
    bind_address = _optional_ip(env, "BIND_ADDRESS")
    host = env.get("HOST", "").strip()
    if not host:
        # In the local cloud a task is its own 127.x.y.z ENI: listen there, not everywhere.
        host = bind_address or DEFAULT_HOST
    elif not _is_host(host):
        raise ConfigError(f"HOST={host!r} is not an IP address or host name")
    return Settings(
        service_name=service_name,
        port=_port(env.get("PORT", str(DEFAULT_PORT))),
        host=host,
        bind_address=bind_address,
        peers=_peers(env),
        peer_timeout=_seconds(env, "PEER_TIMEOUT_SECONDS", 5.0),
        peer_connect_timeout=_seconds(env, "PEER_CONNECT_TIMEOUT_SECONDS", 1.0),
        peers_check_timeout=_seconds(env, "PEERS_CHECK_TIMEOUT_SECONDS", 2.0),
        peer_connect_retries=_count(env, "PEER_CONNECT_RETRIES", 2, maximum=10),
        ready_requires_peers=_flag(env, "READY_REQUIRES_PEERS"),
        log_level=_log_level(env.get("LOG_LEVEL", "INFO")),
    )


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(_HOSTNAME.match(value))
    return True


def _port(raw: str) -> int:
    value = raw.strip()
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(f"PORT={raw!r} is not an integer between 1 and 65535")
    return int(value)


def _optional_ip(env: Mapping[str, str], var: str) -> str | None:
    raw = env.get(var, "").strip()
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not an IP address") from None


def validate_url(raw: str, *, what: str) -> str:
    """Check an http(s) base URL with a host; returns it without a trailing slash."""
    url = raw.strip()
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError as exc:
        raise ConfigError(f"{what}={raw!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what}={raw!r} is not an http(s) URL with a host")
    if port == 0 or parts.query or parts.fragment or any(c.isspace() for c in url):
        raise ConfigError(f"{what}={raw!r} is not a valid URL")
    return url.rstrip("/")


def _peers(env: Mapping[str, str]) -> tuple[Peer, ...]:
    peers = []
    for var in sorted(env):
        name = peer_name_from_env(var)
        if name is not None:
            peers.append(Peer(name=name, url=validate_url(env[var], what=var), env_var=var))
    return tuple(peers)


def _seconds(env: Mapping[str, str], var: str, default: float) -> float:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= 3600:
        raise ConfigError(f"{var}={raw!r} is not a number of seconds in (0, 3600]")
    return value


def _count(env: Mapping[str, str], var: str, default: int, *, maximum: int) -> int:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > maximum:
        raise ConfigError(f"{var}={raw!r} is not an integer between 0 and {maximum}")
    return int(raw)


def _flag(env: Mapping[str, str], var: str) -> bool:
    raw = env.get(var, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{var}={env[var]!r} is not a boolean (use true/false, 1/0, yes/no)")


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL={raw!r} is not one of DEBUG, INFO, WARNING, ERROR")
    return level
