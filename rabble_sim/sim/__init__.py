"""The simulator: the World, events, choosers, the run loop and its trace."""

from ._choosers import (
    Chooser as Chooser,
)
from ._choosers import (
    DrawingChooser as DrawingChooser,
)
from ._choosers import (
    FairChooser as FairChooser,
)
from ._choosers import (
    RandomChooser as RandomChooser,
)
from ._choosers import (
    ReplayChooser as ReplayChooser,
)
from ._events import (
    EVENT_KINDS as EVENT_KINDS,
)
from ._events import (
    Crash as Crash,
)
from ._events import (
    Deliver as Deliver,
)
from ._events import (
    Drop as Drop,
)
from ._events import (
    Duplicate as Duplicate,
)
from ._events import (
    Event as Event,
)
from ._events import (
    FireTimer as FireTimer,
)
from ._events import (
    Heal as Heal,
)
from ._events import (
    Partition as Partition,
)
from ._events import (
    Restart as Restart,
)
from ._run import RunResult as RunResult
from ._run import Violation as Violation
from ._run import run as run
from ._scenario import (
    Faults as Faults,
)
from ._scenario import (
    Invariant as Invariant,
)
from ._scenario import (
    Liveness as Liveness,
)
from ._scenario import (
    Postcondition as Postcondition,
)
from ._scenario import (
    Precondition as Precondition,
)
from ._scenario import (
    Scenario as Scenario,
)
from ._trace import Trace as Trace
from ._trace import event_plain as event_plain
from ._trace import summarize as summarize
from ._view import View as View
from ._world import CheckFailed as CheckFailed
from ._world import EventNotEnabled as EventNotEnabled
from ._world import World as World

__all__ = [
    "EVENT_KINDS",
    "CheckFailed",
    "Chooser",
    "Crash",
    "Deliver",
    "DrawingChooser",
    "Drop",
    "Duplicate",
    "Event",
    "EventNotEnabled",
    "FairChooser",
    "Faults",
    "FireTimer",
    "Heal",
    "Invariant",
    "Liveness",
    "Partition",
    "Postcondition",
    "Precondition",
    "RandomChooser",
    "ReplayChooser",
    "Restart",
    "RunResult",
    "Scenario",
    "Trace",
    "View",
    "Violation",
    "World",
    "event_plain",
    "run",
    "summarize",
]
