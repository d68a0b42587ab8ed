"""``rabble-sim lincheck``: whether Jepsen histories, or the histories real nodes recorded,
are linearizable, and why not."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from rich.markup import escape

from ..checks import (
    History,
    KvModel,
    LinearizabilityResult,
    RegisterModel,
    TornLineWarning,
    check_linearizability,
    read_etcd,
    read_kv,
    read_recorded,
)
from ..core import RabbleError, UsageError
from ..schedule import load_reference
from ._app import EXIT_OK, EXIT_VIOLATION, cli
from ._report import console, print_json

MODELS: dict[str, tuple[Callable[[Path], History], Any]] = {
    "etcd-register": (read_etcd, RegisterModel()),
    "kv": (read_kv, KvModel()),
}
"""Each ``--model``: how its files are read, and the model they are checked against."""


@cli.command(name="lincheck")
@click.argument(
    "paths", metavar="FILE...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option(
    "--model",
    "model_name",
    required=True,
    metavar="etcd-register|kv|MODULE:MODEL",
    help="etcd-register: Jepsen etcd logs, one register with read, write and cas; "
    "kv: EDN lines of get, put and append on string keys, checked key by key; "
    "MODULE:MODEL: a model of your own (with --recorded).",
)
@click.option(
    "--recorded",
    is_flag=True,
    help="The FILEs are history.jsonl files of nodes run with serve --data-dir, "
    "merged by time into one history.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Give up on a history after searching this long: it is then unknown [default: no limit].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def lincheck_command(
    paths: tuple[Path, ...],
    model_name: str,
    recorded: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Say whether each history FILE is linearizable; exit 1 if any is not (or, with
    --timeout, is not known to be).

    For one that is not, it explains: the operation whose completion no order of the
    operations explains, the operations involved, and the longest prefix of the history
    that can be linearized, with an order that does it. Every file is read before any is
    checked: a malformed one is an error (exit 2) naming its line. A recorded line torn by
    a crash at the end of a node's life is skipped, with a warning on stderr.
    """
    model = _model(model_name, recorded)
    torn: list[str] = []
    if recorded:
        merged = _read_recorded(paths, torn)
        histories: list[tuple[str, History]] = [(merged.source, merged)]
    else:
        read = MODELS[model_name][0]
        histories = [(str(path), read(path)) for path in paths]
    results: list[tuple[str, LinearizabilityResult, float]] = []
    sizes: dict[str, int] = {}
    for name, history in histories:
        start = time.perf_counter()
        result = _check(model, model_name, name, history, timeout)
        results.append((name, result, time.perf_counter() - start))
        sizes[name] = len(history)
    failed = [path for path, result, _ in results if result.linearizable is False]
    unknown = [path for path, result, _ in results if result.linearizable is None]
    if as_json:
        print_json(
            {
                "ok": not failed and not unknown,
                "model": model_name,
                "files": len(results),
                "not_linearizable": len(failed),
                "unknown": len(unknown),
                "seconds": sum(seconds for _, _, seconds in results),
                "results": [
                    {**_result_json(path, r, s, model), "operations": sizes[path]}
                    for path, r, s in results
                ],
                "warnings": torn,
            }
        )
    else:
        for path, result, seconds in results:
            name = escape(path)
            if not sizes[path]:
                console.print(f"[green]linearizable[/]      {name}  [dim](no operations in "
                              "it: nothing to check)[/]")  # fmt: skip
                continue
            if result.linearizable is None:
                console.print(f"[yellow]unknown[/]           {name}  [dim](gave up after "
                              f"{seconds:.3f} s)[/]")  # fmt: skip
                continue
            if result.explanation is None:
                console.print(f"[green]linearizable[/]      {name}  [dim]({seconds:.3f} s)[/]")
                continue
            console.print(f"[bold red]not linearizable[/]  {name}  [dim]({seconds:.3f} s)[/]")
            part = result.explanation.part.source
            # A recorded history's times are its events' places once the files are merged.
            text = result.explanation.describe(model, unit="event" if recorded else "line")
            if part != path:
                text = f"in {part}:\n{text}"
            for line in text.splitlines():
                console.print(f"    {escape(line)}")
        if len(results) > 1:
            linearizable = len(results) - len(failed) - len(unknown)
            console.print(f"{linearizable} of {len(results)} histories linearizable")
    sys.exit(EXIT_VIOLATION if failed or unknown else EXIT_OK)


def _read_recorded(paths: tuple[Path, ...], torn: list[str]) -> History:
    """The merged recorded history; each torn line skipped is said on stderr (one line
    each) and appended to ``torn``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TornLineWarning)
        merged = read_recorded(paths)
    for warning in caught:
        if issubclass(warning.category, TornLineWarning):
            torn.append(str(warning.message))
            click.echo(f"rabble-sim: warning: {warning.message}", err=True)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return merged


def _model(name: str, recorded: bool) -> Any:
    """The model ``--model`` names: a built-in one, or ``MODULE:MODEL``."""
    if name in MODELS:
        return MODELS[name][1]
    if ":" not in name:
        raise UsageError(f"--model {name!r}: expected {', '.join(sorted(MODELS))} or MODULE:MODEL")
    if not recorded:
        raise UsageError(
            f"--model {name}: a model of your own checks recorded histories (--recorded); "
            f"Jepsen files go with {' or '.join(sorted(MODELS))}"
        )
    return load_reference(name, "model", _is_model, example="protocols.vr:KV_MODEL")


def _check(
    model: Any, model_name: str, name: str, history: History, timeout: float | None
) -> LinearizabilityResult:
    """Check ``history``; a model of your own that raises (on an operation it does not
    know, say) is bad input, reported in one line, not a crash of rabble-sim."""
    try:
        return check_linearizability(model, history, timeout=timeout)
    except (RabbleError, KeyboardInterrupt):
        raise  # Ctrl-C, or the model raising it: exit 130 either way, never a verdict
    except BaseException as e:  # sys.exit() in a model must not pass for a verdict
        if model_name in MODELS and isinstance(e, Exception):
            raise  # a bug of rabble-sim's own: the internal-error report
        raise UsageError(f"{name}: the model {model_name} raised {type(e).__name__}: {e}") from None


def _is_model(value: Any) -> bool:
    """An instance (not a class, not a module) with the two methods every model has."""
    return not isinstance(value, type | ModuleType) and all(
        callable(getattr(value, method, None)) for method in ("init", "step")
    )


def _result_json(
    path: str, result: LinearizabilityResult, seconds: float, model: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "file": path,
        "linearizable": result.linearizable,
        "seconds": seconds,
    }
    if result.explanation is not None:
        data["explanation"] = result.explanation.to_json(model)
    return data
