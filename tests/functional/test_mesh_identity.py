"""A mesh owns its stacks: two `init` projects share one local cloud and never touch
each other; a copied topology (same name, other mesh_id) is refused unless --adopt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from meshlink.aws.sessions import SessionFactory
from meshlink.cli.app import app
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]


@dataclass(frozen=True)
class Project:
    file: Path
    name: str
    mesh_id: str
    account_ids: list[str]


def init_project(folder: Path) -> Project:
    """`meshlink init` in `folder`, then the smallest edits that make the deploy quick."""
    folder.mkdir()
    file = folder / "meshlink.yaml"
    result = CliRunner().invoke(app, ["-f", str(file), "init"], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    text = file.read_text()
    for old, new in {
        "engine: auto": "engine: cdk",
        "nat_gateways: single": "nat_gateways: none",
        "desired_count: 2": "desired_count: 1",
    }.items():
        assert old in text, old
        text = text.replace(old, new)
    file.write_text(text)
    data = yaml.safe_load(text)
    ids = [account["id"] for account in data["accounts"].values()]
    return Project(file, data["name"], data["mesh_id"], ids)


def stack_identities(sessions: SessionFactory, project: Project) -> dict[str, str | None]:
    """meshlink:mesh-id of every live stack named for the project's mesh."""
    found: dict[str, str | None] = {}
    for account_id in project.account_ids:
        cfn = sessions.client(account_id, "cloudformation")
        for stack in cfn.describe_stacks()["Stacks"]:
            if stack["StackName"].startswith(f"meshlink-{project.name}-"):
                tags = {t["Key"]: t["Value"] for t in stack.get("Tags") or []}
                found[stack["StackName"]] = tags.get("meshlink:mesh-id")
    return found


def verify_ok(project: Project) -> None:
    code, stdout, stderr = cli(project.file, "verify")
    assert code == 0, stdout + stderr
    assert "verify passed" in stdout


@pytest.fixture(scope="module")
def projects(
    local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Project, Project, SessionFactory]]:
    root = tmp_path_factory.mktemp("identity")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
        patch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
        alpha = init_project(root / "Alpha Shop")
        beta = init_project(root / "beta_shop")
        for project in (alpha, beta):
            code, stdout, stderr = cli(project.file, "up", "--yes")
            assert code == 0, stdout + stderr
            assert "journal rebuilt" not in stderr  # nothing of another mesh was taken
        yield alpha, beta, SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
        for project in (alpha, beta):
            cli(project.file, "down", "--yes")


def test_two_init_projects_deploy_verify_and_go_down_independently(
    projects: tuple[Project, Project, SessionFactory],
) -> None:
    alpha, beta, sessions = projects
    assert (alpha.name, beta.name) == ("alpha-shop", "beta-shop")
    assert alpha.mesh_id != beta.mesh_id
    assert not set(alpha.account_ids) & set(beta.account_ids)
    assert "111111111111" not in alpha.account_ids + beta.account_ids  # not the demo's
    for project in (alpha, beta):
        identities = stack_identities(sessions, project)
        assert len(identities) == 10
        assert set(identities.values()) == {project.mesh_id}
    verify_ok(alpha)
    verify_ok(beta)

    code, summary = cli_json(alpha.file, "down", "--yes")
    assert code == 0, summary
    assert stack_identities(sessions, alpha) == {}
    assert len(stack_identities(sessions, beta)) == 10
    verify_ok(beta)
    code, plan = cli_json(beta.file, "plan")
    assert code == 0
    assert plan["totals"]["create"] == 0 and plan["totals"]["delete"] == 0


def test_a_copied_topology_is_refused_unless_it_adopts(
    projects: tuple[Project, Project, SessionFactory], tmp_path: Path
) -> None:
    _alpha, beta, sessions = projects
    other_id = "0123456789abcdef"
    copy = tmp_path / "copy" / "meshlink.yaml"
    copy.parent.mkdir()
    copy.write_text(beta.file.read_text().replace(beta.mesh_id, other_id))

    for command in (("up", "--yes"), ("plan",), ("down", "--yes")):
        code, stdout, stderr = cli(copy, *command)
        assert code == 3, (command, stdout, stderr)
        message = " ".join(stderr.split())
        assert f"stacks of mesh {beta.name} belong to another mesh" in message
        assert f"mesh_id {beta.mesh_id}" in message and f"mesh_id {other_id}" in message
        assert "--adopt" in message and "rename this mesh" in message
    # Refused before anything was touched: the first project is whole and still its own.
    assert set(stack_identities(sessions, beta).values()) == {beta.mesh_id}
    verify_ok(beta)

    code, plan = cli_json(copy, "plan", "--adopt")
    assert code == 0, plan
    code, stdout, stderr = cli(copy, "up", "--yes", "--adopt")
    assert code == 0, stdout + stderr
    assert "adopted 10 stacks" in " ".join(stderr.split())
    identities = stack_identities(sessions, beta)
    assert len(identities) == 10 and set(identities.values()) == {other_id}
    verify_ok(Project(copy, beta.name, other_id, beta.account_ids))

    # Now the original file is the stranger: refused, then taken back.
    code, _stdout, stderr = cli(beta.file, "up", "--yes")
    assert code == 3 and f"mesh_id {other_id}" in " ".join(stderr.split())
    code, stdout, stderr = cli(beta.file, "up", "--yes", "--adopt")
    assert code == 0, stdout + stderr
    assert set(stack_identities(sessions, beta).values()) == {beta.mesh_id}


def test_stacks_without_identity_belong_to_the_name(
    projects: tuple[Project, Project, SessionFactory], tmp_path: Path
) -> None:
    # A topology without mesh_id is its name's mesh: it refuses stacks with a mesh_id.
    _alpha, beta, _sessions = projects
    text = "\n".join(
        line for line in beta.file.read_text().splitlines() if not line.startswith("mesh_id:")
    )
    legacy = tmp_path / "legacy" / "meshlink.yaml"
    legacy.parent.mkdir()
    legacy.write_text(text + "\n")
    result = CliRunner().invoke(app, ["-f", str(legacy), "validate"], catch_exceptions=False)
    assert result.exit_code == 0 and "has no mesh_id" in " ".join(result.stdout.split())
    code, _stdout, stderr = cli(legacy, "plan")
    message = " ".join(stderr.split())
    assert code == 3 and "no mesh_id (identity from its name)" in message
