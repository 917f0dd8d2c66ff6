"""Writes the signed package into a folder atomically (temp file, then os.replace).

One file per hand-off, named by its idempotency key: a repeat replaces the
same file, so the pickup side (drop-box, SFTP) never sees two deliveries.
"""

import base64
import json
import os
import tempfile
from pathlib import Path

from django.conf import settings

from hotline.handoff.base import DeliveryResult, Outcome, SignedPackage


def deliver(package: SignedPackage) -> DeliveryResult:
    folder = Path(settings.POLICE_HANDOFF_DROPFOLDER)
    envelope = {
        "idempotency_key": package.idempotency_key,
        "schema_version": package.schema_version,
        "content_type": package.content_type,
        "signature": package.signature,
        "body": base64.b64encode(package.body).decode("ascii"),
    }
    target = folder / f"{package.idempotency_key}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(envelope, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        return DeliveryResult(outcome=Outcome.RETRY, detail=f"drop folder error: {type(exc).__name__}")
    return DeliveryResult(outcome=Outcome.ACCEPTED, acknowledgement=target.name)
