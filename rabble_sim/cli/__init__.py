"""The ``rabble-sim`` command line."""

from . import _debug, _determinism, _diagram, _replay, _run  # noqa: F401  (each registers its command)
from ._app import cli

main = cli.main

__all__ = ["cli", "main"]
