"""The one error root: the core raises these, only the CLI turns them into exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130


class MeshlinkError(Exception):
    """Base of every error a user may see: a message, a hint, an exit code."""

    exit_code: int = EXIT_FAILURE
    # True when the command has already shown the user everything (a summary, a JSON
    # document, a status line): the CLI then prints nothing more and only exits.
    reported: bool = False

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Problem:
    """One finding in an input file, located at line:col (1-based)."""

    message: str
    line: int
    col: int
    hint: str | None = None

    def render(self, path: Path | str) -> str:
        text = f"{path}:{self.line}:{self.col}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class TopologyError(MeshlinkError, ValueError):
    """The topology file is invalid; carries every problem found, each located."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, *, path: Path | str, problems: list[Problem]):
        self.path = Path(path)
        self.problems = sorted(problems, key=lambda p: (p.line, p.col, p.message))
        first = self.problems[0]
        super().__init__(
            "\n".join(p.render(path) for p in self.problems),
            hint=None if len(self.problems) > 1 else first.hint,
        )

    @property
    def line(self) -> int:
        return self.problems[0].line

    @property
    def col(self) -> int:
        return self.problems[0].col


class UsageError(MeshlinkError, ValueError):
    """A command was called in a way that cannot work (bad option, missing file)."""

    exit_code = EXIT_BAD_INPUT


class EnvironmentProblem(MeshlinkError, RuntimeError):
    """Something outside meshlink is missing: a tool, credentials, the local cloud."""

    exit_code = EXIT_ENVIRONMENT


class LockHeld(EnvironmentProblem):
    """Another meshlink run holds the lock on this mesh."""


class LocalCloudNotRunning(EnvironmentProblem):
    """`local status` found no local cloud; the status it printed says so already."""

    reported = True

    def __init__(self) -> None:
        super().__init__(
            "the local cloud is not running", hint="start it with: meshlink local start"
        )


class DeployError(MeshlinkError, RuntimeError):
    """A deployment step failed; the journal records where."""

    exit_code = EXIT_FAILURE


class RunFailed(DeployError):
    """`up` or `down` finished with failed nodes; its summary has already listed them."""

    reported = True

    def __init__(self, *, action: str, failed: Sequence[str]):
        self.action = action
        self.failed = list(failed)
        super().__init__(
            f"{action} failed: {', '.join(self.failed) or 'not every node finished'}",
            hint="fix the cause and run the same command again: finished nodes are skipped",
        )


class Declined(MeshlinkError):
    """The person at the terminal answered no to a confirmation; nothing was touched."""

    exit_code = EXIT_FAILURE
    reported = True

    def __init__(self, *, question: str):
        self.question = question
        super().__init__(f"not confirmed: {question}")


class AlreadyReported(MeshlinkError):
    """`error`, already shown in full by the command (e.g. as JSON): only its exit code is left."""

    reported = True

    def __init__(self, error: MeshlinkError):
        self.error = error
        super().__init__(error.message, hint=error.hint, exit_code=error.exit_code)


class VerifyFailed(MeshlinkError):
    """At least one verification check failed."""

    exit_code = EXIT_FAILURE
