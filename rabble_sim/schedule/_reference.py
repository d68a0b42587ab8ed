"""Resolve ``MODULE:NAME`` references (a scenario, a model) to objects, with errors that
say why not."""

from __future__ import annotations

import ast
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path
from types import ModuleType
from typing import Any

from ..core import UsageError
from ..sim import Scenario


def load_scenario(reference: str, folders: Sequence[Path] | None = None) -> Scenario:
    """Import ``MODULE`` and return its ``SCENARIO``: from the current directory or
    ``PYTHONPATH``, or, given ``folders``, as :func:`import_from` does. Every failure is a
    ``UsageError`` that names the problem.

    ``MODULE:FACTORY(args)`` calls a function of the module that builds a scenario, with
    arguments written as Python literals (``protocols.vr:vr_scenario("big", replicas=5)``):
    a scenario built by a factory, or parametrized in a test, can be saved and replayed.
    """
    module_name, _, attr = reference.partition(":")
    if attr.endswith(")") and "(" in attr:
        name, args, kwargs = _call(reference, attr)
        factory = load_reference(
            f"{module_name}:{name}", "scenario factory", callable,
            example="protocols.vr:vr_scenario('big', replicas=5)", folders=folders,
        )  # fmt: skip
        try:
            built = factory(*args, **kwargs)
        except Exception as e:
            raise UsageError(f"{reference}: the factory raised {e!r}") from None
        if not isinstance(built, Scenario):
            raise UsageError(f"{reference} built {type(built).__name__}, not a Scenario")
        return built
    scenario: Scenario = load_reference(
        reference,
        "Scenario",
        lambda value: isinstance(value, Scenario),
        example="protocols.omega:scenario",
        folders=folders,
    )
    return scenario


def load_reference(
    reference: str,
    noun: str,
    accepts: Callable[[Any], bool],
    *,
    example: str,
    folders: Sequence[Path] | None = None,
) -> Any:
    """Import ``MODULE`` of ``MODULE:NAME`` and return its ``NAME``, which ``accepts``
    must take for a ``noun`` ("Scenario", "model"). ``folders``: see :func:`load_scenario`.
    Every failure is a ``UsageError`` that names the problem, and lists the module's names
    it would take instead."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{reference!r} is not MODULE:{noun.upper()} (for example {example})")
    module = _import(module_name) if folders is None else import_from(module_name, folders)
    value = getattr(module, attr, None)
    if not accepts(value):
        known = sorted(name for name, found in vars(module).items() if accepts(found))
        what = f"is not a {noun}" if hasattr(module, attr) else "does not exist"
        hint = (
            f"; {noun.lower()}s there: {', '.join(known)}" if known else f"; it defines no {noun}"
        )
        raise UsageError(f"{module_name}:{attr} {what}{hint}")
    return value


def _call(reference: str, text: str) -> tuple[str, list[Any], dict[str, Any]]:
    """The function name and literal arguments of ``NAME(args)``; a ``UsageError`` if it
    is not such a call."""
    try:
        call = ast.parse(text, mode="eval").body
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            raise ValueError("not a call of a name")
        args = [ast.literal_eval(arg) for arg in call.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
        if len(kwargs) != len(call.keywords):
            raise ValueError("no **arguments")
    except (SyntaxError, ValueError) as e:
        raise UsageError(
            f"{reference!r}: a factory reference is MODULE:FACTORY(args), its arguments "
            f"Python literals ({e})"
        ) from None
    return call.func.id, args, kwargs


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


def import_from(module_name: str, folders: Sequence[Path]) -> ModuleType:
    """Import ``module_name`` as pytest would import a test module that lives in the first
    of ``folders`` holding its top-level package (or module), else from ``sys.path``.

    The folder found comes first on ``sys.path`` while the module is imported, so that
    its neighbours win as they do for a test module in prepend mode; afterwards it stays
    on ``sys.path`` at the end, where the module's late imports of its neighbours still
    find them but it shadows nothing another test imports. A module of that name already
    imported from another file is an error, not a replay against the wrong code."""
    top = module_name.partition(".")[0]
    spec = PathFinder.find_spec(top, [str(f) for f in folders]) if top.isidentifier() else None
    loaded = sys.modules.get(top)
    if loaded is not None:
        _same_module(module_name, loaded, spec)
        providers: list[str] = []
    else:
        providers = _providers(spec)
    sys.path[:0] = providers
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == top:
            where = ", ".join(_shown(f) for f in folders)
            raise UsageError(
                f"cannot import module {module_name!r}: not in the schedule's folders ({where}) "
                "nor on sys.path (PYTHONPATH, pytest's pythonpath option)"
            ) from None
        raise UsageError(f"cannot import module {module_name!r}: {e}") from None
    except (Exception, SystemExit) as e:  # a module that calls sys.exit() on import, too
        raise UsageError(f"cannot import module {module_name!r}: {type(e).__name__}: {e}") from None
    finally:
        # By identity: the module may have put an equal entry of its own on sys.path.
        for entry in providers:
            at = next((i for i, p in enumerate(sys.path) if p is entry), None)
            if at is not None:
                del sys.path[at]
    # Only the folders the module really came from: a namespace portion found in the
    # folders loses to a regular module further down sys.path, and is no reason to stay.
    came_from = set(_providers(getattr(sys.modules.get(top), "__spec__", None)))
    sys.path.extend(p for p in dict.fromkeys(providers) if p in came_from and p not in sys.path)
    return module


def _providers(spec: ModuleSpec | None) -> list[str]:
    """The folders on whose path ``spec`` was found: the one that holds a module or a
    regular package, every one that holds a portion of a namespace package."""
    if spec is None:
        return []
    if spec.origin is None:  # a namespace package
        return [str(Path(p).parent) for p in spec.submodule_search_locations or ()]
    origin = Path(spec.origin)
    return [str(origin.parent.parent if spec.submodule_search_locations else origin.parent)]


def _same_module(module_name: str, loaded: ModuleType, spec: ModuleSpec | None) -> None:
    """Refuse to replay against ``loaded`` when the folders hold another file of its name
    (as pytest refuses two test modules of one name): its verdict would be about other
    code."""
    loaded_file = getattr(loaded, "__file__", None)
    if spec is None or spec.origin is None or loaded_file is None:
        return
    if Path(loaded_file).resolve() != Path(spec.origin).resolve():
        raise UsageError(
            f"cannot import module {module_name!r}: {loaded.__name__!r} is already imported "
            f"from {_shown(Path(loaded_file))}, not from this schedule's "
            f"{_shown(Path(spec.origin))}; give the two modules different names"
        )


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
