"""A verify report as JSON (schema in docs/verify-json.md), as JUnit XML, and on disk."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from meshlink.errors import UsageError
from meshlink.verify.model import CheckResult, Edge, EdgeState, VerifyReport

SCHEMA = "meshlink.verify/v1"
RESULT_FILE = "verify.json"


def to_json(report: VerifyReport) -> dict[str, Any]:
    """The report as the documented JSON document (docs/verify-json.md)."""
    states = report.edge_states()
    return {
        "schema": SCHEMA,
        "mesh": report.mesh,
        "target": report.target,
        "ok": report.ok,
        "started_at": datetime.fromtimestamp(report.started_at, UTC).isoformat(),
        "seconds": round(report.seconds, 3),
        "options": {"only": report.only, "deep": report.deep},
        "summary": {
            **report.counts(),
            "probes": report.probes(),
            "probe_tasks": report.probe_tasks(),
        },
        "edges": [
            {"consumer": c, "provider": p, "state": states.get((c, p), "unknown")}
            for c, p in report.edges
        ],
        "checks": [result.to_dict() for result in report.results],
    }


def from_json(data: dict[str, Any]) -> VerifyReport:
    """Read back a document written by to_json (same schema major version only)."""
    if data.get("schema") != SCHEMA:
        raise UsageError(f"not a {SCHEMA} document (schema {data.get('schema')!r})")
    started = datetime.fromisoformat(data["started_at"]).timestamp()
    return VerifyReport(
        mesh=data["mesh"],
        target=data["target"],
        results=[CheckResult.from_dict(c) for c in data["checks"]],
        started_at=started,
        seconds=float(data["seconds"]),
        only=data["options"].get("only"),
        deep=bool(data["options"].get("deep")),
        edges=[(e["consumer"], e["provider"]) for e in data["edges"]],
    )


def save(state_dir: Path, report: VerifyReport) -> Path:
    """Write the report next to the mesh's journal, atomically (graph --verify reads it)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / RESULT_FILE
    handle, temp = tempfile.mkstemp(dir=state_dir, prefix=".verify-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(to_json(report), stream, indent=2, default=str)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def load(state_dir: Path) -> VerifyReport:
    """The last saved report of a mesh; UsageError when verify never ran there."""
    path = state_dir / RESULT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"no verify result at {path}",
            hint="run `meshlink verify` first (with the same --workdir)",
        ) from None
    except ValueError as error:
        raise UsageError(f"{path} is not valid JSON: {error}") from None
    return from_json(data)


def last_edge_states(state_dir: Path) -> dict[Edge, EdgeState]:
    """Per edge, pass / fail / unknown from the last saved verify run."""
    return dict(load(state_dir).edge_states())


def junit(report: VerifyReport) -> str:
    """JUnit XML: one suite per category, one test case per check and subject."""
    root = ET.Element("testsuites", name=f"meshlink verify {report.mesh}")
    root.set("tests", str(len(report.results)))
    root.set("failures", str(len(report.failures())))
    root.set("time", f"{report.seconds:.3f}")
    for category in ("control", "traffic"):
        results = [r for r in report.results if r.category == category]
        if not results:
            continue
        suite = ET.SubElement(root, "testsuite", name=f"{report.mesh}.{category}")
        suite.set("tests", str(len(results)))
        suite.set("failures", str(sum(r.status == "fail" for r in results)))
        suite.set("skipped", str(sum(r.status == "skipped" for r in results)))
        suite.set("time", f"{sum(r.seconds for r in results):.3f}")
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"meshlink.verify.{result.check}",
                name=f"{result.check} [{result.subject.kind} {result.subject.name}]",
                time=f"{result.seconds:.3f}",
            )
            evidence = json.dumps(result.evidence, indent=2, sort_keys=True, default=str)
            if result.status == "fail":
                failure = ET.SubElement(case, "failure", message=result.message, type="fail")
                failure.text = evidence
            elif result.status == "skipped":
                ET.SubElement(case, "skipped", message=result.message)
            else:
                out = ET.SubElement(case, "system-out")
                prefix = "warning: " if result.status == "warn" else ""
                out.text = f"{prefix}{result.message}\n{evidence}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
