"""What every command receives: global options, the console, the topology on demand."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from meshlink.topology.model import Topology
    from meshlink.topology.notes import Note


def _console(*, stderr: bool) -> Console:
    """A console that never wraps messages; wide tables when writing to a file or pipe
    (unless $COLUMNS says how wide)."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS", "").isdigit() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


@dataclass
class CliContext:
    """Global options, shared by every command through typer's context object."""

    file: Path = Path("meshlink.yaml")
    json_output: bool = False
    debug: bool = False
    environment: str | None = None
    console: Console = field(default_factory=lambda: _console(stderr=False))
    err_console: Console = field(default_factory=lambda: _console(stderr=True))
    _topology: Topology | None = None
    _notes: list[Note] = field(default_factory=list)

    def topology(self) -> Topology:
        """Load (once) and return the topology named by -f/--file."""
        if self._topology is None:
            from meshlink.topology.loader import load_topology_with_notes

            self._topology, self._notes = load_topology_with_notes(self.file, self.environment)
        return self._topology

    def notes(self) -> list[Note]:
        """What loading the topology inferred that the file leaves out (seed JSON)."""
        self.topology()
        return list(self._notes)

    def print_notes(self) -> None:
        """Say on stderr what was inferred, one located line each."""
        for note in self.notes():
            self.err_console.print(f"[cyan]{escape(note.render(self.file))}[/cyan]")

    def workdir(self, option: Path | None) -> Path:
        """Where .meshlink/ state lives: --workdir, else beside the topology file.

        Beside the file, not the current directory: the state belongs to the mesh, and
        running from another folder must not see an empty journal.
        """
        return option if option is not None else self.file.resolve().parent

    def emit_json_line(self, payload: Any) -> None:
        """One compact JSON document on one line (event streams)."""
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
        sys.stdout.flush()

    def emit_json(self, payload: Any) -> None:
        """Write one JSON document to stdout (for scripts: no colour, no wrapping)."""
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")
        sys.stdout.flush()


def get_context(ctx: typer.Context) -> CliContext:
    """The CliContext installed by the root callback (a default one when run directly)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliContext):
        root.obj = CliContext()
    return root.obj
