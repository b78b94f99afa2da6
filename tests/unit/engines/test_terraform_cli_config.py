"""meshlink's Terraform CLI config: what detection finds is what init installs from."""

from __future__ import annotations

from pathlib import Path

from meshlink.engines.terraform.cli_config import (
    ENV_MIRROR,
    has_aws_provider,
    terraform_platform,
    write_cli_config,
)


def mirror_with_aws(root: Path, version: str = "5.100.0") -> Path:
    (root / "registry.terraform.io" / "hashicorp" / "aws" / version / terraform_platform()).mkdir(
        parents=True
    )
    return root


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    data = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "XDG_DATA_DIRS": str(tmp_path / "none")}
    return {**data, **extra}


def test_nothing_on_disk_leaves_the_users_configuration_alone(tmp_path: Path) -> None:
    setup = write_cli_config(tmp_path / "out", env_for(tmp_path), tmp_path / "cache")
    assert setup.config_path is None
    assert setup.plugin_cache == tmp_path / "cache"
    assert "registry" in setup.describe()
    env = setup.apply_to({"TF_CLI_CONFIG_FILE": "/home/me/.terraformrc"})
    assert env["TF_CLI_CONFIG_FILE"] == "/home/me/.terraformrc"
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache")


def test_a_named_mirror_comes_first_and_direct_excludes_aws(tmp_path: Path) -> None:
    mirror = mirror_with_aws(tmp_path / "mirror")
    user = tmp_path / "terraformrc"
    user.write_text(
        'credentials "app.terraform.io" {\n  token = "x"\n}\n'
        "provider_installation {\n"
        '  network_mirror {\n    url = "https://mirror.example/"\n  }\n'
        "  direct {}\n}\n"
    )
    env = env_for(tmp_path, TF_CLI_CONFIG_FILE=str(user), **{ENV_MIRROR: str(mirror)})
    setup = write_cli_config(tmp_path / "out", env, tmp_path / "cache")
    assert setup.config_path is not None
    text = setup.config_path.read_text()
    assert text.count("provider_installation") == 1
    assert 'credentials "app.terraform.io"' in text  # the rest of the user's config is kept
    assert text.index(f'path    = "{mirror}"') < text.index("network_mirror")
    assert text.index("network_mirror") < text.index("direct {")
    assert text.count('exclude = ["registry.terraform.io/hashicorp/aws"]') == 2
    assert setup.plugin_cache == tmp_path / "cache"  # the cache stays a cache
    assert ENV_MIRROR in setup.describe()


def test_the_plugin_cache_is_a_mirror_when_nothing_else_has_aws(tmp_path: Path) -> None:
    cache = mirror_with_aws(tmp_path / "cache")
    user = tmp_path / "terraformrc"
    user.write_text(f'plugin_cache_dir = "{cache}"\n')
    env = env_for(tmp_path, TF_CLI_CONFIG_FILE=str(user), TF_PLUGIN_CACHE_DIR=str(cache))
    setup = write_cli_config(tmp_path / "out", env, tmp_path / "other")
    assert setup.config_path is not None
    text = setup.config_path.read_text()
    assert f'path    = "{cache}"' in text
    # Terraform refuses to install from its plugin cache into the same cache.
    assert "plugin_cache_dir" not in text
    assert setup.plugin_cache is None
    assert "TF_PLUGIN_CACHE_DIR" not in setup.apply_to({"TF_PLUGIN_CACHE_DIR": str(cache)})


def test_the_users_filesystem_mirror_is_found_and_kept(tmp_path: Path) -> None:
    mirror = mirror_with_aws(tmp_path / "mirror")
    user = tmp_path / "terraformrc"
    user.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    setup = write_cli_config(
        tmp_path / "out", env_for(tmp_path, TF_CLI_CONFIG_FILE=str(user)), tmp_path / "c"
    )
    assert [source.label for source in setup.sources] == ["filesystem mirror"]
    assert "filesystem mirror" in setup.describe()


def test_packed_and_unpacked_layouts_are_recognised(tmp_path: Path) -> None:
    assert not has_aws_provider(tmp_path)
    packed = tmp_path / "packed" / "registry.terraform.io" / "hashicorp" / "aws"
    packed.mkdir(parents=True)
    (packed / f"terraform-provider-aws_5.100.0_{terraform_platform()}.zip").write_bytes(b"")
    assert has_aws_provider(tmp_path / "packed")
    assert has_aws_provider(mirror_with_aws(tmp_path / "unpacked"))


def test_a_mirror_that_is_the_plugin_cache_is_treated_as_the_cache(tmp_path: Path) -> None:
    cache = mirror_with_aws(tmp_path / "cache")
    env = env_for(tmp_path, **{ENV_MIRROR: str(cache)})
    setup = write_cli_config(tmp_path / "out", env, cache)
    assert setup.plugin_cache is None  # never "install from the cache into itself"
