"""``python -m rabble_sim.cli``: the same as the ``rabble-sim`` command."""

from . import main

main(prog_name="rabble-sim")
