"""The CLI-facing functions: task log discovery and tails (no local cloud needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlink.errors import EnvironmentProblem, UsageError
from meshlink.localcloud.dataplane import api
from meshlink.localcloud.dataplane.records import log_path
from meshlink.localcloud.dataplane.routes import lookup


def write(root: Path, account: str, cluster: str, name: str, task: str, text: str) -> Path:
    path = log_path(root, account, cluster, name, task)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_task_logs_by_service_or_task_id(tmp_path: Path) -> None:
    root = api.logs_root(tmp_path)
    web = write(root, "111", "c", "web", "t1", "a\nb\nc\n")
    write(root, "111", "c", "run-probe", "t2", "x\n")
    assert [e.path for e in api.task_logs("web", state_dir=tmp_path)] == [web]
    assert [e.task_id for e in api.task_logs("t2", state_dir=tmp_path)] == ["t2"]
    assert len(api.task_logs(state_dir=tmp_path)) == 2
    entry = api.task_logs("web", state_dir=tmp_path)[0]
    assert (entry.account, entry.cluster, entry.name) == ("111", "c", "web")
    assert api.read_task_log(web, lines=2) == "b\nc\n"
    assert api.read_task_log(web, lines=None) == "a\nb\nc\n"
    assert api.read_task_log(tmp_path / "missing.log") == ""


def test_log_path_components_are_safe(tmp_path: Path) -> None:
    path = log_path(tmp_path, "1", "../../etc", "a/b", "t")
    assert tmp_path in path.parents and ".." not in path.parts


def test_resolve_needs_a_name_and_a_running_cloud(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        api.resolve(" ", state_dir=tmp_path)
    with pytest.raises(EnvironmentProblem):
        api.resolve("x.vpce.amazonaws.com", state_dir=tmp_path)


def test_lookup_ignores_case_and_trailing_dot() -> None:
    records = {"a.vpce.amazonaws.com": "127.8.0.1"}
    assert lookup(records, "A.VPCE.amazonaws.com.") == "127.8.0.1"
    assert lookup(records, "127.9.0.1") == "127.9.0.1"
    assert lookup(records, "b.example") is None
