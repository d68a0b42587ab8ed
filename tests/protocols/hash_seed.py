"""Trace digests computed in a fresh interpreter with a chosen hash seed: a protocol that
sends in the order of a set or dict of strings gives different digests under two seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def digests(imports: str, chooser: str, hash_seed: str, seeds: int = 3) -> list[str]:
    """The trace digests of seeds ``0 .. seeds - 1`` of ``scenario``, which ``imports``
    (a line of Python) brings in with ``run`` and whatever ``chooser`` (an expression of
    the seed ``i``) needs, under ``PYTHONHASHSEED=hash_seed``."""
    code = (
        f"import json; {imports}; print(json.dumps("
        f"[run(scenario, {chooser}).trace.digest() for i in range({seeds})]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    found: list[str] = json.loads(done.stdout)
    return found
