"""Garbage-collector settings for meshlink's own processes: the CLI and the local cloud.

CPython 3.11 (meshlink's) collects its youngest generation every 700 net allocations of
container objects (``gc.get_threshold()`` is ``(700, 10, 10)``), and every collection of
the oldest one walks every object alive. meshlink's processes hold many long-lived
objects (botocore's service models, pydantic's schemas, moto's backends) and allocate
quickly, so that default spends a large share of their CPU walking objects that will
never be garbage.
Measured on this project's local cloud, 2 cores (bench/RESULTS.md, "No-op up"):

* a no-op ``meshlink up`` of 3 services: 119 ms of its ~0.7 s CPU in 269 collections,
  36 ms of them during imports; 16 services: 150 ms in 346;
* then 130-180 ms more after ``main`` returned: the interpreter's last collections at
  exit walk the same objects again, to free memory the operating system frees anyway;
* the local cloud, over a 16-service cold ``up``: 0.30 s of its 1.2 s CPU, pauses up to
  130 ms, during which no request is answered.

So both raise the thresholds (a young collection every 50,000 allocations: at most a few
megabytes of cyclic garbage wait longer), and the CLI freezes what is alive when it
exits (``gc.freeze``: the exit collections skip it). Reference counting frees everything
without a cycle as before; Python never promised finalizers for objects alive at exit.
"""

from __future__ import annotations

import atexit
import gc

# (generation 0, 1, 2): see the module docstring; CPython's default is (700, 10, 10).
THRESHOLDS = (50_000, 20, 100)


def tune_thresholds() -> None:
    """Collect less often, for the rest of this process."""
    gc.set_threshold(*THRESHOLDS)


def tune_for_command() -> None:
    """A CLI run: fewer collections, and none over what is alive at exit (called once, as
    the CLI's module is imported)."""
    tune_thresholds()
    # atexit runs after the interpreter joined the run's threads and before its exit
    # collections (Py_FinalizeEx: wait_for_thread_shutdown, then the atexit callbacks).
    atexit.register(gc.freeze)
