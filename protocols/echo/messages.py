"""The messages of the echo protocol: a numbered request and its reply, and the input that
gives a client a payload to send."""

from __future__ import annotations

import attrs

from rabble_sim import message


@message("echo.request")
@attrs.frozen
class EchoRequest:
    """Request ``n`` of a client; the server answers with the same ``n`` and ``payload``."""

    n: int
    payload: str


@message("echo.reply")
@attrs.frozen
class EchoReply:
    """The answer to request ``n``, echoing its ``payload``."""

    n: int
    payload: str


@message("echo.say")
@attrs.frozen
class Say:
    """Input to a client: send one more request, carrying ``payload``."""

    payload: str
