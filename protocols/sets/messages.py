"""Set messages: the client's inputs (Add, Read) and the requests and replies they become."""

from __future__ import annotations

import attrs

from rabble_sim import message


@message("sets.add")
@attrs.frozen
class Add:
    """Input: add ``element`` to the set."""

    element: int


@message("sets.read")
@attrs.frozen
class Read:
    """Input: read the whole set."""


@message("sets.add_request")
@attrs.frozen
class AddRequest:
    element: int


@message("sets.added")
@attrs.frozen
class Added:
    element: int


@message("sets.read_request")
@attrs.frozen
class ReadRequest:
    pass


@message("sets.contents")
@attrs.frozen
class Contents:
    elements: tuple[int, ...]
