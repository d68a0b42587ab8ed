"""How commands print results: rich text for people, one JSON object for machines."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..sim import STEP_TIMEOUT, Violation

console = Console(highlight=False, soft_wrap=True)


def print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, sort_keys=True))


def violation_json(v: Violation) -> dict[str, Any]:
    return {"check": v.check, "message": v.message, "step": v.step, "traceback": v.traceback}


def show_violation(v: Violation, *, where: str) -> None:
    console.print(f"[bold red]violation[/] {where}, step {v.step}: [bold]{escape(v.check)}[/]")
    console.print(f"  {escape(v.message)}")
    if v.traceback and v.check.startswith(
        ("exception", "precondition", "postcondition", STEP_TIMEOUT)
    ):
        console.print(f"[dim]{escape(v.traceback.rstrip())}[/]")


def show_counts(counts: Counter[str]) -> str:
    return ", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))
