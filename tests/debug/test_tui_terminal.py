"""The real ``rabble-sim debug`` command in a real terminal: tmux, 80x24, read off the screen."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .conftest import ROOT, ROUND_BUG, require_tool

DEADLINE = 20.0
"""Seconds to wait for the screen to show something: generous, for a loaded machine."""


class Terminal:
    """One tmux session on a private server socket, so a user's own tmux is never touched
    (the socket is a file in a folder of its own, removed after: tmux leaves it behind)."""

    def __init__(self, tmux: str, folder: Path, command: list[str]) -> None:
        self.tmux = tmux
        self.socket = str(folder / "tmux.sock")
        self.session = "debug"
        # The shell writes the command's exit status to a file: tmux's own record of it
        # (pane_dead_status) is sometimes missing when the pane's process was reaped early.
        self.status_file = folder / "status"
        shell = f"{shlex.join(command)}; echo $? > {shlex.quote(str(self.status_file))}"
        # The pane stays after the command ends, so its last words (a traceback, say) can
        # be read.
        self.run(
            "start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
            "new-session", "-d", "-x", "80", "-y", "24", "-s", self.session, "-c", str(ROOT),
            shell,
        )  # fmt: skip

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # -f /dev/null: the user's tmux.conf must not change the size or the keys.
        return subprocess.run(
            [self.tmux, "-S", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=DEADLINE,
        )

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def exit_status(self) -> int | None:
        """The command's exit status once it has ended; None while it runs."""
        try:
            text = self.status_file.read_text()
        except FileNotFoundError:
            return None
        return int(text) if text.endswith("\n") else None  # written whole, or not yet

    def wait_for(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE
        while not ready():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {DEADLINE}s for {what}; the screen:\n{self.screen()}")
            time.sleep(0.1)

    def wait_for_text(self, text: str) -> str:
        def shown() -> bool:
            if text in self.screen():
                return True
            if self.exit_status() is not None:  # no use waiting
                raise AssertionError(f"the command ended before showing {text!r}:\n{self.screen()}")
            return False

        self.wait_for(repr(text), shown)
        return self.screen()

    def close(self) -> None:
        self.run("kill-server", check=False)


def test_the_debug_command_runs_full_screen_and_answers_keys() -> None:
    tmux = require_tool("tmux")
    command = [sys.executable, "-m", "rabble_sim.cli", "debug", str(ROUND_BUG)]
    # Not pytest's tmp_path: a socket's path must stay short (about 100 bytes at most).
    with tempfile.TemporaryDirectory(prefix="rabble-tmux-") as folder:
        terminal = Terminal(tmux, Path(folder), command)
        try:
            play(terminal)
        finally:
            terminal.close()


def play(terminal: Terminal) -> None:
    """Open, step, go to step 10, quit: what a person does first."""
    terminal.wait_for_text("step 0/367")
    assert terminal.exit_status() is None
    screen = terminal.wait_for_text("q quit")  # the footer, drawn last, fits in 80 columns
    assert "round-not-persisted.json" in screen
    assert "violation at step 367" in screen
    lines = screen.splitlines()
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80

    terminal.keys("n")
    terminal.wait_for_text("step 1/367")
    terminal.keys("g")
    terminal.wait_for_text("go to step")
    terminal.keys("1", "0", "Enter")
    screen = terminal.wait_for_text("step 10/367")
    assert "step 10 · timeout" in screen
    assert "timeout #15 at omega::c" in screen

    terminal.keys("q")
    terminal.wait_for("the command to end", lambda: terminal.exit_status() is not None)
    assert terminal.exit_status() == 0
