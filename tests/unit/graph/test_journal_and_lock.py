from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from meshlink.errors import LockHeld
from meshlink.graph.journal import Journal
from meshlink.graph.lock import mesh_lock


def test_journal_round_trips_and_is_written_atomically(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.update("edge:a", status="done", fingerprint="abc", outputs={"X": "1"})
    assert not list(tmp_path.glob(".journal-*"))  # no temp file left behind
    again = Journal(tmp_path)
    assert again.existed
    assert again.get("edge:a").outputs == {"X": "1"}
    assert again.get("edge:a").fingerprint == "abc"


def test_a_write_re_encodes_only_what_changed_and_the_file_is_json_dump_s(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path)
    journal.update("edge:a", status="done", outputs={"Arn": "arn:x", "Zones": ["z1", "z2"]})
    journal.update("accept:b", status="running", parameters={"Note": 'line\n"quoted"'})
    journal.stage("accept:b", error="boom")  # staged: carried by the next write
    journal.update("service:c", measured={"kind": "service", "seconds": 1.5})
    journal.forget("service:c")
    written = (tmp_path / "journal.json").read_text()
    payload = json.loads(written)
    nodes = {nid: asdict(record) for nid, record in sorted(journal.records.items())}
    assert payload["nodes"] == nodes and payload["nodes"]["accept:b"]["error"] == "boom"
    expected = {"version": payload["version"], "written_at": payload["written_at"], "nodes": nodes}
    assert written == json.dumps(expected, indent=2)  # the same bytes as before the cache
    assert Journal(tmp_path).records == journal.records


def test_unreadable_journal_is_treated_as_missing(tmp_path: Path) -> None:
    (tmp_path / "journal.json").write_text("{not json")
    assert not Journal(tmp_path).existed


def test_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    # The holder is another process, as in real life (flock is per open file).
    code = (
        "import sys, time, pathlib; from meshlink.graph.lock import mesh_lock\n"
        "with mesh_lock(pathlib.Path(sys.argv[1]), 'meshlink up'):\n"
        "    print('held', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld) as caught, mesh_lock(tmp_path, "meshlink down"):
            pass
        assert f"'meshlink up' (pid {holder.pid}" in caught.value.message
        assert caught.value.exit_code == 3
    finally:
        holder.kill()
        holder.wait()
    # The lock went with its (killed) process: the next run takes it at once.
    with mesh_lock(tmp_path, "meshlink up") as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_a_lock_file_left_by_a_dead_process_does_not_block(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / "lock").write_text(json.dumps({"pid": int(dead.stdout), "command": "up"}))
    with mesh_lock(tmp_path, "meshlink up") as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_concurrent_updates_all_reach_the_file_sharing_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    writes: list[int] = []
    original = Journal._write

    def counted(journal: Journal, text: str) -> None:
        writes.append(1)
        original(journal, text)

    monkeypatch.setattr(Journal, "_write", counted)
    journal = Journal(tmp_path)
    start = threading.Barrier(16)
    behind: list[tuple[int, int, object]] = []

    def node(n: int) -> None:
        start.wait()
        for i in range(20):
            journal.update(f"node:{n}", status="running", outputs={"i": i})
            # Returned: the file holds this change (no other thread changes this node).
            on_disk = Journal(tmp_path).get(f"node:{n}").outputs.get("i")
            if on_disk != i:
                behind.append((n, i, on_disk))

    threads = [threading.Thread(target=node, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert behind == []
    final = Journal(tmp_path)
    assert {n: final.get(f"node:{n}").outputs for n in range(16)} == {
        n: {"i": 19} for n in range(16)
    }
    assert 0 < len(writes) <= 16 * 20  # a write per change at most (shared when they meet)
