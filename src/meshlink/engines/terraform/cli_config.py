"""The Terraform CLI configuration meshlink's own runs use, so detection agrees with init.

Terraform installs providers only from the sources named in `provider_installation`:
a plugin cache is a copy, not a source, and with `direct` in the list an offline
`init` fails even when the provider sits in the cache. So meshlink writes one CLI
config for its runs, keeping the user's settings and ordering the sources as:

1. the user's own filesystem mirrors (from their CLI config), then the mirrors named by
   MESHLINK_TF_PROVIDER_MIRROR, then Terraform's implied local mirrors;
2. meshlink's plugin cache, as a filesystem mirror;
3. the user's network mirrors, then `direct`.

Every directory that holds hashicorp/aws for this platform `include`s it, and the
network sources `exclude` it, so Terraform never asks the registry for a provider it
already has on disk (Terraform fails the whole init when any matching source is
unreachable). When no directory holds it, nothing is rewritten: Terraform downloads
it as the user's own configuration says.

https://developer.hashicorp.com/terraform/cli/config/config-file#provider-installation
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_MIRROR = "MESHLINK_TF_PROVIDER_MIRROR"
AWS_PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
CONFIG_FILENAME = "terraform-cli.tfrc"
PROVIDER_HOSTS = ("registry.terraform.io", "registry.opentofu.org")


@dataclass(frozen=True)
class ProviderSource:
    """A directory Terraform may install hashicorp/aws from, and what it is."""

    label: str  # "filesystem mirror", "MESHLINK_TF_PROVIDER_MIRROR", "plugin cache", ...
    path: Path


def terraform_platform() -> str:
    """This machine's platform as Terraform names it (linux_amd64, darwin_arm64, ...)."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def aws_provider_dirs(root: Path) -> Iterator[Path]:
    """Where hashicorp/aws lies under a mirror, a plugin cache or a data dir's providers/."""
    for host in PROVIDER_HOSTS:
        yield root / host / "hashicorp" / "aws"


def has_aws_provider(directory: Path) -> bool:
    """True when `directory` (a mirror or plugin cache) holds hashicorp/aws for this platform."""
    target = terraform_platform()
    for base in aws_provider_dirs(directory):
        if not base.is_dir():
            continue
        for version in base.iterdir():
            if (version / target).is_dir():  # unpacked layout (also the plugin cache's)
                return True
            if version.suffix == ".zip" and target in version.name:  # packed layout
                return True
    return False


def user_config_path(env: Mapping[str, str]) -> Path | None:
    """The CLI config Terraform would read for the user (TF_CLI_CONFIG_FILE, ~/.terraformrc)."""
    for candidate in (env.get("TF_CLI_CONFIG_FILE"), str(Path.home() / ".terraformrc")):
        if candidate and Path(candidate).expanduser().is_file():
            return Path(candidate).expanduser()
    return None


def read_user_config(env: Mapping[str, str]) -> str:
    path = user_config_path(env)
    return path.read_text(encoding="utf-8", errors="replace") if path else ""


def _block_span(text: str, keyword: str) -> tuple[int, int] | None:
    """Start and end offsets of the first top-level `keyword { ... }` block in `text`."""
    match = re.search(rf"(?m)^\s*{keyword}\s*\{{", text)
    if match is None:
        return None
    depth, index = 0, match.end() - 1
    while index < len(text):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return match.start(), index + 1
        index += 1
    return match.start(), len(text)


def _installation_block(config: str) -> str:
    span = _block_span(config, "provider_installation")
    return config[span[0] : span[1]] if span else ""


def _without_installation_block(config: str) -> str:
    span = _block_span(config, "provider_installation")
    return config if span is None else (config[: span[0]] + config[span[1] :]).strip()


def user_filesystem_mirrors(config: str) -> list[Path]:
    block = _installation_block(config)
    found = re.findall(r'filesystem_mirror\s*\{[^}]*?path\s*=\s*"([^"]+)"', block)
    return [Path(path).expanduser() for path in found]


def user_network_mirrors(config: str) -> list[str]:
    return re.findall(r'network_mirror\s*\{[^}]*?url\s*=\s*"([^"]+)"', _installation_block(config))


def _implied_mirrors(env: Mapping[str, str]) -> Iterator[Path]:
    """Terraform's implied local mirror directories (used when no provider_installation)."""
    home = Path.home()
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    yield home / ".terraform.d" / "plugins"
    yield data_home / "terraform" / "plugins"
    for data_dir in (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":"):
        if data_dir:
            yield Path(data_dir) / "terraform" / "plugins"


