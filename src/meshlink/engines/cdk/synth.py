"""Synthesize a CDK app in-process to a cloud assembly, cached by a caller-given key."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshlink.errors import DeployError, EnvironmentProblem

# Written last into a finished assembly: its presence is what makes a cache entry valid.
INDEX_FILE = "meshlink-index.json"

Builder = Callable[[Any], None]
"""Adds stacks to the `aws_cdk.App` it is given."""


@dataclass(frozen=True)
class Synthesized:
    """Templates of a synthesized app, by CloudFormation stack name."""

    templates: dict[str, dict[str, Any]]
    assembly_dir: Path
    cached: bool

    def template(self, stack_name: str) -> dict[str, Any]:
        try:
            return self.templates[stack_name]
        except KeyError:
            raise DeployError(
                f"stack {stack_name} is not in the synthesized app",
                hint=f"stacks synthesized: {', '.join(sorted(self.templates)) or 'none'}",
            ) from None


def import_cdk() -> Any:
    """Import aws_cdk without jsii's end-of-life banner for the installed Node."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    try:
        import aws_cdk
    except Exception as exc:  # jsii raises plain Exceptions when Node is missing or broken
        raise EnvironmentProblem(
            f"cannot load aws-cdk-lib: {exc}",
            hint="CDK synthesis needs Node.js (18 or newer) on PATH",
        ) from exc
    return aws_cdk


def synth(builder: Builder, *, key: str, cache_dir: Path) -> Synthesized:
    """Synthesize the app `builder` makes into `cache_dir/<key>`, or read it from there.

    `key` must change whenever the templates could (e.g. topology hash + meshlink
    version): a hit returns the stored templates without starting Node.
    """
    if not key or "/" in key or key.startswith("."):
        raise ValueError(f"synth cache key must be a plain file name, got {key!r}")
    target = cache_dir / key
    cached = load_cached(target)
    if cached is not None:
        return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache_dir))
    try:
        files = _synth_into(builder, work)
        (work / INDEX_FILE).write_text(
            json.dumps({"key": key, "stacks": files}, indent=2, sort_keys=True), encoding="utf-8"
        )
        templates = _read_templates(work, files)
        try:
            # Atomic publish: a concurrent run either sees no entry or a complete one.
            work.rename(target)
        except OSError:
            if load_cached(target) is not None:  # another run published it first
                shutil.rmtree(work, ignore_errors=True)
            else:  # a damaged entry (e.g. an interrupted copy): replace it
                shutil.rmtree(target, ignore_errors=True)
                work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Synthesized(templates=templates, assembly_dir=target, cached=False)


def load_cached(assembly_dir: Path) -> Synthesized | None:
    """The templates of a complete cached assembly, or None when there is none."""
    index_path = assembly_dir / INDEX_FILE
    if not index_path.is_file():
        return None
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        templates = _read_templates(assembly_dir, index["stacks"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged entry is a miss; synth replaces it
    return Synthesized(templates=templates, assembly_dir=assembly_dir, cached=True)


def _read_templates(assembly_dir: Path, files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        name: json.loads((assembly_dir / relative).read_text(encoding="utf-8"))
        for name, relative in files.items()
    }


def _synth_into(builder: Builder, outdir: Path) -> dict[str, str]:
    """Synthesize into `outdir`; the template file of each stack, relative to it, by name."""
    cdk = import_cdk()
    # Stack traces on every construct make synthesis slower and the assembly bigger;
    # analytics would add an AWS::CDK::Metadata resource to every template.
    app = cdk.App(
        outdir=str(outdir), stack_traces=False, analytics_reporting=False, tree_metadata=False
    )
    builder(app)
    assembly = app.synth()
    files: dict[str, str] = {}
    for artifact in assembly.stacks_recursively:
        name = str(artifact.stack_name)
        if name in files:
            raise DeployError(f"two stacks of the app are both named {name}")
        files[name] = Path(str(artifact.template_full_path)).relative_to(outdir).as_posix()
    return files
