"""The ``rabble-sim`` command group, and how every command reports errors and exits.

Exit status: 0 no violation, 1 a violation was found or reproduced, 2 bad usage or bad
input, with a one-line reason on stderr and never a traceback; 3 a bug in rabble-sim
itself (one line too, unless RABBLE_SIM_DEBUG is set).
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from ..core import RabbleError

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class Group(click.Group):
    """A click group whose errors are one line on stderr, with the contract's exit codes."""

    def main(  # type: ignore[override]
        self, args: list[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        try:
            super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.exceptions.Abort:
            fail("aborted")
        except click.UsageError as e:
            hint = (
                f" (see: rabble-sim {e.ctx.command_path.partition(' ')[2]} --help)" if e.ctx else ""
            )
            fail(e.format_message() + hint.replace("  --help", " --help"))
        except click.ClickException as e:
            fail(e.format_message())
        except RabbleError as e:
            fail(str(e))
        except KeyboardInterrupt:
            fail("interrupted")
        except Exception as e:  # a bug in rabble-sim: one line, and how to see more
            if os.environ.get("RABBLE_SIM_DEBUG"):
                raise
            click.echo(
                f"rabble-sim: internal error: {type(e).__name__}: {e} "
                "(set RABBLE_SIM_DEBUG=1 for the traceback, and please report it)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)
        sys.exit(EXIT_OK)


def fail(reason: str) -> NoReturn:
    """Exit 2 with one line on stderr."""
    click.echo(f"rabble-sim: error: {' '.join(reason.split())}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rabble-sim", prog_name="rabble-sim")
def cli() -> None:
    """Deterministic simulation testing for distributed algorithms written as actors."""