def candidate_sources(
    env: Mapping[str, str], plugin_cache: Path, config: str
) -> Iterator[ProviderSource]:
    """Every directory that may hold hashicorp/aws, in the order meshlink's config uses.

    `config` is the user's CLI config text (read_user_config).
    """
    for mirror in user_filesystem_mirrors(config):
        yield ProviderSource("filesystem mirror", mirror)
    for named in (env.get(ENV_MIRROR) or "").split(os.pathsep):
        if named.strip():
            yield ProviderSource(ENV_MIRROR, Path(named.strip()).expanduser())
    if not _installation_block(config):
        for implied in _implied_mirrors(env):
            yield ProviderSource("implied local mirror", implied)
    yield ProviderSource("plugin cache", plugin_cache)


def sources_with_provider(
    env: Mapping[str, str], plugin_cache: Path, config: str
) -> list[ProviderSource]:
    """The candidate directories that hold hashicorp/aws for this platform, deduplicated."""
    found: list[ProviderSource] = []
    seen: set[Path] = set()
    for source in candidate_sources(env, plugin_cache, config):
        resolved = source.path.resolve()
        if resolved in seen or not has_aws_provider(source.path):
            continue
        seen.add(resolved)
        found.append(source)
    return found


def effective_plugin_cache(env: Mapping[str, str], default: Path, config: str) -> Path:
    """The user's plugin cache (TF_PLUGIN_CACHE_DIR or plugin_cache_dir), else meshlink's."""
    named = env.get("TF_PLUGIN_CACHE_DIR") or next(
        iter(re.findall(r'plugin_cache_dir\s*=\s*"([^"]+)"', config)), None
    )
    return Path(named).expanduser() if named else default


def _hcl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_cli_config(
    user_config: str,
    mirrors: list[ProviderSource],
    network_mirrors: list[str],
    *,
    keep_plugin_cache: bool = True,
) -> str:
    """The user's config without its provider_installation, plus meshlink's (see module doc)."""
    include = f"[{_hcl_string(AWS_PROVIDER_ADDRESS)}]"
    lines = ["# Written by meshlink for its own Terraform runs; the user's config is unchanged."]
    kept = _without_installation_block(user_config)
    if not keep_plugin_cache:
        kept = re.sub(r"(?m)^\s*plugin_cache_dir\s*=.*$", "", kept).strip()
    if kept:
        lines += [kept, ""]
    lines.append("provider_installation {")
    for mirror in mirrors:
        lines += [
            "  filesystem_mirror {",
            f"    path    = {_hcl_string(str(mirror.path))}",
            f"    include = {include}",
            "  }",
        ]
    for url in network_mirrors:
        lines += [
            "  network_mirror {",
            f"    url     = {_hcl_string(url)}",
            f"    exclude = {include}",
            "  }",
        ]
    lines += ["  direct {", f"    exclude = {include}", "  }", "}", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class CliSetup:
    """How meshlink's Terraform runs obtain hashicorp/aws: a CLI config and a plugin cache."""

    config_path: Path | None  # None: the user's own configuration, unchanged
    sources: tuple[ProviderSource, ...]  # where hashicorp/aws is installed from, in order
    plugin_cache: Path | None  # None when the cache is itself the source (see below)

    def apply_to(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` as every Terraform run with this set-up needs it."""
        result = dict(env)
        if self.config_path is not None:
            result["TF_CLI_CONFIG_FILE"] = str(self.config_path)
        if self.plugin_cache is not None:
            result["TF_PLUGIN_CACHE_DIR"] = str(self.plugin_cache)
        else:
            result.pop("TF_PLUGIN_CACHE_DIR", None)
        return result

    def describe(self) -> str:
        if not self.sources:
            return "hashicorp/aws from the registry (the user's Terraform configuration)"
        first = self.sources[0]
        return f"hashicorp/aws found in the {first.label} {first.path}"


def write_cli_config(directory: Path, env: Mapping[str, str], plugin_cache: Path) -> CliSetup:
    """Write meshlink's CLI config into `directory` when some directory holds hashicorp/aws.

    The plugin cache is a mirror only when nothing else holds the provider: Terraform
    refuses to install from its plugin cache into that same cache ("to itself"), so that
    run goes without TF_PLUGIN_CACHE_DIR and copies the provider once per mesh. Otherwise
    the cache stays a cache: filled from a mirror or the registry, then linked.
    """
    config = read_user_config(env)
    cache = effective_plugin_cache(env, plugin_cache, config)
    found = sources_with_provider(env, cache, config)
    if not found:
        return CliSetup(None, (), cache)
    elsewhere = [source for source in found if source.path.resolve() != cache.resolve()]
    mirrors = elsewhere or found
    text = render_cli_config(
        config, mirrors, user_network_mirrors(config), keep_plugin_cache=bool(elsewhere)
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CONFIG_FILENAME
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return CliSetup(path, tuple(mirrors), cache if elsewhere else None)
