from dataclasses import dataclass
from enum import StrEnum

SIGNATURE_HEADER = "X-ECPAT-Signature"
SCHEMA_VERSION_HEADER = "X-ECPAT-Schema-Version"
PLAIN_CONTENT_TYPE = "application/json"
SEALED_CONTENT_TYPE = "application/vnd.ecpat.police-handoff.sealed"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True)
class SignedPackage:
    idempotency_key: str
    body: bytes
    signature: str
    sealed: bool
    schema_version: int

    @property
    def content_type(self) -> str:
        return SEALED_CONTENT_TYPE if self.sealed else PLAIN_CONTENT_TYPE


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    status_code: int | None = None
    acknowledgement: str = ""
    detail: str = ""
    retry_after: float | None = None
