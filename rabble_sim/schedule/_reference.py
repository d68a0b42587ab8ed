"""Resolve ``MODULE:NAME`` references (a scenario, a model) to objects, with errors that
say why not."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ..core import UsageError
from ..sim import Scenario


def load_scenario(reference: str) -> Scenario:
    """Import ``MODULE`` (from the current directory or ``PYTHONPATH``) and return its
    ``SCENARIO``. Every failure is a ``UsageError`` that names the problem."""
    scenario: Scenario = load_reference(
        reference,
        "Scenario",
        lambda value: isinstance(value, Scenario),
        example="protocols.omega:scenario",
    )
    return scenario


def load_reference(
    reference: str, noun: str, accepts: Callable[[Any], bool], *, example: str
) -> Any:
    """Import ``MODULE`` of ``MODULE:NAME`` and return its ``NAME``, which ``accepts``
    must take for a ``noun`` ("Scenario", "model"). Every failure is a ``UsageError``
    that names the problem, and lists the module's names it would take instead."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{reference!r} is not MODULE:{noun.upper()} (for example {example})")
    module = _import(module_name)
    value = getattr(module, attr, None)
    if not accepts(value):
        known = sorted(name for name, found in vars(module).items() if accepts(found))
        what = f"is not a {noun}" if hasattr(module, attr) else "does not exist"
        hint = (
            f"; {noun.lower()}s there: {', '.join(known)}" if known else f"; it defines no {noun}"
        )
        raise UsageError(f"{module_name}:{attr} {what}{hint}")
    return value


def _import(module_name: str) -> ModuleType:
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and (module_name == e.name or module_name.startswith(e.name + ".")):
            raise UsageError(
                f"cannot import module {module_name!r}: no such module "
                "(run from the directory that holds it, or add it to PYTHONPATH)"
            ) from None
        raise UsageError(f"cannot import module {module_name!r}: {e}") from None
    except (Exception, SystemExit) as e:  # a module that calls sys.exit() on import, too
        raise UsageError(f"cannot import module {module_name!r}: {type(e).__name__}: {e}") from None
