"""The shape every health check of ours that reads the database shares."""

import abc
import dataclasses
from typing import ClassVar

from django import db
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable


@dataclasses.dataclass
class DatabaseReadCheck(HealthCheck):
    """Fails when ``problems()`` names any, or when the database cannot answer it."""

    unreadable: ClassVar[str]  # the message when the database cannot answer

    @abc.abstractmethod
    def problems(self) -> list[str]:
        """What is wrong, one line each; empty when all is well."""

    def run(self) -> None:
        try:
            problems = self.problems()
        except db.Error as exc:
            raise ServiceUnavailable(self.unreadable) from exc
        finally:
            # Runs in the health view's worker thread: give the connection back.
            db.connection.close()
        if problems:
            raise ServiceUnavailable("; ".join(problems))
