from audit.models import GENESIS_HASH, AuditChainAnchor, AuditEvent


def chain_start() -> str:
    """The hash the oldest remaining event must point at."""
    anchor = AuditChainAnchor.objects.order_by("id").values_list("hash", flat=True).first()
    return anchor or GENESIS_HASH


def chain_head() -> str:
    """The hash the next event will point at."""
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or chain_start()


def first_broken_link() -> AuditEvent | None:
    """Walks the chain oldest first; returns the first event that does not fit, or None.

    An event does not fit when its own fields no longer give its hash (it was
    edited) or when it does not point at the event before it (one was
    deleted or inserted).
    """
    expected_previous = chain_start()
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != expected_previous or event.compute_hash() != event.hash:
            return event
        expected_previous = event.hash
    return None
