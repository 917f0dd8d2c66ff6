import dataclasses
from typing import ClassVar

from resilience.health import DatabaseReadCheck
from retention.selectors import retention_problems


@dataclasses.dataclass
class Retention(DatabaseReadCheck):
    """Fails when a retention job's last run failed or it has not succeeded for too long.

    A kind whose job does not exist yet is shown on the retention page but
    does not fail the check.
    """

    unreadable: ClassVar[str] = "Retention runs unreadable"

    def problems(self) -> list[str]:
        return [f"{row.kind}: {row.status}" for row in retention_problems()]
