"""What meshlink inferred that the file left out: said, never silently assumed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Note:
    """One inference, located at the line:col (1-based) it was made for."""

    message: str
    line: int
    col: int

    def render(self, path: Path | str) -> str:
        return f"{path}:{self.line}:{self.col}: note: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {"line": self.line, "col": self.col, "message": self.message}
