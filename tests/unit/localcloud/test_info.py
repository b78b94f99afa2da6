"""Where the local cloud keeps its files and which port it uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlink.localcloud import info


def test_state_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MESHLINK_STATE_DIR", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert info.state_dir() == tmp_path / ".local" / "state" / "meshlink"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert info.state_dir() == tmp_path / "xdg" / "meshlink"
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(tmp_path / "explicit"))
    assert info.state_dir() == tmp_path / "explicit"
    assert info.state_dir(tmp_path / "arg") == tmp_path / "arg"


def test_default_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHLINK_LOCAL_PORT", raising=False)
    assert info.default_port() == 4580
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", "5999")
    assert info.default_port() == 5999


def test_state_file_round_trip_and_guarded_clear(tmp_path: Path) -> None:
    record = info.LocalCloudInfo("http://localhost:1", 1, 42, str(tmp_path), "log", 1.5, "0.1.0")
    assert info.read_state(tmp_path) is None
    info.write_state(tmp_path, record)
    assert info.read_state(tmp_path) == record
    assert record.admin_url == "http://localhost:1/_meshlink"
    info.clear_state(tmp_path, pid=7)  # someone else's pid: kept
    assert info.read_state(tmp_path) == record
    info.clear_state(tmp_path, pid=42)
    assert info.read_state(tmp_path) is None
    (tmp_path / info.STATE_FILE).write_text("{not json")
    assert info.read_state(tmp_path) is None
