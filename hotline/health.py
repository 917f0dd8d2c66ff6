import dataclasses
from typing import ClassVar

from hotline.selectors import handoff_health
from resilience.health import DatabaseReadCheck


@dataclasses.dataclass
class PoliceHandoffs(DatabaseReadCheck):
    """Fails when an urgent hand-off waits too long or the receiver keeps failing."""

    unreadable: ClassVar[str] = "Hand-offs unreadable"

    def problems(self) -> list[str]:
        return handoff_health().problems
