"""The CLI's garbage-collector settings: fewer collections, none over what is alive at exit."""

from __future__ import annotations

import subprocess
import sys

from meshlink import collector

# Registered before the CLI's module is imported, so it runs after the CLI's own exit
# hook (atexit runs last-in first-out): by then the objects alive are frozen.
PROBE = """
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
import meshlink.cli.app
print("thresholds:", gc.get_threshold())
"""


def test_the_cli_raises_the_thresholds_and_freezes_at_exit() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == [
        f"thresholds: {collector.THRESHOLDS}",
        "frozen at exit: True",
    ]
