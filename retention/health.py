import dataclasses

from django import db
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from retention.selectors import retention_problems


@dataclasses.dataclass
class Retention(HealthCheck):
    """Fails when a retention job's last run failed or it has not succeeded for too long.

    A kind whose job does not exist yet is shown on the retention page but
    does not fail the check.
    """

    def run(self) -> None:
        try:
            problems = retention_problems()
        except db.Error as exc:
            raise ServiceUnavailable("Retention runs unreadable") from exc
        finally:
            # Runs in the health view's worker thread: give the connection back.
            db.connection.close()
        if problems:
            raise ServiceUnavailable("; ".join(f"{row.kind}: {row.status}" for row in problems))
