"""The Dockerfile, checked by parsing it (there is no Docker engine on the build machines)."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from meshlink_service.config import DEFAULT_PORT

SERVICE_DIR = Path(__file__).resolve().parent.parent
# An exact patch release of a slim image (python:3.11.11-slim-bookworm), or a digest.
_PINNED = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$|@sha256:")
_BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|make|build-essential|clang|cargo|rustc|apt-get install|apk add|pip install)\b"
)


@dataclass
class Stage:
    """One FROM ... block."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        """Arguments of every instruction ``keyword`` in this stage."""
        return [rest for kw, rest in self.instructions if kw == keyword]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "Dockerfile ends inside a continuation"
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, name))
        elif not stages and keyword == "ARG":
            key, _, default = rest.partition("=")
            args[key] = default
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, rest.strip()))
    return args, stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse((SERVICE_DIR / "Dockerfile").read_text())[1]


def test_multi_stage_from_a_pinned_slim_base(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    for stage in stages:
        assert _PINNED.search(stage.image), f"{stage.image} is not pinned"
        assert "slim" in stage.image or "@sha256:" in stage.image
    assert stages[-1].args("COPY")[0].startswith("--from=build ")


def test_final_stage_runs_as_non_root(stages: list[Stage]) -> None:
    users = stages[-1].args("USER")
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # The last USER must come after anything that needs root in this stage.
    keywords = [kw for kw, _ in stages[-1].instructions]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw == "RUN")


def test_expose_matches_the_default_port(stages: list[Stage]) -> None:
    assert stages[-1].args("EXPOSE") == [str(DEFAULT_PORT)]
    env = " ".join(stages[-1].args("ENV"))
    assert f"PORT={DEFAULT_PORT}" in env.split()


def test_healthcheck_uses_the_probe_on_health(stages: list[Stage]) -> None:
    (check,) = stages[-1].args("HEALTHCHECK")
    assert re.search(r"--timeout=\d+s", check) and re.search(r"--interval=\d+s", check)
    command = json.loads(check[check.index("CMD") + 3 :].strip())
    joined = " ".join(command)
    assert "meshlink_service probe" in joined
    assert "/health" in joined and "${PORT}" in joined


def test_entrypoint_runs_the_service(stages: list[Stage]) -> None:
    (entry,) = stages[-1].args("ENTRYPOINT")
    assert json.loads(entry) == ["python", "-m", "meshlink_service"]


def test_no_build_tools_in_the_final_stage(stages: list[Stage]) -> None:
    for command in stages[-1].args("RUN"):
        assert not _BUILD_TOOLS.search(command), command


def test_copied_sources_exist_and_are_not_ignored(stages: list[Stage]) -> None:
    ignore = [
        line.strip()
        for line in (SERVICE_DIR / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for pattern in ("tests", ".venv", "**/__pycache__"):
        assert pattern in ignore
    for stage in stages:
        for copy in stage.args("COPY"):
            if copy.startswith("--from="):
                continue
            for source in copy.split()[:-1]:
                assert (SERVICE_DIR / source).exists(), source
                assert not _ignored(source, ignore), f"{source} is excluded by .dockerignore"


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for a top-level path: the last matching line wins."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        if fnmatch.fnmatch(path, pattern.lstrip("!")):
            ignored = not negate
    return ignored


def test_parser_sees_a_root_user_as_root() -> None:
    # The checks above are only as good as the parser: a root image must fail them.
    _, bad = parse("FROM python:latest\nUSER root\nRUN apt-get install -y gcc\n")
    assert not _PINNED.search(bad[0].image)
    assert bad[0].args("USER") == ["root"]
    assert _BUILD_TOOLS.search(bad[0].args("RUN")[0])
