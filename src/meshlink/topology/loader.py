"""Load a topology file (YAML, or the blog post's JSON) into a validated Topology."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from meshlink.errors import Problem, TopologyError, UsageError
from meshlink.topology.environments import select_environment
from meshlink.topology.locations import Locations, parse_document
from meshlink.topology.model import Topology
from meshlink.topology.notes import Note
from meshlink.topology.rules import check

FRIENDLY_PATTERNS = {
    "id": ("account ids are exactly 12 digits", 'write all 12 digits, quoted: id: "111111111111"'),
    "name": (
        "names are lower-case letters, digits and '-', starting with a letter",
        "e.g. user-service",
    ),
    "service_name": (
        "external service names start with com.amazonaws.",
        "copy the endpoint service name from the provider, e.g. com.amazonaws.vpce.…",
    ),
}


def load_topology(path: Path | str, environment: str | None = None) -> Topology:
    """Read, parse and validate `path`; raise TopologyError listing every problem.

    With `environment`, that overlay of the file's `environments` is laid over the base.
    """
    return load_topology_with_notes(path, environment)[0]


def load_topology_with_notes(
    path: Path | str, environment: str | None = None
) -> tuple[Topology, list[Note]]:
    """`load_topology`, and what was inferred that the file leaves out (seed JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"topology file {path} does not exist",
            hint="pass -f FILE, or run 'meshlink init' to write a starter meshlink.yaml",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    return _load(text, path, environment)


def load_topology_text(
    text: str, path: Path | str = "<string>", environment: str | None = None
) -> Topology:
    """Validate topology `text` (YAML or seed-format JSON) as if read from `path`."""
    return _load(text, path, environment)[0]


def _load(text: str, path: Path | str, environment: str | None) -> tuple[Topology, list[Note]]:
    document = parse_document(text)
    if document.problems and document.data is None:
        raise TopologyError(path=path, problems=document.problems)
    data, locations = document.data, document.locations
    problems = list(document.problems)
    notes: list[Note] = []
    if isinstance(data, dict) and "microservices" in data:
        from meshlink.topology.seed import convert_seed

        data, locations, seed_problems, notes = convert_seed(
            data, locations, default_name=Path(path).stem
        )
        problems += seed_problems
    if environment is not None and isinstance(data, dict):
        data, locations, overlay_problems = select_environment(data, locations, environment)
        problems += overlay_problems
    if not isinstance(data, dict):
        raise TopologyError(
            path=path,
            problems=[
                Problem(
                    "the topology must be a mapping (name:, accounts:, services:, ...)",
                    *locations.of_value(()),
                    hint="run 'meshlink init' to see a starter file",
                )
            ],
        )
    topology: Topology | None = None
    try:
        topology = Topology.model_validate(data)
    except ValidationError as exc:
        lines = text.splitlines()
        found = [_problem_from(error, locations, lines) for error in exc.errors()]
    else:
        found = check(topology, locations)
    # A value the parser or the seed import already rejected comes back as a consequence
    # (None where a port should be, an unknown account ''): report it once.
    rejected = {(p.line, p.col) for p in problems}
    problems += [p for p in found if (p.line, p.col) not in rejected]
    if problems or topology is None:
        raise TopologyError(path=path, problems=problems)
    return topology, notes


def _problem_from(error: Any, locations: Locations, lines: list[str] | None = None) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if "[key]" in loc:
        key_path = loc[: loc.index("[key]")]
        line, col = locations.of_key(key_path)
        pattern, hint = FRIENDLY_PATTERNS["name"]
        return Problem(f"invalid name '{key_path[-1]}': {pattern}", line, col, hint)
    if kind == "extra_forbidden":
        line, col = locations.of_key(loc)
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
        return Problem(f"unknown key '{loc[-1]}'{_where(loc[:-1])}", line, col, hint)
    if kind == "missing":
        line, col = locations.of_key(loc[:-1]) if loc[:-1] else (1, 1)
        return Problem(
            f"missing required key '{loc[-1]}'{_where(loc[:-1])}",
            line,
            col,
            f"add {loc[-1]}: ...",
        )
    line, col = locations.of_value(loc)
    field = str(loc[-1]) if loc else ""
    if kind == "string_pattern_mismatch" and field in FRIENDLY_PATTERNS:
        message, hint = FRIENDLY_PATTERNS[field]
        return Problem(f"invalid {field} {error['input']!r}: {message}", line, col, hint)
    if kind == "string_type" and field == "id":
        # YAML read 012345670123 as an octal number: quote what the user wrote, not that.
        written = _written(lines or [], line, col) or str(error["input"])
        return Problem(
            f"invalid id {written}: account ids are strings of 12 digits",
            line,
            col,
            f'quote it: id: "{written}"',
        )
    if kind == "string_pattern_mismatch" and field == "region":
        return Problem(f"invalid region {error['input']!r}", line, col, "e.g. us-east-1, eu-west-1")
    message = str(error["msg"]).removeprefix("Value error, ")
    return Problem(f"{_dotted(loc)}: {message}", line, col, _type_hint(kind))


def _written(lines: list[str], line: int, col: int) -> str:
    """The plain scalar as written at line:col (1-based), up to the next delimiter."""
    if not 0 < line <= len(lines):
        return ""
    rest = lines[line - 1][col - 1 :]
    end = next((i for i, c in enumerate(rest) if c in " \t,}]#"), len(rest))
    return rest[:end]


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "topology"


def _where(loc: tuple[Any, ...]) -> str:
    return f" in {_dotted(loc)}" if loc else ""


def _type_hint(kind: str) -> str | None:
    return {
        "int_parsing": "write a whole number",
        "int_type": "write a whole number",
        "bool_parsing": "write true or false",
        "literal_error": None,
        "greater_than_equal": None,
        "less_than_equal": None,
        "list_type": "write a list, e.g. [a, b]",
        "dict_type": "write a mapping of name: settings",
        "model_type": "write a mapping of key: value",
    }.get(kind)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking `loc` from Topology."""
    model: Any = Topology
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            model = field.annotation if field else None
        else:
            model = _value_type(model)
        model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] so navigation reaches the model inside."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, type(int | None)) and len(args) == 1:
        return args[0]
    return annotation


def _value_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[-1] if args else None
