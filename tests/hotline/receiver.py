"""A real, scriptable HTTP receiver standing in for the police endpoint.

It verifies every request's HMAC signature and keeps one accepted delivery
per Idempotency-Key, as docs/police-handoff.md asks a receiver to do.
"""

import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ReceivedRequest:
    idempotency_key: str
    signature_valid: bool
    content_type: str
    body: bytes
    answered: int | str


class PoliceReceiver:
    """``script`` lists the answer to each request in turn, then 200.

    An answer is a status code; "hold" (store, then keep the request open);
    "duplicate" (409 confirming this key); "conflict" (409 about another key);
    "redirect" (302 to a page that answers a GET with 200, as a login page or
    a moved endpoint would); "no-receipt" (200 with a body that holds no
    reference). With ``tls_dir`` it serves HTTPS with a fresh self-signed
    certificate for 127.0.0.1 whose file is ``certificate``.
    """

    def __init__(
        self, secret: str, script: tuple[int | str, ...] = (), port: int = 0, tls_dir: Path | None = None
    ) -> None:
        self.secret = secret.encode()
        self.script = list(script)
        self.requests: list[ReceivedRequest] = []
        self.gets = 0
        self.accepted: dict[str, str] = {}
        self.lock = threading.Lock()
        self.holding = threading.Event()
        self.release = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.certificate: Path | None = None
        if tls_dir is not None:
            self.certificate, key = self_signed_certificate(tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.certificate, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.certificate else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}/handoff"

    def start(self) -> "PoliceReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _accept(self, key: str) -> str:
        with self.lock:
            return self.accepted.setdefault(key, f"POL-{len(self.accepted) + 1:04d}")

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                signature_valid = hmac.compare_digest(self.headers.get("X-ECPAT-Signature", ""), expected)
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    action = receiver.script.pop(0) if receiver.script else 200
                    receiver.requests.append(
                        ReceivedRequest(key, signature_valid, self.headers.get("Content-Type", ""), body, action)
                    )
                if not signature_valid:
                    return self._answer(401, {"error": "bad signature"})
                if action == "hold":
                    # Processed, but the answer never reaches the sender (it gets killed).
                    receiver._accept(key)
                    receiver.holding.set()
                    receiver.release.wait(60)
                    return self._answer(200, {"reference": receiver.accepted[key]})
                if action == "duplicate":
                    # A repeat answered as the contract allows: 409 naming the key and the reference.
                    reference = receiver._accept(key)
                    return self._answer(409, {"status": "duplicate", "idempotency_key": key, "reference": reference})
                if action == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/moved")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if action == "no-receipt":
                    return self._answer(200, {"status": "ok"})
                if action == "conflict":
                    return self._answer(409, {"status": "duplicate", "idempotency_key": "someone-else"})
                if isinstance(action, int) and action != 200:
                    return self._answer(action, {"error": "scripted"})
                return self._answer(200, {"reference": receiver._accept(key)})

            def do_GET(self) -> None:
                # Whatever sits behind a redirect answers a GET happily; nothing was delivered.
                with receiver.lock:
                    receiver.gets += 1
                return self._answer(200, {"reference": "not-a-delivery"})

            def _answer(self, status: int, payload: dict[str, str]) -> None:
                raw = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the sender is gone

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for 127.0.0.1, trusted by nobody unless told; made once per folder."""
    certificate_path, key_path = folder / "receiver.pem", folder / "receiver.key"
    if certificate_path.exists() and key_path.exists():
        return certificate_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "police-receiver.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_path, key_path
