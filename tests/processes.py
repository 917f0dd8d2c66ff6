"""Real processes for tests: the ASGI server, a Celery worker, a neutral site."""

import contextlib
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"

# Variables that choose the mode; a subprocess gets exactly what a test gives it.
_MODE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "DJANGO_ENV", "DJANGO_SETTINGS_MODULE", "DATA_DIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**overrides: str) -> dict[str, str]:
    """The current environment without any mode variable, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if k not in _MODE_VARIABLES}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


# Production settings with placeholder secrets and services: all they need to load, and nothing more.
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-key-with-enough-entropy-0123456789",
    "FIELD_ENCRYPTION_KEYS": "Jk8T7QH6l2lcXq0wmKzK5b9E6wq1Pz3c8X0s4mYtR2A=",
    "ALLOWED_HOSTS": "stod.example.org",
    "HOTLINE_HASH_KEY": "a-long-random-hotline-hash-key-0123456789abcdef",
    "SUPPORTLINE_LETTER_HASH_KEY": "a-long-random-letter-hash-key-0123456789abcdef",
    "POLICE_HANDOFF_SECRET": "a-long-random-police-handoff-secret-0123456789",
    "POLICE_HANDOFF_PUBLIC_KEY": "h7b3Hq1YtQm9W0cVgC8o2JxkH3d0q2oKxW3Zy1n5pVo=",
    "DATABASE_URL": "postgres://ecpat:secret@postgres.internal:5432/ecpat",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "AUDIT_CHAIN_KEY": "a-long-random-audit-chain-key-0123456789abcdef",
    "FEED_SIGNING_KEYS": "feed-1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "EMAIL_URL": "smtp+tls://hotline:secret@smtp.example.org:587",
}


# What production refuses to start without (tests/foundation/test_deploy_check.py proves each one).
PRODUCTION_REQUIRED = (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "ALLOWED_HOSTS",
    "HOTLINE_HASH_KEY",
    "SUPPORTLINE_LETTER_HASH_KEY",
    "POLICE_HANDOFF_SECRET",
    "POLICE_HANDOFF_PUBLIC_KEY",
    "AUDIT_CHAIN_KEY",
    "FEED_SIGNING_KEYS",
    "EMAIL_URL",
    "DATABASE_URL",
)


def production_env(**changes: str | None) -> dict[str, str]:
    """``PRODUCTION_ENV`` with ``changes``; a change to None leaves that variable out."""
    return {k: v for k, v in {**PRODUCTION_ENV, **changes}.items() if v is not None}


def service_env(**overrides: str) -> dict[str, str]:
    """Environment for a subprocess in the same mode as this test run."""
    env = clean_env(DJANGO_SETTINGS_MODULE="ecpat_site.settings.test")
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(overrides)
    return env


def database_url_for_subprocess() -> str:
    """A URL for the test database that pytest-django created."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Runs ``manage.py`` in a subprocess with exactly ``env``."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - local test server
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class ManagedProcess:
    """A subprocess whose combined output is captured to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path | None = None) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path or Path(os.devnull)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log:
            self._log.close()
            self._log = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class AsgiServer(ManagedProcess):
    """``uvicorn ecpat_site.asgi:application``, as README and compose run it."""

    def __init__(
        self,
        env: dict[str, str],
        extra_args: tuple[str, ...] = (),
        log_path: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        args = [str(BIN / "uvicorn"), "ecpat_site.asgi:application", "--host", "127.0.0.1", "--port", str(self.port)]
        super().__init__([*args, *extra_args], env, log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.launch()
        self.wait_until_ready()

    def launch(self) -> None:
        """Starts the process without waiting, so that several can boot side by side."""
        super().start()

    def wait_until_ready(self) -> None:
        assert self.process is not None
        wait_for_http(f"{self.url}/healthz", process=self.process)


class CeleryWorker(ManagedProcess):
    """A real Celery worker process serving both queues."""

    def __init__(self, env: dict[str, str], log_path: Path | None = None, pool: str = "prefork") -> None:
        args = [
            str(BIN / "celery"),
            "--app",
            "ecpat_site",
            "worker",
            "--queues",
            "default,police_handoff",
            "--concurrency",
            "1",
            "--pool",
            pool,
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"test-{os.getpid()}-{free_port()}@%h",
        ]
        super().__init__(args, env, log_path)

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.output()}")
            if " ready." in self.output():
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready:\n{self.output()}")


def ping_both_queues(env: dict[str, str], log_path: Path, pool: str = "prefork") -> str:
    """Starts a worker, has ``manage.py ping_worker`` reach it on both queues, and returns the worker's log."""
    worker = CeleryWorker(env, log_path=log_path, pool=pool)
    worker.start()
    try:
        result = manage("ping_worker", "--timeout", "30", env=env)
    finally:
        worker.stop()
    assert result.returncode == 0, result.stdout + result.stderr + worker.output()
    assert "default: pong" in result.stdout
    assert "police_handoff: pong" in result.stdout
    return worker.output()


