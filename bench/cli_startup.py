"""How long `meshlink --help` and `meshlink validate` take, as a user types them.

.venv/bin/python bench/cli_startup.py --runs 20
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MESHLINK = str(REPO / ".venv" / "bin" / "meshlink")
COMMANDS = {
    "meshlink --help": [MESHLINK, "--help"],
    "meshlink validate (two-accounts)": [
        MESHLINK,
        "-f",
        str(REPO / "examples" / "two-accounts.yaml"),
        "validate",
    ],
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print("| command | median | min | max |")
    print("|---|---:|---:|---:|")
    for label, argv in COMMANDS.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        print(
            f"| `{label}` | {statistics.median(times) * 1000:.0f} ms | "
            f"{min(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
