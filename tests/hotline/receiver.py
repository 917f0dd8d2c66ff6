"""A real, scriptable HTTP receiver standing in for the police endpoint.

It verifies every request's HMAC signature and keeps one accepted delivery
per Idempotency-Key, as docs/police-handoff.md asks a receiver to do.
"""

import hashlib
import hmac
import http.server
import json
import threading
from dataclasses import dataclass


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
    "duplicate" (409 confirming this key); or "conflict" (409 about another key).
    """

    def __init__(self, secret: str, script: tuple[int | str, ...] = (), port: int = 0) -> None:
        self.secret = secret.encode()
        self.script = list(script)
        self.requests: list[ReceivedRequest] = []
        self.accepted: dict[str, str] = {}
        self.lock = threading.Lock()
        self.holding = threading.Event()
        self.release = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/handoff"

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
                if action == "conflict":
                    return self._answer(409, {"status": "duplicate", "idempotency_key": "someone-else"})
                if isinstance(action, int) and action != 200:
                    return self._answer(action, {"error": "scripted"})
                return self._answer(200, {"reference": receiver._accept(key)})

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
