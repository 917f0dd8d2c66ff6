"""A circuit breaker: after a failure, callers skip a dependency for a short while.

Without it every request during an outage would wait for its own connection
attempt or timeout; with it only one request per cool-down pays that price.
"""

import logging
import threading
import time

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Open for ``cooldown`` seconds after a failure; then lets calls try again."""

    def __init__(self, name: str, cooldown: float = 5.0) -> None:
        self.name = name
        self.cooldown = cooldown
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def allows(self) -> bool:
        """True when a call may go to the dependency now."""
        return not self.is_open

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            was_closed = self._open_until == 0.0
            self._open_until = time.monotonic() + self.cooldown
        if was_closed:
            # The type only: an error's text can quote a key or a value.
            logger.warning(
                "%s unavailable (%s); skipping it for %g s at a time", self.name, type(exc).__name__, self.cooldown
            )

    def succeeded(self) -> None:
        if self._open_until:
            with self._lock:
                self._open_until = 0.0
            logger.warning("%s available again", self.name)


_breakers: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def breaker_for(name: str, cooldown: float = 5.0) -> CircuitBreaker:
    """One breaker per dependency and process, shared by every thread and client."""
    with _registry_lock:
        if name not in _breakers:
            _breakers[name] = CircuitBreaker(name, cooldown)
        _breakers[name].cooldown = cooldown  # the latest configuration wins
        return _breakers[name]
