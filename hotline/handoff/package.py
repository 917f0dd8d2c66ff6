"""The versioned package the police receive, and its signature."""

import base64
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

from hotline.handoff.base import SignedPackage
from hotline.models import PoliceHandoff

SCHEMA = "https://ecpat.se/schemas/police-handoff"
SCHEMA_VERSION = 1


def build_package(handoff: PoliceHandoff) -> dict[str, Any]:
    """The package for one hand-off. Never the reporter's contact details, messages or receipt.

    Built only from values fixed at forwarding, so every attempt sends the same document.
    """
    tip = handoff.tip
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "handoff_id": str(handoff.idempotency_key),
        "created_at": handoff.created_at.isoformat(),
        "sender": "ECPAT Sverige",
        "tip": {
            "reference": tip.reference,
            "received_at": tip.received_at.isoformat(),
            "category": tip.category,
            "urgent": tip.is_urgent,
            "urls": [reported.url for reported in tip.urls.all()],
            "place": tip.place,
            "when": tip.occurred,
            "description": tip.description,
            "assessment": tip.outcome or None,
        },
    }


def _seal(body: bytes, public_key: str) -> bytes:
    from nacl.public import PublicKey, SealedBox

    return bytes(SealedBox(PublicKey(base64.b64decode(public_key))).encrypt(body))


def signature_for(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_package(handoff: PoliceHandoff, package: dict[str, Any]) -> SignedPackage:
    """Serialises, seals when a public key is set, then signs the bytes that travel."""
    body = json.dumps(package, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    public_key = settings.POLICE_HANDOFF_PUBLIC_KEY
    if public_key:
        body = _seal(body, public_key)
    return SignedPackage(
        idempotency_key=str(handoff.idempotency_key),
        body=body,
        signature=signature_for(body, settings.POLICE_HANDOFF_SECRET),
        sealed=bool(public_key),
        schema_version=SCHEMA_VERSION,
    )
