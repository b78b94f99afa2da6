"""checkov finds nothing: every synthesized template, the bootstrap template, the Terraform
module. Each check that does not apply is skipped in code with its reason (CloudFormation
Metadata `checkov: {skip: [{id, comment}]}`, HCL `#checkov:skip=<id>:<reason>`).

checkov lives in a venv of its own (`make checkov` builds .venv-checkov); without it this
test is skipped and says how to get it. MESHLINK_CHECKOV names another checkov binary.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from meshlink.bootstrap.policy import deploy_role_template
from tests.helpers import REPO
from tests.unit.stacks.stacks_helpers import TWO_WAY, Mesh, synthesize

CHECKOV = Path(os.environ.get("MESHLINK_CHECKOV", REPO / ".venv-checkov" / "bin" / "checkov"))
MODULE = REPO / "terraform" / "modules" / "account-network"
KMS_KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

pytestmark = pytest.mark.skipif(
    not CHECKOV.exists(), reason=f"no checkov at {CHECKOV}: run `make checkov`"
)


def _failed(target: Path, framework: str) -> list[str]:
    done = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(target),
            "--framework",
            framework,
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_GLOBAL_DEPS": "1"},
        check=False,
    )
    assert done.stdout.strip(), done.stderr[-2000:]
    reports: Any = json.loads(done.stdout)
    failed = []
    for report in reports if isinstance(reports, list) else [reports]:
        if "results" not in report:  # nothing of this framework in the folder
            continue
        for check in report["results"]["failed_checks"]:
            failed.append(f"{check['check_id']} {check['resource']} ({check['file_path']})")
    return sorted(failed)


def test_every_template_passes_checkov(all_meshes: list[Mesh], tmp_path: Path) -> None:
    kms = dict(TWO_WAY, name="kms", logs={"kms_key_arn": KMS_KEY})
    for mesh in [*all_meshes, synthesize(kms)]:
        for node, template in mesh.templates.items():
            name = f"{mesh.topology.name}-{node.replace(':', '-')}.json"
            (tmp_path / name).write_text(json.dumps(template))
    bootstrap = deploy_role_template(
        all_meshes[0].topology, "users", "arn:aws:iam::999999999999:role/ops"
    )
    (tmp_path / "bootstrap.json").write_text(json.dumps(bootstrap))
    assert _failed(tmp_path, "cloudformation") == []


def test_the_terraform_module_passes_checkov() -> None:
    assert _failed(MODULE, "terraform") == []
