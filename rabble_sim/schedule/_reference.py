"""Resolve ``MODULE:SCENARIO`` references to Scenario objects, with errors that say why not."""

from __future__ import annotations

import importlib
import os
import sys

from ..core import UsageError
from ..sim import Scenario


def load_scenario(reference: str) -> Scenario:
    """Import ``MODULE`` (from the current directory or ``PYTHONPATH``) and return its
    ``SCENARIO``. Every failure is a ``UsageError`` that names the problem."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(
            f"{reference!r} is not MODULE:SCENARIO (for example protocols.omega:scenario)"
        )
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and (module_name == e.name or module_name.startswith(e.name + ".")):
            raise UsageError(
                f"cannot import module {module_name!r}: no such module "
                "(run from the directory that holds it, or add it to PYTHONPATH)"
            ) from None
        raise UsageError(f"cannot import module {module_name!r}: {e}") from None
    except (Exception, SystemExit) as e:  # a module that calls sys.exit() on import, too
        raise UsageError(f"cannot import module {module_name!r}: {type(e).__name__}: {e}") from None
    scenario = getattr(module, attr, None)
    if not isinstance(scenario, Scenario):
        known = sorted(name for name, value in vars(module).items() if isinstance(value, Scenario))
        what = "is not a Scenario" if hasattr(module, attr) else "does not exist"
        hint = f"; scenarios there: {', '.join(known)}" if known else "; it defines no Scenario"
        raise UsageError(f"{module_name}:{attr} {what}{hint}")
    return scenario
