"""The seed-format import's bookkeeping: where each value came from, problems, notes."""

from __future__ import annotations

import re
from typing import Any

from meshlink.errors import Problem
from meshlink.topology.locations import Locations, PathKey
from meshlink.topology.notes import Note

OBJECT = (dict, "an object")
LIST = (list, "a list")
STRING = (str, "a string")


class Converter:
    """Builds topology data from seed data, keeping every value's file location."""

    def __init__(self, source: Locations):
        self.source = source
        self.target = Locations()
        self.problems: list[Problem] = []
        self.notes: list[Note] = []

    def place(self, new: PathKey, old: PathKey) -> None:
        """The value at `new` comes from `old` in the file: errors point there."""
        self.target.values[new] = self.source.of_value(old)
        self.target.keys[new] = self.source.of_key(old)

    def problem(self, old: PathKey, message: str, hint: str, *, at_key: bool = False) -> None:
        where = self.source.of_key(old) if at_key else self.source.of_value(old)
        self.problems.append(Problem(message, *where, hint))

    def note(self, old: PathKey, message: str) -> None:
        """Say what was inferred for the value at `old` (or what encloses it)."""
        self.notes.append(Note(message, *self.source.of_key(old)))

    def field(
        self, parent: dict[str, Any], old: PathKey, key: str, kind: tuple[type, str], default: Any
    ) -> Any:
        """parent[key] if it has the expected type; the default (and a problem) if not."""
        value = parent.get(key)
        if value is None:
            return default
        if not isinstance(value, kind[0]):
            self.problem(
                (*old, key),
                f"{dotted((*old, key))} must be {kind[1]}, not {kind_of(value)}",
                "see the blog post's config for the expected shape",
            )
            return default
        return value


def dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def kind_of(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return "null" if value is None else kinds.get(type(value), "a number")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "mesh"


def is_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def is_account_id(value: Any) -> bool:
    """A 12-digit account id written as a string."""
    return isinstance(value, str) and re.fullmatch(r"[0-9]{12}", value) is not None
