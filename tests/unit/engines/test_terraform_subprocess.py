"""meshlink.subprocess_runner: the one wrapper Terraform (and every other tool) runs through."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from meshlink import subprocess_runner
from meshlink.errors import EnvironmentProblem
from meshlink.subprocess_runner import CommandFailed, CommandTimedOut, child_env

PY = sys.executable


def test_run_collects_output_in_the_given_cwd(tmp_path: Path) -> None:
    result = subprocess_runner.run(
        [PY, "-c", "import os,sys; print(os.getcwd()); print('err', file=sys.stderr)"],
        env=child_env(),
        cwd=tmp_path,
    )
    assert result.ok and result.returncode == 0
    assert result.stdout.strip() == str(tmp_path)
    assert result.stderr.strip() == "err"
    assert result.argv[0] == PY


def test_environment_is_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHLINK_SECRET_FOR_TEST", "leak")
    monkeypatch.setenv("TF_LOG_FOR_TEST", "kept")
    env = child_env({"EXTRA": "1"}, inherit_prefixes=("TF_",))
    assert "MESHLINK_SECRET_FOR_TEST" not in env
    assert env["TF_LOG_FOR_TEST"] == "kept" and env["EXTRA"] == "1"
    code = "import os; print(os.environ.get('MESHLINK_SECRET_FOR_TEST'), os.environ['EXTRA'])"
    result = subprocess_runner.run([PY, "-c", code], env=env)
    assert result.stdout.split() == ["None", "1"]


def test_stream_hands_over_lines_while_the_child_runs() -> None:
    seen: list[tuple[str, float]] = []
    code = "import time\nfor i in range(3):\n    print(i, flush=True); time.sleep(0.2)"
    result = subprocess_runner.stream(
        [PY, "-c", code],
        env=child_env(),
        on_line=lambda line: seen.append((line, time.monotonic())),
    )
    assert [line for line, _ in seen] == ["0", "1", "2"]
    assert seen[-1][1] - seen[0][1] > 0.3  # the first line came before the child finished
    assert result.stdout == "0\n1\n2"


@pytest.mark.parametrize("streaming", [False, True])
def test_timeout_stops_the_child(streaming: bool) -> None:
    argv = [PY, "-c", "import time; time.sleep(30)"]
    started = time.monotonic()
    with pytest.raises(CommandTimedOut) as caught:
        if streaming:
            subprocess_runner.stream(argv, env=child_env(), on_line=lambda _: None, timeout=0.5)
        else:
            subprocess_runner.run(argv, env=child_env(), timeout=0.5)
    assert time.monotonic() - started < 10
    assert caught.value.exit_code == 1 and "did not finish within 0.5s" in caught.value.message


def test_missing_program_is_an_environment_problem() -> None:
    with pytest.raises(EnvironmentProblem) as caught:
        subprocess_runner.run(["/nonexistent/terraform", "version"], env=child_env())
    assert caught.value.exit_code == 3


def test_check_raises_with_the_output_tail() -> None:
    with pytest.raises(CommandFailed) as caught:
        subprocess_runner.run(
            [PY, "-c", "import sys; print('bad thing', file=sys.stderr); sys.exit(4)"],
            env=child_env(),
            check=True,
        )
    assert caught.value.result.returncode == 4
    assert caught.value.message.endswith("bad thing")


def test_interrupt_all_passes_ctrl_c_to_running_children() -> None:
    code = (
        "import os, signal, time\n"
        "def stop(*_):\n    os.write(1, b'interrupted\\n'); os._exit(7)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    ready = threading.Event()
    results: list[subprocess_runner.CommandResult] = []

    def on_line(line: str) -> None:
        if line == "ready":
            ready.set()

    worker = threading.Thread(
        target=lambda: results.append(
            subprocess_runner.stream([PY, "-c", code], env=child_env(), on_line=on_line)
        )
    )
    worker.start()
    assert ready.wait(10)
    assert subprocess_runner.interrupt_all() == 1
    worker.join(10)
    (result,) = results
    assert result.returncode == 7 and result.stdout.endswith("interrupted")
    assert subprocess_runner.interrupt_all() == 0  # nothing left running
