"""The staleness decision: journal newer than the result, nothing deployed, edges changed."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from meshlink.graph.journal import NodeRecord, NodeStatus
from meshlink.topology.loader import load_topology
from meshlink.verify.model import VerifyReport
from meshlink.verify.staleness import JournalFacts, decide, when
from tests.helpers import EXAMPLES

U, N = "user-service", "notification-service"
TOPOLOGY = load_topology(EXAMPLES / "two-accounts.yaml")
T0 = 1_800_000_000.0  # verify started; it ran 2.5 s


def report(*edges: tuple[str, str]) -> VerifyReport:
    return VerifyReport("shop", "local", [], T0, 2.5, edges=list(edges or [(U, N), (N, U)]))


def journal(
    written_at: float | None, *nodes: tuple[str, NodeStatus, float | None], exists: bool = True
) -> JournalFacts:
    records = {nid: NodeRecord(status=status, finished_at=at) for nid, status, at in nodes}
    return JournalFacts(Path("/state/journal.json"), exists, written_at, records)


DEPLOYED = journal(T0 - 60, ("network:users", "done", T0 - 90), ("service:u", "done", T0 - 60))


def test_fresh_when_nothing_changed_since_verify() -> None:
    staleness = decide(report(), DEPLOYED, TOPOLOGY)
    assert not staleness.stale
    assert staleness.remedy() is None
    assert staleness.to_json()["reason"] is None


def test_a_journal_rebuilt_by_verify_itself_is_not_newer() -> None:
    # verify holds the mesh lock: a write inside its run is its own journal rebuild.
    rebuilt = journal(T0 + 1, ("network:users", "done", T0 + 1))
    assert not decide(report(), rebuilt, TOPOLOGY).stale


def test_a_node_finished_after_verify_makes_it_stale_and_names_the_last() -> None:
    later = journal(
        T0 + 600,
        ("network:users", "done", T0 - 90),
        ("service:u", "done", T0 + 300),
        ("endpoints:u", "failed", T0 + 600),
    )
    staleness = decide(report(), later, TOPOLOGY)
    assert [r.code for r in staleness.reasons] == ["journal-newer"]
    assert staleness.messages() == [
        f"`meshlink up` or `down` ran after verify: 2 nodes finished later "
        f"(last: endpoints:u at {when(T0 + 600)})"
    ]
    assert staleness.remedy() == "run `meshlink verify` to check the mesh as it is now"
    assert staleness.headline() == "stale verify result (verify ran 2027-01-15 08:00:00 UTC)"


def test_a_journal_written_later_without_a_finished_node_is_newer() -> None:
    # `down --only services` forgets nodes: only the file's own time says it ran.
    partial = journal(T0 + 60, ("network:users", "done", T0 - 90))
    staleness = decide(report(), partial, TOPOLOGY)
    assert staleness.messages() == [
        f"`meshlink up` or `down` ran after verify: the journal was written at {when(T0 + 60)}"
    ]


def test_down_after_verify_is_not_deployed() -> None:
    gone = decide(report(), journal(T0 + 60), TOPOLOGY)
    assert [r.code for r in gone.reasons] == ["not-deployed"]
    assert gone.messages() == [
        "the mesh is no longer deployed: the journal records no deployed node "
        f"(journal written {when(T0 + 60)})"
    ]
    assert gone.remedy() == "deploy it with `meshlink up`, then run `meshlink verify`"
    # Records left only as skipped/pending are nothing deployed either.
    skipped = journal(T0 + 60, ("service:u", "skipped", None))
    assert [r.code for r in decide(report(), skipped, TOPOLOGY).reasons] == ["not-deployed"]


def test_no_journal_is_not_deployed() -> None:
    missing = decide(report(), journal(None, exists=False), TOPOLOGY)
    assert missing.messages() == [
        "the mesh is no longer deployed: there is no journal at /state/journal.json"
    ]


def test_edges_added_or_removed_in_the_topology() -> None:
    staleness = decide(report((U, N), ("old", N)), DEPLOYED, TOPOLOGY)
    assert [r.code for r in staleness.reasons] == ["edges-differ"]
    assert staleness.messages() == [
        "the topology's edges differ from the verified ones (not verified: "
        f"{N}->{U}; verified but no longer in the topology: old->{N})"
    ]


def test_every_reason_is_listed_in_the_json() -> None:
    staleness = decide(report((U, N)), journal(T0 + 60), TOPOLOGY)
    document = staleness.to_json()
    assert document["stale"] is True
    assert [r["code"] for r in document["reasons"]] == ["not-deployed", "edges-differ"]
    assert document["reason"] == "; ".join(staleness.messages())
    assert document["started_at"] == "2027-01-15T08:00:00+00:00"


def test_journal_facts_read_the_file_and_its_written_at(tmp_path: Path) -> None:
    assert not JournalFacts.read(tmp_path).exists
    record = asdict(NodeRecord(status="done", finished_at=T0))
    payload = {"version": 1, "written_at": T0 + 5, "nodes": {"network:users": record}}
    (tmp_path / "journal.json").write_text(json.dumps(payload))
    facts = JournalFacts.read(tmp_path)
    assert facts.exists and facts.written_at == T0 + 5
    assert facts.deployed() == ["network:users"]
    (tmp_path / "journal.json").write_text("not json")
    assert not JournalFacts.read(tmp_path).exists
