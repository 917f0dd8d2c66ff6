"""Delivery of police hand-off packages: build, sign, optionally seal, send.

The backend is chosen by ``POLICE_HANDOFF_BACKEND`` ("https" or
"dropfolder"). Every backend gets the same signed wire body and answers
with a :class:`DeliveryResult`; retries and bookkeeping live in
``hotline.services``.
"""

from hotline.handoff.base import DeliveryResult, Outcome, SignedPackage
from hotline.handoff.package import build_package, sign_package


def deliver(package: SignedPackage) -> DeliveryResult:
    from django.conf import settings

    backend = settings.POLICE_HANDOFF_BACKEND
    if not package.sealed and not settings.POLICE_HANDOFF_ALLOW_UNSEALED:
        return DeliveryResult(
            outcome=Outcome.REJECTED, detail="unsealed package refused: set POLICE_HANDOFF_PUBLIC_KEY"
        )
    if backend == "https":
        from hotline.handoff.https import deliver as deliver_https

        return deliver_https(package)
    if backend == "dropfolder":
        from hotline.handoff.dropfolder import deliver as deliver_dropfolder

        return deliver_dropfolder(package)
    return DeliveryResult(outcome=Outcome.REJECTED, detail=f"unknown POLICE_HANDOFF_BACKEND {backend!r}")


__all__ = ["DeliveryResult", "Outcome", "SignedPackage", "build_package", "deliver", "sign_package"]
