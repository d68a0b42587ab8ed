"""The ``rabble-sim`` command group, and how every command reports errors and exits.

Exit status: 0 no violation, 1 a violation was found or reproduced, 2 bad usage or bad
input, with a one-line reason on stderr and never a traceback; 3 a bug in rabble-sim
itself (one line too, unless RABBLE_SIM_DEBUG is set); 130 stopped by Ctrl-C, saying
where the run was.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from ..core import RabbleError, RabbleInternalError

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
"""What a shell reports for a program stopped by SIGINT (128 + 2)."""


class Group(click.Group):
    """A click group whose errors are one line on stderr, with the contract's exit codes."""

    def main(  # type: ignore[override]
        self, args: list[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        try:
            super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.exceptions.Abort as e:  # click's word for Ctrl-C
            interrupted(e.__cause__ if isinstance(e.__cause__, KeyboardInterrupt) else None)
        except click.UsageError as e:
            hint = (
                f" (see: rabble-sim {e.ctx.command_path.partition(' ')[2]} --help)" if e.ctx else ""
            )
            fail(e.format_message() + hint.replace("  --help", " --help"))
        except click.ClickException as e:
            fail(e.format_message())
        except RabbleInternalError as e:
            internal_error(e)
        except RabbleError as e:
            fail(str(e))
        except KeyboardInterrupt as e:  # a real Ctrl-C: protocol code cannot raise one here
            interrupted(e)
        except Exception as e:
            internal_error(e)
        sys.exit(EXIT_OK)


def interrupted(error: KeyboardInterrupt | None) -> NoReturn:
    """Stopped by Ctrl-C: exit 130, saying where the run was if it was in one."""
    click.echo(f"rabble-sim: {error or 'interrupted'}", err=True)
    sys.exit(EXIT_INTERRUPTED)


def internal_error(error: Exception) -> NoReturn:
    """A bug in rabble-sim: exit 3 with one line, and say how to see more."""
    if os.environ.get("RABBLE_SIM_DEBUG"):
        raise error
    click.echo(
        f"rabble-sim: internal error: {type(error).__name__}: {error} "
        "(set RABBLE_SIM_DEBUG=1 for the traceback, and please report it)",
        err=True,
    )
    sys.exit(EXIT_INTERNAL)


def fail(reason: str) -> NoReturn:
    """Exit 2 with one line on stderr."""
    click.echo(f"rabble-sim: error: {' '.join(reason.split())}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rabble-sim", prog_name="rabble-sim")
def cli() -> None:
    """Deterministic simulation testing for distributed algorithms written as actors."""
