"""The ``rabble-sim`` command line."""

# Each module registers its command on import.
from . import (  # noqa: F401
    _debug,
    _determinism,
    _diagram,
    _explore,
    _lincheck,
    _maelstrom,
    _mutants,
    _replay,
    _run,
    _serve,
)
from ._app import cli

main = cli.main

__all__ = ["cli", "main"]
