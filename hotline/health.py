import dataclasses

from django import db
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from hotline.selectors import handoff_health


@dataclasses.dataclass
class PoliceHandoffs(HealthCheck):
    """Fails when an urgent hand-off waits too long or the receiver keeps failing."""

    def run(self) -> None:
        try:
            health = handoff_health()
        except db.Error as exc:
            raise ServiceUnavailable("Hand-offs unreadable") from exc
        finally:
            # Runs in the health view's worker thread: give the connection back.
            db.connection.close()
        if not health.ok:
            raise ServiceUnavailable("; ".join(health.problems))
