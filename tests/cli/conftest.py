"""Runs the real ``rabble-sim`` command in a fresh interpreter, from a chosen directory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """``cli("run", "mod:scenario", ...)`` runs rabble-sim in ``tmp_path`` (``input_``: its
    standard input; ``env``: more environment variables)."""

    def invoke(
        *args: str,
        hash_seed: str = "0",
        cwd: Path | None = None,
        input_: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, **(env or {})}
        env.pop("CI", None)
        return subprocess.run(
            [sys.executable, "-m", "rabble_sim.cli", *args],
            cwd=cwd or tmp_path,
            env=env,
            input=input_,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return invoke


@pytest.fixture
def write_module(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a protocol module into the directory the command runs in."""

    def write(name: str, source: str) -> Path:
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    return write
