"""Commands that read a schedule refuse what is not a regular file of a sane size before
reading it: a device, a pipe, a directory, a file over the limit."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

Cli = Callable[..., subprocess.CompletedProcess[str]]

COMMANDS = [("replay",), ("shrink",), ("debug", "--plain"), ("diagram", "-o", "out.html")]


def refused(cli: Cli, path: Path | str, reason: str, env: dict[str, str] | None = None) -> None:
    for command in COMMANDS:
        started = time.monotonic()
        done = cli(command[0], str(path), *command[1:], env=env)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0], (command, done.stderr)
        assert time.monotonic() - started < 20, "refused before reading"


def test_a_device_is_not_a_schedule(cli: Cli) -> None:
    refused(cli, "/dev/zero", "/dev/zero: not a regular file (a device, a pipe or a socket)")


def test_a_pipe_nobody_writes_to_is_not_read(cli: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "schedule.json"
    os.mkfifo(fifo)
    refused(cli, fifo, "not a regular file")


def test_a_directory_is_not_a_schedule(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "folder.json").mkdir()
    refused(cli, tmp_path / "folder.json", "folder.json: is a directory, not a schedule")


def test_a_file_over_the_limit_is_refused_and_the_limit_can_be_raised(
    cli: Cli, tmp_path: Path
) -> None:
    big = tmp_path / "big.json"
    big.write_text('{"format": "rabble-sim/schedule@1", "padding": "' + "x" * 5000 + '"}')
    refused(
        cli, big, "5,050 bytes is larger than the limit of 4,096 bytes for a schedule "
        "(set RABBLE_SIM_MAX_INPUT to allow more)", env={"RABBLE_SIM_MAX_INPUT": "4K"},
    )  # fmt: skip
    done = cli("replay", str(big), env={"RABBLE_SIM_MAX_INPUT": "1M"})
    assert done.returncode == 2 and "missing field 'scenario'" in done.stderr, "read, then judged"
    bad = cli("replay", str(big), env={"RABBLE_SIM_MAX_INPUT": "lots"})
    assert bad.returncode == 2 and "RABBLE_SIM_MAX_INPUT='lots' is not a size" in bad.stderr
