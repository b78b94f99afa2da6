"""`meshlink local`: help names the port in effect; processes readable at 80-120 columns."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from tests.text_width import folded_in, widest

runner = CliRunner()
TASK = "arn:aws:ecs:us-east-1:222222222222:task/shop-notify/5d9f0a4b3c2e41f8a7b6c5d4e3f2a1b0"


def task(name: str, address: str, pid: int) -> dict[str, Any]:
    """A row as the admin API gives it (localcloud/dataplane/records.py)."""
    return {
        "task_arn": TASK.replace("5d9f", name[:4].encode().hex()[:4]),
        "account": "222222222222",
        "region": "us-east-1",
        "cluster": "shop-notify",
        "group": f"service:{name}",
        "service": name,
        "name": name,
        "state": "RUNNING",
        "address": address,
        "backend": "process",
        "eni": "eni-0123456789abcdef0",
        "ports": [8081],
        "pid": pid,
        "command": ["/usr/bin/python3", "-m", "meshlink_service", "--port", "8081"],
        "log": "/home/someone/.local/state/meshlink/tasks/222222222222/shop-notify/x/5d9f.log",
    }


@pytest.mark.parametrize("width", [80, 100, 120])
def test_processes_fit_and_keep_task_ids(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    import meshlink.localcloud.dataplane.api as api

    rows = [task("notification-service", "127.0.0.12", 41234), task("user-service", "127.0.0.9", 7)]
    monkeypatch.setattr(api, "processes", lambda state_dir=None: rows)
    result = runner.invoke(
        app, ["local", "processes"], env={"COLUMNS": str(width)}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert widest(text) <= width, text
    assert text.splitlines()[0].split() == ["service", "account", "state", "address", "pid", "task"]
    for row in rows:
        assert folded_in(text, row["task_arn"].rsplit("/", 1)[-1]), text
        assert folded_in(text, row["name"]) and f"{row['address']}:8081" in text, text
        assert str(row["pid"]) in text
    assert "meshlink local logs SERVICE" in text


def test_help_names_the_port_in_effect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHLINK_LOCAL_PORT", raising=False)
    assert "(port 4580)." in runner.invoke(app, ["local", "--help"]).stdout
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", "4999")
    shown = " ".join(runner.invoke(app, ["local", "--help"]).stdout.split())
    assert "(port 4999, from $MESHLINK_LOCAL_PORT)." in shown
    assert "4580" not in shown
