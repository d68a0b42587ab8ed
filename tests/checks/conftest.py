"""Where the Jepsen linearizability corpus is: ``../shared/corpora`` beside the checkout,
or ``$RABBLE_SIM_CORPORA``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = (
    Path(
        os.environ.get("RABBLE_SIM_CORPORA", Path(__file__).resolve().parents[3] / "shared/corpora")
    )
    / "jepsen-linearizability"
)


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "manifest.json").is_file():
        pytest.skip(f"the Jepsen corpus is not at {CORPUS} (set RABBLE_SIM_CORPORA)")
    return CORPUS
