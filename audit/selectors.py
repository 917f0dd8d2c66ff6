from dataclasses import dataclass, field

from audit.checkpoints import Checkpoint, checkpoint_file, last_checkpoint_line
from audit.models import GENESIS_HASH, AuditChainAnchor, AuditEvent


def chain_anchor() -> AuditChainAnchor | None:
    return AuditChainAnchor.objects.order_by("id").first()


def chain_start() -> str:
    """The hash the oldest remaining event must point at."""
    anchor = AuditChainAnchor.objects.order_by("id").values_list("hash", flat=True).first()
    return anchor or GENESIS_HASH


def chain_head() -> str:
    """The hash the next event will point at."""
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or chain_start()


def first_broken_link() -> AuditEvent | None:
    """Walks the chain oldest first; returns the first event that does not fit, or None.

    An event does not fit when its own fields no longer give its keyed hash
    (it was edited, or re-hashed by someone without the key) or when it does
    not point at the event before it (one was deleted or inserted).
    """
    expected_previous = chain_start()
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != expected_previous or event.compute_hash() != event.hash:
            return event
        expected_previous = event.hash
    return None


@dataclass
class ChainReport:
    """What ``verify_audit_chain`` found; ``problems`` is empty when the chain is intact."""

    events: int = 0
    problems: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _checkpoint_problems(checkpoint: Checkpoint, anchor: AuditChainAnchor | None) -> list[str]:
    """Compares the chain with a checkpoint taken earlier: what it saw must still be there, or purged by retention."""
    deleted = anchor.deleted_events if anchor else 0
    purged_up_to = anchor.last_deleted_id if anchor else 0
    if checkpoint.head_id == 0:
        return []
    head_hash = AuditEvent.objects.filter(id=checkpoint.head_id).values_list("hash", flat=True).first()
    if head_hash is None:
        if purged_up_to >= checkpoint.head_id and deleted >= checkpoint.count:
            return []  # retention deleted everything the checkpoint saw, and says so in the anchor
        return [
            f"Tail missing: the checkpoint of {checkpoint.at} saw the chain end at event {checkpoint.head_id} "
            f"after {checkpoint.count} events, and that event is gone (deleted outside retention)."
        ]
    if head_hash != checkpoint.head_hash:
        return [
            f"Event {checkpoint.head_id} no longer has the hash the checkpoint of {checkpoint.at} saw: "
            "the chain was rewritten up to it."
        ]
    counted = deleted + AuditEvent.objects.filter(id__lte=checkpoint.head_id).count()
    if counted != checkpoint.count:
        return [
            f"The checkpoint of {checkpoint.at} counted {checkpoint.count} events up to event "
            f"{checkpoint.head_id}; the chain and its anchor now account for {counted}."
        ]
    return []


def tail_check(anchor: AuditChainAnchor | None) -> tuple[Checkpoint | None, list[str], list[str]]:
    """The last checkpoint, what it finds missing or forged, and notes; cheap: a few queries and the file's end."""
    line = last_checkpoint_line()
    if line is None:
        return None, [], [f"No checkpoint yet in {checkpoint_file()}: the tail cannot be checked."]
    try:
        checkpoint = Checkpoint.from_line(line)
    except (ValueError, KeyError, TypeError):
        return None, [f"The last line of {checkpoint_file()} is not a checkpoint."], []
    if not checkpoint.signature_valid():
        return None, [f"The last checkpoint in {checkpoint_file()} is unsigned or its signature is forged."], []
    return checkpoint, _checkpoint_problems(checkpoint, anchor), []


def verify_chain() -> ChainReport:
    """Checks the whole audit trail: the anchor's signature, every link, and the last checkpoint."""
    report = ChainReport(events=AuditEvent.objects.count())
    anchor = chain_anchor()
    if anchor is not None and not anchor.signature_valid():
        report.problems.append(
            f"The chain's anchor (start hash {anchor.hash[:12]}…, {anchor.deleted_events} events deleted) is "
            "unsigned or its signature is forged: it was not written by the retention purge."
        )
    broken = first_broken_link()
    if broken is not None:
        report.problems.append(
            f"Audit chain broken at event {broken.pk} ({broken}): it was edited or re-hashed without the key, "
            "or an event before it was deleted or inserted."
        )
    report.checkpoint, problems, report.notes = tail_check(anchor)
    report.problems.extend(problems)
    return report
