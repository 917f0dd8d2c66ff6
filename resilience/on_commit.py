"""Work after a commit that can fail without failing the request that committed.

By the time an on-commit callback runs, the data is stored: a tip is saved,
a message persisted. An exception from the broker or the channel layer must
not turn that into a 500 without a receipt, so the reporter submits again.
Every after-commit enqueue and broadcast goes through :func:`run_after_commit`:
failures are logged with what was being done and the exception's type only
(never its text, which could quote what was sent), and the work it stood for
is picked up again by whatever owns delivery (the hand-off sweeper, a chat
client's catch-up from the database).
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def run_after_commit(func: Callable[[], object], *, what: str, using: str | None = None) -> None:
    """Runs ``func`` once the current transaction commits (at once outside one); never raises.

    ``what`` names the work in the log ("enqueue hotline.tasks.deliver_police_handoff").
    """

    def run() -> None:
        try:
            func()
        except Exception as exc:
            logger.warning("after commit: %s failed (%s); left for recovery", what, type(exc).__name__)

    transaction.on_commit(run, using=using)


def enqueue_after_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """``task.delay(*args, **kwargs)`` after commit; a broker outage is logged, not raised.

    Use it for tasks whose rows a sweeper finds again, so a lost enqueue only delays them.
    """
    run_after_commit(lambda: task.delay(*args, **kwargs), what=f"enqueue {task.name}")
