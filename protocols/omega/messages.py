"""The one message of the leader detector: a numbered heartbeat."""

from __future__ import annotations

import attrs

from rabble_sim import message


@message("omega.heartbeat")
@attrs.frozen
class Heartbeat:
    """Sent every period to every other node; ``round`` counts the sender's periods."""

    round: int
