"""Signed checkpoints of the chain's head, kept outside the database.

A checkpoint says "at this moment the chain ended at event ``head_id`` with
``head_hash``, after ``count`` events in all (retention's deletions included)".
Beat writes one every ``AUDIT_CHECKPOINT_SECONDS`` to the log stream and as one
JSON line appended to ``AUDIT_CHECKPOINT_FILE``. Someone who deletes the newest
events, or all of them, in the database cannot reach either copy, and cannot
sign a replacement without ``AUDIT_CHAIN_KEY``; ``verify_audit_chain``
compares the chain with the last checkpoint.
"""

import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from audit.models import chain_mac


@dataclass(frozen=True)
class Checkpoint:
    head_id: int
    head_hash: str
    count: int
    at: str  # ISO 8601, when it was taken
    signature: str = ""

    def compute_signature(self) -> str:
        return chain_mac("checkpoint", self.head_id, self.head_hash, self.count, self.at)

    def signed(self) -> "Checkpoint":
        return Checkpoint(self.head_id, self.head_hash, self.count, self.at, self.compute_signature())

    def signature_valid(self) -> bool:
        return hmac.compare_digest(self.signature, self.compute_signature())

    def to_line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> "Checkpoint":
        data = json.loads(line)
        return cls(
            head_id=int(data["head_id"]),
            head_hash=str(data["head_hash"]),
            count=int(data["count"]),
            at=str(data["at"]),
            signature=str(data.get("signature", "")),
        )


def checkpoint_file() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def append_checkpoint(checkpoint: Checkpoint) -> None:
    """Appends one line and forces it to disk: a checkpoint that a crash loses protects nothing."""
    path = checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: every writer adds at the end, nothing is rewritten in place.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (checkpoint.to_line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def last_checkpoint_line() -> str | None:
    """The newest line of the checkpoint file, or None when there is none yet."""
    path = checkpoint_file()
    if not path.exists():
        return None
    with path.open("rb") as handle:
        # Read only the end: the file grows by one short line per interval, for years.
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 4096))
        lines = [line for line in handle.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else None
