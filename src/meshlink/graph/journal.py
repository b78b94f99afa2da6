"""Per-node record of what was deployed, written atomically after every change."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

NodeStatus = Literal["pending", "running", "done", "failed", "skipped", "deleted"]
JOURNAL_VERSION = 1


@dataclass
class NodeRecord:
    """What meshlink knows about one node's deployment."""

    status: NodeStatus = "pending"
    fingerprint: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    stack_name: str | None = None
    account_id: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    # The node's last change, timed (deploy/estimate.py::measure): kind, wall seconds,
    # the run's time scale and the AWS-time seconds that refine plan's estimate.
    measured: dict[str, Any] | None = None


def state_dir(root: Path, mesh: str, target: str) -> Path:
    """Where a mesh's journal, lock and engine state live: .meshlink/<mesh>/<target>/."""
    return root / ".meshlink" / mesh / target


class Journal:
    """The journal file of one mesh+target; thread-safe, every write atomic.

    `lock` guards the records; the file is written outside it (readers never wait for a
    disk), one write at a time, and a write carries every change made before it began:
    a change returns once a write holding it is on disk, and changes made meanwhile by
    other threads share the next one (a group commit: 36 nodes that start together
    wrote 36 times, one after another, while every node's reads waited).
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / "journal.json"
        self.lock = threading.RLock()
        self.records: dict[str, NodeRecord] = {}
        # Each record's JSON as it sits in the file, kept until the record changes: a
        # write re-encodes one node, not all (a 136-node mesh wrote 400 times, each
        # re-encoding every node under the lock that every node's thread reads through).
        self._encoded: dict[str, str] = {}
        self._writing = threading.Lock()  # one write at a time; never taken under `lock`
        self._version = 0  # changes made (under `lock`)
        self._written = 0  # ... of which the file holds
        self.existed = self.path.exists()
        if self.existed:
            self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            # A journal that cannot be read is rebuilt from the deployed stacks.
            self.existed = False
            return
        nodes = raw.get("nodes") if isinstance(raw, dict) else None
        if not isinstance(nodes, dict):
            self.existed = False  # not a journal: rebuilt from the deployed stacks
            return
        known = NodeRecord.__dataclass_fields__
        for nid, data in nodes.items():
            if isinstance(data, dict):
                self.records[nid] = NodeRecord(**{k: v for k, v in data.items() if k in known})

    def get(self, nid: str) -> NodeRecord:
        with self.lock:
            return self.records.setdefault(nid, NodeRecord())

    def update(self, nid: str, **changes: Any) -> NodeRecord:
        """Change one node's record and write the whole journal atomically."""
        record = self.stage(nid, **changes)
        self._commit()
        return record

    def stage(self, nid: str, **changes: Any) -> NodeRecord:
        """Change one node's record in memory only; the next write (update, forget or
        save) carries it. For what a crash may lose: a skipped node's timestamps."""
        with self.lock:
            record = self.records.setdefault(nid, NodeRecord())
            for key, value in changes.items():
                setattr(record, key, value)
            self._encoded.pop(nid, None)
            self._version += 1
            return record

    def save(self) -> None:
        """Write the whole journal now (staged changes included)."""
        with self.lock:
            self._version += 1
        self._commit()

    def forget(self, nid: str) -> None:
        with self.lock:
            self.records.pop(nid, None)
            self._encoded.pop(nid, None)
            self._version += 1
        self._commit()

    def _commit(self) -> None:
        """Return once the file holds every change made so far (this thread's included)."""
        with self.lock:
            wanted = self._version
        with self._writing:
            if self._written >= wanted:
                return  # a write begun after the change carried it
            with self.lock:
                version, text = self._version, self._text()
            self._write(text)
            self._written = version

    def _encode(self, nid: str) -> str:
        """One node's entry of the file: what ``json.dump(payload, indent=2)`` writes."""
        entry = self._encoded.get(nid)
        if entry is None:
            body = json.dumps(asdict(self.records[nid]), indent=2, default=str)
            entry = f"{json.dumps(nid)}: {body}".replace("\n", "\n    ")
            self._encoded[nid] = entry
        return entry

    def _text(self) -> str:
        """The file's content for the records as they are now."""
        with self.lock:
            entries = [self._encode(nid) for nid in sorted(self.records)]
        nodes = "{\n    " + ",\n    ".join(entries) + "\n  }" if entries else "{}"
        head = json.dumps({"version": JOURNAL_VERSION, "written_at": time.time()}, indent=2)
        return f'{head[:-2]},\n  "nodes": {nodes}\n}}'

    def _write(self, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".journal-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            Path(temp).replace(self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
