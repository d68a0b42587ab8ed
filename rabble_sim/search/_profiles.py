"""The Hypothesis settings profiles of ``check``, and which one applies by default.

Registered when this module is imported: by ``check``, and by the pytest plugin as it
loads, so that ``--hypothesis-profile=rabble-ci`` names a profile that exists.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILES = {
    "rabble-dev": settings(max_examples=100),
    "rabble-ci": settings(max_examples=200, derandomize=True),
    "rabble-nightly": settings(max_examples=10_000),
}
for _name, _profile in PROFILES.items():
    settings.register_profile(_name, _profile)


def default_profile() -> str:
    """``RABBLE_SIM_PROFILE`` if set, else ``rabble-ci`` on CI, else ``rabble-dev``.

    CI is what Hypothesis takes for CI (its ``ci`` profile is the current one): the same
    environment variables, read the same way."""
    chosen = os.environ.get("RABBLE_SIM_PROFILE")
    if chosen:
        return chosen
    return "rabble-ci" if settings.get_current_profile_name() == "ci" else "rabble-dev"
