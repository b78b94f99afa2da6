"""Can Terraform obtain the hashicorp/aws provider here? (for network.engine: auto)"""

from __future__ import annotations

import json
import platform
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from meshlink.engines.terraform.errors import TerraformUnavailable
from meshlink.engines.terraform.root import AWS_PROVIDER_SOURCE, AWS_PROVIDER_VERSION
from meshlink.engines.terraform.runner import TerraformExecutable, TerraformRunner, terraform_env
from meshlink.errors import MeshlinkError

PROBE_TIMEOUT = 20.0
_HOSTS = ("registry.terraform.io", "registry.opentofu.org")
_NAMESPACE, _TYPE = AWS_PROVIDER_SOURCE.split("/")


def _platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def _cli_config(env: Mapping[str, str]) -> str:
    candidates = [env.get("TF_CLI_CONFIG_FILE"), str(Path.home() / ".terraformrc")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text(encoding="utf-8", errors="replace")
    return ""


def _search_dirs(env: Mapping[str, str]) -> Iterator[tuple[str, Path]]:
    """Plugin cache and filesystem mirrors Terraform would look in, labelled."""
    config = _cli_config(env)
    cache = env.get("TF_PLUGIN_CACHE_DIR") or next(
        iter(re.findall(r'plugin_cache_dir\s*=\s*"([^"]+)"', config)), None
    )
    if cache:
        yield "plugin cache", Path(cache).expanduser()
    for mirror in re.findall(r'filesystem_mirror\s*\{[^}]*path\s*=\s*"([^"]+)"', config):
        yield "filesystem mirror", Path(mirror).expanduser()
    home = Path.home()
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    implied = [home / ".terraform.d" / "plugins", data_home / "terraform" / "plugins"]
    for data_dir in (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":"):
        if data_dir:
            implied.append(Path(data_dir) / "terraform" / "plugins")
    for directory in implied:
        yield "implied local mirror", directory


def _has_provider(directory: Path) -> bool:
    """True when `directory` holds an aws provider build for this platform."""
    target = _platform()
    for host in _HOSTS:
        base = directory / host / _NAMESPACE / _TYPE
        if not base.is_dir():
            continue
        for version in base.iterdir():
            if (version / target).is_dir():  # unpacked layout
                return True
            if version.suffix == ".zip" and target in version.name:  # packed layout
                return True
    return False


def _installed_in(workdir: Path) -> bool:
    for host in _HOSTS:
        base = workdir / ".terraform" / "providers" / host / _NAMESPACE / _TYPE
        if base.is_dir() and any(base.iterdir()):
            return True
    return False


def provider_available(
    workdir: Path,
    *,
    executable: TerraformExecutable | None = None,
    timeout: float = PROBE_TIMEOUT,
) -> tuple[bool, str]:
    """Whether Terraform can obtain hashicorp/aws, and a one-line reason.

    Looks (cheaply) in `workdir`'s installed providers, the plugin cache and the
    filesystem mirrors; only then tries a real `init` of a throw-away root, bounded
    by `timeout` (offline it fails in well under a second when DNS answers).
    """
    if _installed_in(workdir):
        return True, f"hashicorp/aws is already installed in {workdir}"
    env = terraform_env()
    for label, directory in _search_dirs(env):
        if _has_provider(directory):
            return True, f"hashicorp/aws found in the {label} {directory}"
    try:
        with tempfile.TemporaryDirectory(prefix="meshlink-tf-probe-") as probe:
            root = {
                "terraform": {
                    "required_providers": {
                        "aws": {"source": AWS_PROVIDER_SOURCE, "version": AWS_PROVIDER_VERSION}
                    }
                }
            }
            (Path(probe) / "main.tf.json").write_text(json.dumps(root), encoding="utf-8")
            TerraformRunner(Path(probe), account="(probe)", executable=executable).init(
                timeout=timeout
            )
    except TerraformUnavailable as exc:
        first = next((d.summary for d in exc.diagnostics), None) or exc.message.splitlines()[0]
        detail = next((d.detail for d in exc.diagnostics if d.detail), "")
        reason = f"terraform init cannot obtain hashicorp/aws: {first}"
        if "no such host" in detail or "dial tcp" in detail:
            reason += " (registry.terraform.io unreachable)"
        return False, reason
    except MeshlinkError as exc:
        return False, f"terraform init failed: {exc.message.splitlines()[0]}"
    return True, "terraform init downloaded hashicorp/aws from the registry"
