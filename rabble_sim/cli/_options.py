"""Options that several commands share, spelled and explained once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..sim import DEFAULT_STEP_TIMEOUT

save_dir_option = click.option(
    "--save-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to save a failing schedule [default: regressions/<scenario name>/].",
)
no_shrink_option = click.option(
    "--no-shrink", is_flag=True, help="Save the failing run as found, without shrinking it."
)
expect_option = click.option(
    "--expect",
    type=click.Choice(["violation"]),
    default=None,
    help="A known bug: exit 0 when a violation is found (saved under schedules/<scenario>/, "
    'marked "expect": "violation"), 1 when none is.',
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on stdout."
)


def step_timeout_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--step-timeout SECONDS``, handed to the command as ``step_timeout`` (None: 0,
    no limit)."""
    return click.option(
        "--step-timeout",
        type=click.FloatRange(min=0),
        default=DEFAULT_STEP_TIMEOUT,
        show_default=True,
        callback=lambda ctx, param, value: value or None,
        metavar="SECONDS",
        help="A step whose handle and checks run longer than this is a violation (0: no limit).",
    )(command)
