"""local status counts what exists as AWS would show it (the real thing: test_local_cloud_life)."""

from __future__ import annotations

from types import SimpleNamespace as Obj

from meshlink.localcloud.inventory import _COUNTERS


def test_deleted_clusters_and_services_do_not_count() -> None:
    ecs = Obj(
        clusters={"a": Obj(status="ACTIVE"), "b": Obj(status="INACTIVE")},
        services={"a:s": Obj(status="ACTIVE"), "b:s": Obj(status="INACTIVE")},
        tasks={},
    )
    assert _COUNTERS["ecs_clusters"](ecs) == 1
    assert _COUNTERS["ecs_services"](ecs) == 1


def test_stopped_tasks_do_not_count() -> None:
    ecs = Obj(
        tasks={
            "a": {"t1": Obj(last_status="RUNNING"), "t2": Obj(last_status="STOPPED")},
            "b": {"t3": Obj(last_status="PENDING"), "t4": Obj(last_status="STOPPED")},
        }
    )
    assert _COUNTERS["ecs_tasks"](ecs) == 2
