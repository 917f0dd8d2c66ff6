from audit.models import GENESIS_HASH, AuditEvent


def first_broken_link() -> AuditEvent | None:
    """Walks the chain oldest first; returns the first event that does not fit, or None."""
    expected_previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != expected_previous or event.compute_hash() != event.hash:
            return event
        expected_previous = event.hash
    return None
