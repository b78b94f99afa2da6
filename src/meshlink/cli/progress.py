"""Live progress of a graph run: a table on a terminal, lines in logs, JSON for scripts."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from meshlink.graph.executor import Event

STYLE = {
    "pending": "dim",
    "running": "cyan",
    "done": "green",
    "unchanged": "green",
    "failed": "bold red",
    "skipped": "yellow",
    "cancelled": "yellow",
}
MARK = {"done": "✓", "unchanged": "=", "failed": "✗", "skipped": "-", "cancelled": "-"}


@dataclass
class Row:
    state: str = "pending"
    started: float | None = None
    seconds: float | None = None
    message: str = ""
    history: list[str] = field(default_factory=list)


class Progress:
    """Receives executor events from worker threads and shows them."""

    def __init__(self, console: Console, order: list[str], *, json_lines: bool = False):
        self.console = console
        self.json_lines = json_lines
        self.rows = {nid: Row() for nid in order}
        self._lock = threading.Lock()
        self._live: Live | None = None
        if console.is_terminal and not json_lines:
            self._live = Live(self._table(), console=console, refresh_per_second=8, transient=False)

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(exc_type, exc, tb)

    def notice(self, message: str) -> None:
        """A one-line remark during the run, printed above the live table (or to stderr)."""
        with self._lock:
            if self.json_lines:
                sys.stdout.write(json.dumps({"event": "notice", "message": message}) + "\n")
                sys.stdout.flush()
            elif self._live is not None:
                self._live.console.print(f"[dim]{escape(message)}[/dim]")
            else:
                sys.stderr.write(message + "\n")

    def __call__(self, event: Event) -> None:
        with self._lock:
            row = self.rows.setdefault(event.node, Row())
            if event.kind == "started":
                row.state, row.started = "running", time.monotonic()
            elif event.kind == "progress":
                row.message = event.message
            elif event.outcome is not None:
                row.state = event.outcome.status
                row.seconds = event.outcome.seconds
                row.message = event.outcome.detail or ""
            self._show(event, row)

    def _show(self, event: Event, row: Row) -> None:
        if self.json_lines:
            payload: dict[str, Any] = {"event": event.kind, "node": event.node, "at": event.at}
            if event.kind == "progress":
                payload["message"] = event.message
            if event.outcome is not None:
                payload.update(
                    status=event.outcome.status,
                    detail=event.outcome.detail,
                    seconds=round(event.outcome.seconds, 3),
                )
            sys.stdout.write(json.dumps(payload) + "\n")
            sys.stdout.flush()
        elif self._live is not None:
            self._live.update(self._table())
        elif event.kind == "finished":
            self.console.print(self._line(event.node, row))

    def _line(self, nid: str, row: Row) -> str:
        seconds = f"{row.seconds:6.1f}s" if row.seconds is not None else "       "
        style = STYLE.get(row.state, "")
        mark = MARK.get(row.state, " ")
        return (
            f"[{style}]{mark} {nid:<34} {row.state:<9}[/{style}] {seconds}  {escape(row.message)}"
        )

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        table.add_column("node")
        table.add_column("state")
        table.add_column("time", justify="right")
        table.add_column("now", overflow="ellipsis", no_wrap=True, max_width=70)
        now = time.monotonic()
        for nid, row in self.rows.items():
            if row.seconds is not None:
                elapsed = f"{row.seconds:.1f}s"
            elif row.started is not None:
                elapsed = f"{now - row.started:.1f}s"
            else:
                elapsed = ""
            style = STYLE.get(row.state, "")
            table.add_row(nid, f"[{style}]{row.state}[/{style}]", elapsed, escape(row.message))
        return table
