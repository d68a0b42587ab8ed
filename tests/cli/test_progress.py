"""On a terminal, a long run shows a progress bar; piped, it prints none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_long_run_on_a_terminal_shows_progress() -> None:
    primary, secondary = os.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    env.pop("CI", None)
    command = [
        sys.executable,
        "-m",
        "rabble_sim.cli",
        "run",
        "protocols.omega:scenario",
        "--seeds",
        "40",
    ]
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
    text = screen.decode(errors="replace")
    assert "seeds of protocols.omega:scenario" in text
    assert "/40" in text  # "done/total"
    assert "no violation in 40 seeds" in text


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
