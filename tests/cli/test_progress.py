"""On a terminal, a long run shows a progress bar; piped, it prints none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def on_a_terminal(*args: str) -> str:
    """What ``rabble-sim ARGS`` shows on a terminal (stdout and stderr both), once it exits 0."""
    primary, secondary = os.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    env.pop("CI", None)
    command = [sys.executable, "-m", "rabble_sim.cli", *args]
    with subprocess.Popen(command, cwd=ROOT, stdout=secondary, stderr=secondary, env=env) as child:
        os.close(secondary)
        screen = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        assert child.wait(timeout=120) == 0
    os.close(primary)
    return screen.decode(errors="replace")


def test_a_long_run_on_a_terminal_shows_progress() -> None:
    text = on_a_terminal("run", "protocols.omega:scenario", "--seeds", "40")
    assert "seeds of protocols.omega:scenario" in text
    assert "/40" in text  # "done/total"
    assert "no violation in 40 seeds" in text


def test_a_long_exploration_on_a_terminal_shows_how_far_it_is() -> None:
    text = on_a_terminal("explore", "protocols.echo:scenario", "--depth", "4")
    assert "exploring: " in text and " distinct, depth " in text and "states/s" in text
    assert "no violation within 4 steps" in text


def test_piped_output_has_no_progress_bar() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "run", "protocols.omega:scenario", "--seeds", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "seeds of" not in done.stderr and "\x1b[" not in done.stdout