class _NeutralHandler(http.server.BaseHTTPRequestHandler):
    body = b"<!doctype html><html lang='sv'><head><title>Neutral</title></head><body><h1>Vadret idag</h1></body></html>"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class NeutralSite:
    """Stands in for the neutral external site that quick exit leads to."""

    def __init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NeutralHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.server.server_address[1]}/neutral"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CeleryBeat(ManagedProcess):
    """``celery beat`` with the settings' schedule, its state file in ``folder``."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        args = [str(BIN / "celery"), "--app", "ecpat_site", "beat", "--schedule", str(folder / "beat-schedule")]
        super().__init__([*args, "--loglevel", "INFO"], env, folder / "beat.log")


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen[Any] | None, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on {port} within {timeout} s")


def _postgres_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"no PostgreSQL {name} under /usr/lib/postgresql/*/bin")
    return str(found[-1])


class PostgresCluster:
    """A private PostgreSQL cluster (initdb + pg_ctl) on a free port, run as the ``postgres`` user.

    PostgreSQL refuses to run as root, so when the tests run as root every
    command goes through ``runuser -u postgres``. The cluster's folder lives
    outside pytest's root-only temporary folders and is removed on ``cleanup()``.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="ecpat-pg-"))
        self.data = self.folder / "data"
        self.log_path = self.folder / "postgres.log"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
        self._run(_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_postgres, *args], check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log_path), "-w", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "PostgresCluster":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


REDIS_SERVER = "/usr/bin/redis-server"


class RedisServer(ManagedProcess):
    """A private ``redis-server`` on a free port, never the shared one; nothing is persisted.

    ``stop()`` and ``start()`` again give an outage and a recovery on the same
    port; ``replica_of`` makes it a replica of another one (Sentinel drills).
    """

    def __init__(self, workdir: Path, replica_of: int | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(workdir)]
        if replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        super().__init__(args, clean_env(), workdir / f"redis-{self.port}.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> None:
        super().start()
        _wait_for_port(self.port, 20, self.process, "redis-server")

    def __enter__(self) -> "RedisServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisSentinelGroup:
    """A primary, one replica and three sentinels on free ports, as local processes.

    Short ``down-after-milliseconds`` and ``failover-timeout`` make a failover
    finish within seconds. :meth:`env` gives the site's settings for it.
    """

    service = "ecpat-drill"

    def __init__(self, workdir: Path, down_after_ms: int = 1000, failover_timeout_ms: int = 3000) -> None:
        self.workdir = workdir
        self.primary = RedisServer(workdir / "primary")
        self.replica = RedisServer(workdir / "replica", replica_of=self.primary.port)
        self.sentinels: list[ManagedProcess] = []
        self.sentinel_ports = [free_port() for _ in range(3)]
        for n, port in enumerate(self.sentinel_ports):
            folder = workdir / f"sentinel-{n}"
            folder.mkdir(parents=True, exist_ok=True)
            config = folder / "sentinel.conf"  # the sentinel rewrites it: one file each
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {self.service} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {self.service} {down_after_ms}\n"
                f"sentinel failover-timeout {self.service} {failover_timeout_ms}\n"
                f"sentinel parallel-syncs {self.service} 1\n"
            )
            self.sentinels.append(
                ManagedProcess([REDIS_SERVER, str(config), "--sentinel"], clean_env(), folder / "sentinel.log")
            )

    def env(self) -> dict[str, str]:
        """Settings that point every Redis client at the sentinels instead of a URL."""
        return {
            "REDIS_URL": "",
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports),
            "REDIS_SENTINEL_SERVICE": self.service,
        }

    def sentinel_client(self, n: int = 0) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.sentinel_ports[n], socket_timeout=2)

    def master_port(self) -> int | None:
        """The primary's port as the sentinels' majority sees it."""
        ports = []
        for n in range(len(self.sentinels)):
            with contextlib.suppress(Exception):
                address = self.sentinel_client(n).sentinel_get_master_addr_by_name(self.service)
                if address:
                    ports.append(int(address[1]))
        return max(set(ports), key=ports.count) if ports else None

    def start(self, timeout: float = 30.0) -> None:
        self.primary.start()
        self.replica.start()
        for sentinel in self.sentinels:
            sentinel.start()
        # Ready when every sentinel knows the other two and the replica is in sync.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                states = [self.sentinel_client(n).sentinel_master(self.service) for n in range(3)]
                synced = self.replica.client().info("replication").get("master_link_status") == "up"
                if synced and all(s["num-other-sentinels"] == 2 and s["num-slaves"] == 1 for s in states):
                    return
            time.sleep(0.2)
        raise TimeoutError("sentinels did not agree on the primary and replica:\n" + self.logs())

    def wait_for_failover(self, timeout: float = 30.0) -> int:
        """Waits until the sentinels name the replica as primary and it accepts writes; returns its port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.master_port() == self.replica.port:
                with contextlib.suppress(Exception):
                    if self.replica.client().info("replication").get("role") == "master":
                        return self.replica.port
            time.sleep(0.1)
        raise TimeoutError("no failover:\n" + self.logs())

    def logs(self) -> str:
        parts = [f"--- {p.log_path.parent.name}\n{p.output()[-3000:]}" for p in [*self.sentinels, self.replica]]
        return "\n".join(parts)

    def stop(self) -> None:
        for process in [*self.sentinels, self.replica, self.primary]:
            process.stop(signal.SIGKILL, timeout=5)
