"""End-to-end chat benchmark: the site's support line beside the Channels tutorial chat.

Each run starts one server fresh under uvicorn, drives it from this process
over loopback WebSockets, and stops it:

* site     - ``ecpat_site.asgi:application`` in the production profile
             (PostgreSQL + Redis, README's flags, test-only secrets). Each
             visitor ``start``s a chat, counsellor consoles (staff with a
             verified second factor) claim them, then visitors send messages.
             ack   = visitor send -> its ``ack`` (stored, encrypted, committed)
             relay = visitor send -> the ``message`` frame at the counsellor
* tutorial - the Channels tutorial's asynchronous ChatConsumer
             (``bench/tutorial_chat``) on the same pub/sub Redis layer with
             the site's layer options and its own prefix. Pairs of sockets in
             a room; one sends, the other receives.
             ack   = send -> the sender's own copy back (its only confirmation)
             relay = send -> the other socket's copy

Runs are interleaved A/B (``--pairs`` pairs, site first or tutorial first
alternating). Modes:

* fixed rate (default): ``--chats`` conversations, each offered ``--rate``
  messages a second for ``--seconds`` after ``--warmup``.
* ``--saturate``: the offered total rate ramps by ``--step-factor`` from
  ``--start-rate`` every ``--step-seconds``; the max sustained throughput is
  the best step whose ack and relay p99 stay under ``--p99-bound-ms`` with
  nothing lost.

Messages are measured once the burst of starts and claims has died down (the
settle time is reported) and after a short sample of the server's idle CPU.
Server CPU per message is the server process's (and its children's, for
``--workers 2``) user+system time over the measured window, divided by the
messages completed. "lost" counts messages sent and not both acked and relayed
within ``--drain`` seconds of the last send; "dropped" counts sockets closed by
the server or the network during a run.

Needs PostgreSQL and Redis. The support line of ``DATABASE_URL`` is emptied
before each site run (its name must contain ``bench`` or ``test``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ecpat_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
    CHANNEL_LAYER_PREFIX=ecpat-bench .venv/bin/python bench/chat_e2e.py

Exits non-zero only when the harness itself fails (a server that does not
start, a setup error), never because the numbers are slow.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import math
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# README's production command, minus --workers (chosen per run) and the public bind.
# The documented start command's flags that shape the socket (README), for both servers alike.
UVICORN_FLAGS = (
    "--host",
    "127.0.0.1",
    "--no-access-log",
    "--no-server-header",
    "--ws-max-size",
    "80000",
    "--ws-per-message-deflate",
    "false",
)
# Variables that choose the site's mode; the servers get exactly what the harness sets.
MODE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "DJANGO_ENV", "DJANGO_SETTINGS_MODULE", "DATA_DIR", "DEBUG")
TEXT = "Hej, jag vet inte riktigt hur jag ska säga det här men jag behöver prata med någon."


VERBOSE = False
# Exceptions in socket readers; any one makes the run a harness error.
FAULTS: list[str] = []
STARTED = time.perf_counter()


def progress(message: str) -> None:
    """A timestamped phase line on stderr with ``--verbose``."""
    if VERBOSE:
        print(f"[{time.perf_counter() - STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


class HarnessError(Exception):
    """The benchmark could not run (as opposed to a slow result)."""


# --- processes ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree_cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of ``pid`` and every live descendant, from /proc."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # The command name may contain spaces; the fields after it are fixed.
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        children.setdefault(ppid, []).append(int(entry))
        times[int(entry)] = (utime + stime) / CLOCK_TICKS
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += times.get(current, 0.0)
        stack.extend(children.get(current, []))
    return total


def child_pids(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                    found.append(int(entry))
    return found


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HarnessError(f"server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=3):  # noqa: S310 - loopback server we started
                return
        except urllib.error.HTTPError:
            return  # it answered (/healthz may say 503 without a Celery worker)
        except OSError:
            time.sleep(0.2)
    raise HarnessError(f"{url} did not answer within {timeout:g} s")


CPU_CGROUPS = Path("/sys/fs/cgroup/cpu")  # cgroup v1's CPU controller (root only)
CGROUP_PREFIX = "ecpat-bench-"  # then the harness's pid and the capped process's
# Short periods: a capped process pauses for milliseconds, not tens of them (--cpu-period-ms).
CFS_PERIOD_MS = 10.0
CFS_MIN_QUOTA_US = 1_000  # the kernel refuses a smaller quota


class CpuLimit:
    """Each of a server's serving processes in a cgroup of its own, capped at ``cores`` of CPU.

    On a machine with too few cores for every web process to have one of its
    own beside PostgreSQL, Redis and the load generator, equal caps show
    whether a second process adds what the first one carries (scaling), not
    how the machine's cores are shared out.
    """

    def __init__(self, cores: float, period_ms: float = CFS_PERIOD_MS) -> None:
        self.cores = cores
        self.period_us = round(period_ms * 1000)
        self.quota_us = round(cores * self.period_us)
        self.groups: list[Path] = []

    def apply(self, pids: list[int]) -> None:
        if not (CPU_CGROUPS / "cgroup.procs").exists() or not os.access(CPU_CGROUPS, os.W_OK):
            raise HarnessError(f"--cpu-per-process needs a writable cgroup v1 CPU controller at {CPU_CGROUPS}")
        remove_stale_groups()
        for pid in pids:
            group = CPU_CGROUPS / f"{CGROUP_PREFIX}{os.getpid()}-{pid}"
            group.mkdir()
            self.groups.append(group)
            (group / "cpu.cfs_period_us").write_text(str(self.period_us))
            (group / "cpu.cfs_quota_us").write_text(str(self.quota_us))
            (group / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        for group in self.groups:
            _remove_group(group)
        self.groups = []


def _remove_group(group: Path) -> None:
    with contextlib.suppress(OSError):
        for pid in (group / "cgroup.procs").read_text().split():
            (CPU_CGROUPS / "cgroup.procs").write_text(pid)  # back to the root group
        group.rmdir()


def remove_stale_groups() -> None:
    """Removes the cgroups of harnesses that are gone (killed by a signal before they could clean up)."""
    for group in CPU_CGROUPS.glob(f"{CGROUP_PREFIX}*"):
        harness = group.name.removeprefix(CGROUP_PREFIX).split("-")[0]
        if harness.isdigit() and not Path(f"/proc/{harness}").exists():
            _remove_group(group)


class Server:
    """One uvicorn server in its own process group, with its log in a file."""

    def __init__(
        self, name: str, app: str, env: dict[str, str], workers: int, log_path: Path, cpu: CpuLimit | None = None
    ) -> None:
        self.cpu = cpu
        self.name = name
        self.port = free_port()
        self.args = [str(BIN / "uvicorn"), app, *UVICORN_FLAGS, "--port", str(self.port)]
        if workers > 1:
            self.args += ["--workers", str(workers)]
        self.workers = workers
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_for_http(f"http://127.0.0.1:{self.port}/healthz", self.process, timeout=60)
            if self.workers > 1:
                self._wait_for_workers()
            if self.cpu is not None:
                # The serving processes: uvicorn itself, or each of its workers.
                self.cpu.apply([self.process.pid] if self.workers == 1 else child_pids(self.process.pid))
        except HarnessError as exc:
            self.stop()
            raise HarnessError(f"{self.name}: {exc}\n--- log {self.log_path} ---\n{self.log_tail()}") from exc

    def _wait_for_workers(self) -> None:
        # Any one worker answers /healthz, and the site's logging hides the
        # workers' startup lines: a worker has booted once it stops using CPU
        # (importing Django is busy the whole time).
        assert self.process is not None
        deadline = time.monotonic() + 90
        quiet, last = 0, -1.0
        while time.monotonic() < deadline:
            workers = child_pids(self.process.pid)
            busy = sum(process_tree_cpu_seconds(pid) for pid in workers)
            quiet = quiet + 1 if len(workers) >= self.workers and busy == last else 0
            if quiet >= 3:
                return
            last = busy
            time.sleep(0.5)
        raise HarnessError(f"not all {self.workers} workers started")

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return process_tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.cpu is not None:
            self.cpu.remove()
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Environment:
    """What both servers and the setup step share for the whole benchmark."""

    database_url: str
    redis_url: str
    prefix: str
    data_dir: Path
    message_limit: int
    secrets: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_os(cls, data_dir: Path, message_limit: int) -> Environment:
        database_url = os.environ.get("DATABASE_URL", "")
        redis_url = os.environ.get("REDIS_URL", "")
        if not database_url.startswith("postgres") or not redis_url.startswith("redis"):
            raise HarnessError("set DATABASE_URL (PostgreSQL) and REDIS_URL: the benchmark runs the services mode")
        env = cls(
            database_url=database_url,
            redis_url=redis_url,
            prefix=os.environ.get("CHANNEL_LAYER_PREFIX", "ecpat-bench"),
            data_dir=data_dir,
            message_limit=message_limit,
        )
        # Test-only secrets, new for every benchmark; nothing here outlives it.
        env.secrets = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "HOTLINE_HASH_KEY": secrets.token_urlsafe(32),
            "POLICE_HANDOFF_SECRET": secrets.token_urlsafe(32),
            "SUPPORTLINE_LETTER_HASH_KEY": secrets.token_urlsafe(32),
            "AUDIT_CHAIN_KEY": secrets.token_urlsafe(64),
            "FEED_SIGNING_KEYS": "bench-1:" + base64.b64encode(os.urandom(32)).decode(),
            # No takedown notices are sent during a benchmark.
            "EMAIL_URL": "dummymail://",
            # The benchmark sends nothing to the police: no receiver key to seal to.
            "POLICE_HANDOFF_ALLOW_UNSEALED": "true",
        }
        return env

    def site(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
        env.update(self.secrets)
        env.update(
            PYTHONUNBUFFERED="1",
            DJANGO_ENV="production",
            DJANGO_SETTINGS_MODULE="ecpat_site.settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            CHANNEL_LAYER_PREFIX=self.prefix,
            DATA_DIR=str(self.data_dir),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # Plain HTTP on loopback: no TLS terminator in front to redirect to.
            SECURE_SSL_REDIRECT="false",
            # Every simulated visitor shares one loopback address, and the
            # benchmark measures throughput, not the limits: both still run
            # their checks (and Redis round trips) on every start and message.
            SUPPORTLINE_STARTS_PER_HOUR="1000000",
            SUPPORTLINE_MESSAGES_PER_SECOND=str(self.message_limit),
            LOG_LEVEL="WARNING",
        )
        return env

    def tutorial(self) -> dict[str, str]:
        env = self.site()
        env.update(
            DJANGO_SETTINGS_MODULE="bench.tutorial_chat.settings", CHANNEL_LAYER_PREFIX=f"{self.prefix}-tutorial"
        )
        return env


def prepare_site(env: Environment, counsellors: int, cap: int) -> list[str]:
    """Runs ``bench/chat_e2e_setup.py``; returns one session cookie per counsellor."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.chat_e2e_setup", "--counsellors", str(counsellors), "--cap", str(cap)],
        cwd=ROOT,
        env=env.site(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if result.returncode != 0:
        raise HarnessError(f"site setup failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    cookies: list[str] = json.loads(result.stdout.strip().splitlines()[-1])["cookies"]
    return cookies


# --- measurement ----------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Pending:
    sent_at: float
    ack_at: float | None = None
    relay_at: float | None = None


class Ledger:
    """Every message sent in a window, and when its ack and relay arrived."""

    def __init__(self) -> None:
        self.messages: dict[str, Pending] = {}
        self.refused: Counter[str] = Counter()
        self.done = 0
        self.changed = asyncio.Event()

    def sent(self, client_id: str) -> None:
        self.messages[client_id] = Pending(time.perf_counter())

    def acked(self, client_id: str) -> None:
        pending = self.messages.get(client_id)
        if pending is not None and pending.ack_at is None:
            pending.ack_at = time.perf_counter()
            self._maybe_done(pending)

    def relayed(self, client_id: str) -> None:
        pending = self.messages.get(client_id)
        if pending is not None and pending.relay_at is None:
            pending.relay_at = time.perf_counter()
            self._maybe_done(pending)

    def refuse(self, client_id: str, code: str) -> None:
        if self.messages.pop(client_id, None) is not None:
            self.refused[code] += 1
            self.changed.set()

    def _maybe_done(self, pending: Pending) -> None:
        if pending.ack_at is not None and pending.relay_at is not None:
            self.done += 1
            self.changed.set()

    def outstanding(self) -> int:
        return len(self.messages) - self.done

    async def drain(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while self.outstanding() > 0 and (remaining := deadline - time.perf_counter()) > 0:
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)


@dataclass
class Window:
    """One measured window: what was offered, completed, and how fast."""

    offered_per_s: float
    sent: int
    completed: int
    throughput_per_s: float
    server_cpu_s: float
    wall_s: float
    cpu_ms_per_msg: float
    generator_cpu_pct: float
    ack_ms: tuple[float, float, float]
    relay_ms: tuple[float, float, float]
    lost: int
    refused: dict[str, int]

    def sustained(self, bound_ms: float) -> bool:
        """Kept up: nothing lost or refused, p99s under the bound, and completions at the offered pace."""
        return (
            self.lost == 0
            and not self.refused
            and self.throughput_per_s >= 0.9 * self.offered_per_s
            and self.ack_ms[2] <= bound_ms
            and self.relay_ms[2] <= bound_ms
        )


def summarise_window(
    ledger: Ledger, offered_per_s: float, offered_s: float, cpu_s: float, generator_cpu_s: float, wall_s: float
) -> Window:
    first = min((p.sent_at for p in ledger.messages.values()), default=0.0)
    ack, relay, finished = [], [], []
    lost = 0
    for pending in ledger.messages.values():
        if pending.ack_at is not None:
            ack.append((pending.ack_at - pending.sent_at) * 1000)
        if pending.relay_at is not None:
            relay.append((pending.relay_at - pending.sent_at) * 1000)
        if pending.ack_at is None or pending.relay_at is None:
            lost += 1
        else:
            finished.append(max(pending.ack_at, pending.relay_at))
    completed = len(finished)
    # A server that keeps up finishes within the offering time; one that does
    # not stretches the span, which is then what its rate is measured over.
    span = max(offered_s, (max(finished) - first) if finished else 0.0)
    return Window(
        offered_per_s=offered_per_s,
        sent=len(ledger.messages) + sum(ledger.refused.values()),
        completed=completed,
        throughput_per_s=completed / span if span > 0 else 0.0,
        server_cpu_s=cpu_s,
        wall_s=wall_s,
        cpu_ms_per_msg=cpu_s * 1000 / completed if completed else float("nan"),
        generator_cpu_pct=100 * generator_cpu_s / wall_s if wall_s > 0 else 0.0,
        ack_ms=(percentile(ack, 0.5), percentile(ack, 0.9), percentile(ack, 0.99)),
        relay_ms=(percentile(relay, 0.5), percentile(relay, 0.9), percentile(relay, 0.99)),
        lost=lost,
        refused=dict(ledger.refused),
    )


# --- clients ----------------------------------------------------------------------


class Client:
    """A JSON WebSocket with a reader task; counts itself as dropped if the server closes it."""

    def __init__(
        self, ws: ClientConnection, on_frame: Callable[[dict[str, Any]], None], drops: Counter[str], role: str
    ) -> None:
        self.ws = ws
        self.role = role
        self.on_frame = on_frame
        self.drops = drops
        self.closing = False
        self.active = False  # a visitor whose chat a counsellor has claimed
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.on_frame(json.loads(raw))
        except ConnectionClosed:
            pass
        except Exception as exc:
            # A frame the harness cannot handle is a harness bug: fail loudly.
            FAULTS.append(f"{type(exc).__name__}: {exc}")
            raise
        if not self.closing:
            code = self.ws.close_code
            self.drops[f"{self.role} {code}"] += 1  # e.g. "visitor 1011": the server's keepalive gave up

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame, ensure_ascii=False))

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


async def open_socket(url: str, origin: str, cookie: str | None = None) -> ClientConnection:
    # No client pings: the server's keepalive decides what is dropped, as for browsers.
    return await connect(
        url,
        origin=Origin(origin),
        additional_headers={"Cookie": cookie} if cookie else None,
        open_timeout=30,
        ping_interval=None,
        close_timeout=5,
        max_size=2**22,
    )


async def gather_bounded(coroutines: Sequence[Awaitable[Any]], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coroutine: Awaitable[Any]) -> Any:
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


class Conversations:
    """The pairs under test: who sends, and how a message of theirs is framed."""

    ledger: Ledger
    drops: Counter[str]
    senders: list[Client]
    claim_seconds: float = 0.0
    # The server's CPU over the same time: what a burst of starts and claims costs it.
    claim_cpu_seconds: float = 0.0

    async def settle(self, quiet: float, within: float) -> float:
        await asyncio.sleep(quiet)  # the same pause the site gets at the least
        return quiet

    def frame(self, index: int, client_id: str) -> dict[str, Any]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class SiteConversations(Conversations):
    """Visitors on ``/ws/chat/`` claimed by counsellor consoles on ``/ws/counsellor/``."""

    def __init__(self, server: Server, cookies: list[str], cap: int) -> None:
        self.server = server
        self.cookies = cookies
        self.cap = cap
        self.ledger = Ledger()
        self.drops = Counter()
        self.senders = []
        self.consoles: list[Client] = []
        self.claimed: set[int] = set()
        self.mine: list[set[int]] = [set() for _ in cookies]
        self.active = 0
        self.errors: Counter[str] = Counter()
        self.all_active = asyncio.Event()
        self.wanted = 0
        self.claims: set[asyncio.Task[None]] = set()
        self.dashboards = 0
        self.opened = 0
        self.console_frames: Counter[str] = Counter()
        self.last_frame_at = 0.0

    async def open(self, chats: int, within: float) -> None:
        self.wanted = chats
        consoles = await gather_bounded(
            [open_socket(f"{self.server.ws_url}/ws/counsellor/", self.server.origin, c) for c in self.cookies], 20
        )
        self.consoles = [Client(ws, self._console_reader(i), self.drops, "console") for i, ws in enumerate(consoles)]
        progress(f"site: {len(self.consoles)} consoles open")
        started, cpu0 = time.perf_counter(), self.server.cpu_seconds()
        visitors = [self._start_visitor() for _ in range(chats)]
        # A burst, as when a campaign goes out; bounded so the handshake backlog stays sane.
        opened = await asyncio.wait_for(gather_bounded(visitors, 50), within)
        progress(f"site: {len(opened)} visitors started")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_active.wait(), max(0.0, within - (time.perf_counter() - started)))
        self.claim_seconds = time.perf_counter() - started
        self.claim_cpu_seconds = self.server.cpu_seconds() - cpu0
        self.senders = [v for v in opened if v.active]
        progress(
            f"site: {self.active} active after {self.claim_seconds:.1f} s; {self.dashboards} dashboards, "
            f"{len(self.claimed)} claims sent, {self.opened} chats opened, errors {dict(self.errors)}"
        )

    async def _start_visitor(self) -> Client:
        ws = await open_socket(f"{self.server.ws_url}/ws/chat/", self.server.origin)
        visitor = Client(ws, lambda f: None, self.drops, "visitor")
        visitor.on_frame = lambda f: self._visitor_frame(visitor, f)
        await visitor.send({"type": "start"})
        return visitor

    def _visitor_frame(self, visitor: Client, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        self.last_frame_at = time.perf_counter()
        if kind == "ack" or (kind == "message" and frame.get("sender") == "visitor"):
            # The visitor's own message frame acknowledges it (an ack only for a resend).
            self.ledger.acked(frame["client_id"])
        elif kind == "state" and frame.get("status") == "active" and not visitor.active:
            visitor.active = True
            self.active += 1
            if self.active >= self.wanted:
                self.all_active.set()
        elif kind == "error":
            self.errors[frame.get("code", "?")] += 1
            if frame.get("client_id"):
                self.ledger.refuse(frame["client_id"], frame.get("code", "?"))

    def _console_reader(self, index: int) -> Callable[[dict[str, Any]], None]:
        return lambda frame: self._console_frame(index, frame)

    def _console_frame(self, index: int, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        self.console_frames[str(kind)] += 1
        self.last_frame_at = time.perf_counter()
        if kind == "message":
            if frame.get("sender") == "visitor":
                self.ledger.relayed(frame["client_id"])
        elif kind == "chat":
            self.opened += 1
        elif kind == "dashboard":
            self.dashboards += 1
            # Counsellors claim as fast as they can, each up to its cap, never the same chat twice.
            for item in frame.get("queue", []):
                chat_id = item["id"]
                if len(self.mine[index]) >= self.cap:
                    break
                if chat_id not in self.claimed:
                    self.claimed.add(chat_id)
                    self.mine[index].add(chat_id)
                    task = asyncio.create_task(self.consoles[index].send({"type": "claim", "conversation_id": chat_id}))
                    self.claims.add(task)
                    task.add_done_callback(self.claims.discard)
        elif kind == "error":
            self.errors[f"console:{frame.get('code', '?')}"] += 1
            chat_id = frame.get("conversation_id")
            if frame.get("code") in ("cap_reached", "not_queued") and chat_id in self.mine[index]:
                self.mine[index].discard(chat_id)
                if frame.get("code") == "cap_reached":
                    self.claimed.discard(chat_id)

    async def settle(self, quiet: float, within: float) -> float:
        """Waits until no frame has arrived for ``quiet`` seconds (at most ``within``); returns the wait.

        Starting every chat at once leaves the server a backlog of queue and
        dashboard updates; messages are measured once it has worked it off.
        """
        started = time.perf_counter()
        while (now := time.perf_counter()) - started < within:
            if now - self.last_frame_at >= quiet:
                break
            await asyncio.sleep(0.1)
        return time.perf_counter() - started

    def frame(self, index: int, client_id: str) -> dict[str, Any]:
        return {"type": "message", "client_id": client_id, "text": f"{TEXT} ({index})"}

    async def close(self) -> None:
        everything = [*self.senders, *self.consoles]
        await asyncio.gather(*(c.close() for c in everything))


class TutorialConversations(Conversations):
    """Rooms of two sockets on the tutorial's ``/ws/chat/<room>/``: one sends, one receives."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.ledger = Ledger()
        self.drops = Counter()
        self.senders = []
        self.receivers: list[Client] = []
        self.run = uuid.uuid4().hex[:8]

    async def open(self, chats: int, within: float) -> None:
        started, cpu0 = time.perf_counter(), self.server.cpu_seconds()
        url = f"{self.server.ws_url}/ws/chat/r{self.run}x"
        rooms = await asyncio.wait_for(
            gather_bounded(
                [open_socket(f"{url}{i // 2}/", self.server.origin) for i in range(2 * chats)],
                50,
            ),
            within,
        )
        for i, ws in enumerate(rooms):
            if i % 2 == 0:
                self.senders.append(Client(ws, self._own_copy, self.drops, "sender"))
            else:
                self.receivers.append(Client(ws, self._other_copy, self.drops, "receiver"))
        self.claim_seconds = time.perf_counter() - started
        self.claim_cpu_seconds = self.server.cpu_seconds() - cpu0

    def _own_copy(self, frame: dict[str, Any]) -> None:
        self.ledger.acked(frame["message"].split(" ", 1)[0])

    def _other_copy(self, frame: dict[str, Any]) -> None:
        self.ledger.relayed(frame["message"].split(" ", 1)[0])

    def frame(self, index: int, client_id: str) -> dict[str, Any]:
        return {"message": f"{client_id} {TEXT} ({index})"}

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in [*self.senders, *self.receivers]))


async def offer(conversations: Conversations, rate: float, seconds: float, tag: str) -> int:
    """Offers ``rate`` messages a second in total, round-robin over the senders; returns how many."""
    senders = conversations.senders
    if not senders or rate <= 0:
        return 0  # nothing is ready to send: the run reports that instead
    interval = 1.0 / rate
    start = time.perf_counter()
    for n in itertools.count():
        due = start + n * interval
        if due - start >= seconds:
            return n
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        sender = senders[n % len(senders)]
        if sender.closing or sender.reader.done():
            continue
        client_id = f"{tag}-{n}"
        conversations.ledger.sent(client_id)
        try:
            await sender.send(conversations.frame(n, client_id))
        except ConnectionClosed:
            conversations.ledger.refuse(client_id, "socket_closed")
    return 0  # unreachable: itertools.count() never ends


async def measure(
    conversations: Conversations, server: Server, rate: float, seconds: float, drain: float, tag: str
) -> Window:
    conversations.ledger = ledger = Ledger()
    cpu0, gen0, wall0 = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    await offer(conversations, rate, seconds, tag)
    await ledger.drain(drain)
    cpu1, gen1, wall1 = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    return summarise_window(ledger, rate, seconds, cpu1 - cpu0, gen1 - gen0, wall1 - wall0)


# --- runs ---------------------------------------------------------------------------


@dataclass
class Run:
    pair: int
    server: str
    chats: int
    chats_ready: int
    ready_seconds: float
    ready_cpu_seconds: float
    settle_seconds: float
    idle_cpu_pct: float
    console_frames: dict[str, int]
    dropped: int
    drops: dict[str, int]
    errors: dict[str, int]
    window: Window
    steps: list[Window] = field(default_factory=list)

    @property
    def net_cpu_ms_per_msg(self) -> float:
        """CPU per message less what the idle server would have used over the same time."""
        w = self.window
        if not w.completed:
            return float("nan")
        return max(0.0, w.server_cpu_s - self.idle_cpu_pct / 100 * w.wall_s) * 1000 / w.completed


async def drive(args: argparse.Namespace, server: Server, cookies: list[str], pair: int) -> Run:
    conversations: SiteConversations | TutorialConversations
    if server.name == "site":
        conversations = SiteConversations(server, cookies, args.chats_per_counsellor)
    else:
        conversations = TutorialConversations(server)
    tag = uuid.uuid4().hex[:6]
    try:
        await conversations.open(args.chats, args.ready_timeout)
        ready = len(conversations.senders)
        settled = await conversations.settle(1.0, args.settle_timeout) if ready else 0.0
        # What the server burns with every socket open and nothing happening
        # (keepalives, the layer's polling): at low rates a large share of CPU per message.
        idle0 = server.cpu_seconds()
        await asyncio.sleep(args.idle_seconds)
        idle_share = (server.cpu_seconds() - idle0) / args.idle_seconds
        progress(f"{server.name}: {ready} conversations ready, settled after {settled:.1f} s")
        steps: list[Window] = []
        if args.warmup > 0 and ready:
            rate = args.start_rate if args.saturate else args.chats * args.rate
            # A short settle only: a server that cannot drain its warm-up starts the window behind, as it would be.
            await measure(conversations, server, rate, args.warmup, min(args.drain, 3.0), f"{tag}w")
        if not args.saturate:
            window = await measure(conversations, server, args.chats * args.rate, args.seconds, args.drain, tag)
        else:
            rate, best, retries = float(args.start_rate), None, args.step_retries
            while rate <= args.max_rate:
                step = await measure(conversations, server, rate, args.step_seconds, args.drain, f"{tag}s{len(steps)}")
                steps.append(step)
                if not step.sustained(args.p99_bound_ms):
                    if retries > 0:
                        # On a shared machine one slow moment can fail a step the server sustains.
                        retries -= 1
                        continue
                    break
                best = step
                rate *= args.step_factor
            window = best or steps[0]
        console_frames = dict(getattr(conversations, "console_frames", {}))
        progress(f"{server.name}: measured; closing; frames to consoles over the run {console_frames}")
        errors = dict(getattr(conversations, "errors", {}))
        return Run(
            pair=pair,
            server=server.name,
            chats=args.chats,
            chats_ready=ready,
            ready_seconds=conversations.claim_seconds,
            ready_cpu_seconds=conversations.claim_cpu_seconds,
            settle_seconds=settled,
            idle_cpu_pct=100 * idle_share,
            console_frames=console_frames,
            dropped=sum(conversations.drops.values()),
            drops=dict(conversations.drops),
            errors=errors,
            window=window,
            steps=steps,
        )
    finally:
        await conversations.close()


def run_on_event_loop(coroutine: Coroutine[Any, Any, Run]) -> Run:
    """Runs the load generator on uvloop when it is installed (uvicorn[standard] brings it)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coroutine)
    return asyncio.run(coroutine, loop_factory=uvloop.new_event_loop)


def one_run(args: argparse.Namespace, env: Environment, name: str, pair: int, logs: Path) -> Run:
    cookies: list[str] = []
    cpu = CpuLimit(args.cpu_per_process, args.cpu_period_ms) if args.cpu_per_process else None
    if name == "site":
        counsellors = math.ceil(args.chats / args.chats_per_counsellor)
        cookies = prepare_site(env, counsellors, args.chats_per_counsellor)
        server = Server(name, "ecpat_site.asgi:application", env.site(), args.workers, logs / f"site-{pair}.log", cpu)
    else:
        server = Server(
            name, "bench.tutorial_chat.asgi:application", env.tutorial(), 1, logs / f"tutorial-{pair}.log", cpu
        )
    progress(f"{name}: starting server")
    server.start()
    progress(f"{name}: server up")
    try:
        run = run_on_event_loop(drive(args, server, cookies, pair))
        if FAULTS:
            raise HarnessError(f"{name}: a client failed on a frame: {FAULTS[:3]}")
    finally:
        progress(f"{name}: stopping server")
        server.stop()
        progress(f"{name}: stopped")
    return run


# --- report ---------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"  # NaN check


def print_runs(runs: list[Run], saturate: bool) -> None:
    print()
    print(
        "| pair | server | ready | ready s | ready CPU s | settle s | offered/s | msg/s | CPU ms/msg | net ms/msg "
        "| idle CPU | ack p50/p90/p99 ms | relay p50/p90/p99 ms | lost | dropped | refused | generator CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        w = run.window
        print(
            f"| {run.pair} | {run.server} | {run.chats_ready}/{run.chats} "
            f"| {run.ready_seconds:.1f} | {run.ready_cpu_seconds:.1f} | {run.settle_seconds:.1f} "
            f"| {w.offered_per_s:.0f} | {w.throughput_per_s:.0f} | {fmt(w.cpu_ms_per_msg, 2)} "
            f"| {fmt(run.net_cpu_ms_per_msg, 2)} | {run.idle_cpu_pct:.1f} % "
            f"| {fmt(w.ack_ms[0])} / {fmt(w.ack_ms[1])} / {fmt(w.ack_ms[2])} "
            f"| {fmt(w.relay_ms[0])} / {fmt(w.relay_ms[1])} / {fmt(w.relay_ms[2])} "
            f"| {w.lost} | {run.dropped} | {sum(w.refused.values())} | {w.generator_cpu_pct:.0f} % |"
        )
        if saturate:
            ramp = ", ".join(
                f"{s.offered_per_s:.0f}->{s.throughput_per_s:.0f} (p99 {fmt(s.ack_ms[2], 0)}/{fmt(s.relay_ms[2], 0)})"
                for s in run.steps
            )
            print(f"|   | ramp: {ramp} |")
        if run.errors or run.drops:
            print(f"|   | errors: {run.errors}, dropped (role, close code): {run.drops} |")


def median(values: list[float]) -> float:
    values = sorted(v for v in values if v == v)
    if not values:
        return float("nan")
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def summary(runs: list[Run]) -> dict[str, Any]:
    by_server = {name: [r for r in runs if r.server == name] for name in ("site", "tutorial")}
    medians = {
        name: {
            "throughput_per_s": median([r.window.throughput_per_s for r in rs]),
            "cpu_ms_per_msg": median([r.window.cpu_ms_per_msg for r in rs]),
            "net_cpu_ms_per_msg": median([r.net_cpu_ms_per_msg for r in rs]),
            "ready_seconds": median([r.ready_seconds for r in rs]),
            "ready_cpu_seconds": median([r.ready_cpu_seconds for r in rs]),
            "ack_p99_ms": median([r.window.ack_ms[2] for r in rs]),
            "relay_p99_ms": median([r.window.relay_ms[2] for r in rs]),
            "lost": sum(r.window.lost for r in rs),
            "dropped": sum(r.dropped for r in rs),
        }
        for name, rs in by_server.items()
    }
    pairs = sorted({r.pair for r in runs})
    ratios, cpu_ratios, net_ratios = [], [], []
    for pair in pairs:
        site = next((r for r in runs if r.pair == pair and r.server == "site"), None)
        tutorial = next((r for r in runs if r.pair == pair and r.server == "tutorial"), None)
        if site and tutorial and tutorial.window.throughput_per_s > 0:
            ratios.append(site.window.throughput_per_s / tutorial.window.throughput_per_s)
            cpu_ratios.append(site.window.cpu_ms_per_msg / tutorial.window.cpu_ms_per_msg)
            if tutorial.net_cpu_ms_per_msg > 0:
                net_ratios.append(site.net_cpu_ms_per_msg / tutorial.net_cpu_ms_per_msg)
    return {
        "medians": medians,
        "throughput_ratio_per_pair": ratios,
        "throughput_ratio": median(ratios),
        "cpu_ratio_per_pair": cpu_ratios,
        "cpu_ratio": median(cpu_ratios),
        "net_cpu_ratio_per_pair": net_ratios,
        "net_cpu_ratio": median(net_ratios),
    }


def print_summary(result: dict[str, Any]) -> None:
    print()
    print(
        "| server (medians) | msg/s | CPU ms/msg | net ms/msg | ready s | ready CPU s | ack p99 ms | relay p99 ms "
        "| lost (all runs) | dropped (all runs) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, m in result["medians"].items():
        if m["throughput_per_s"] != m["throughput_per_s"]:
            continue  # not run (--only)
        print(
            f"| {name} | {m['throughput_per_s']:.0f} | {fmt(m['cpu_ms_per_msg'], 2)} "
            f"| {fmt(m['net_cpu_ms_per_msg'], 2)} | {m['ready_seconds']:.1f} | {m['ready_cpu_seconds']:.1f} "
            f"| {fmt(m['ack_p99_ms'])} "
            f"| {fmt(m['relay_p99_ms'])} | {m['lost']} | {m['dropped']} |"
        )
    if not result["throughput_ratio_per_pair"]:
        return
    per_pair = ", ".join(f"{r:.2f}" for r in result["throughput_ratio_per_pair"])
    cpu_pair = ", ".join(f"{r:.1f}" for r in result["cpu_ratio_per_pair"])
    print()
    print(f"throughput ratio site/tutorial: {fmt(result['throughput_ratio'], 2)} (pairs: {per_pair})")
    net_pair = ", ".join(f"{r:.1f}" for r in result["net_cpu_ratio_per_pair"])
    print(f"CPU per message site/tutorial:  {fmt(result['cpu_ratio'], 1)} (pairs: {cpu_pair})")
    print(f"  net of idle CPU:              {fmt(result['net_cpu_ratio'], 1)} (pairs: {net_pair})")


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=200, help="conversations (pairs of sockets) per run")
    parser.add_argument("--rate", type=float, default=0.5, help="fixed mode: messages a second per conversation")
    parser.add_argument("--seconds", type=float, default=10.0, help="fixed mode: measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds of load before measuring")
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to wait for acks/relays after sending")
    parser.add_argument("--pairs", type=int, default=3, help="A/B pairs; the first server alternates")
    parser.add_argument("--only", choices=("site", "tutorial"), help="run one server only (no ratio)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn --workers for the site")
    parser.add_argument(
        "--cpu-per-process",
        type=float,
        help="cap each serving process (the tutorial's, the site's or each site worker) at this many cores "
        "(a cgroup each; root, cgroup v1)",
    )
    parser.add_argument(
        "--cpu-period-ms",
        type=float,
        default=CFS_PERIOD_MS,
        help="the cap's accounting period: a capped process runs its share of each period, then waits "
        "(the quota must come to at least 1 ms)",
    )
    parser.add_argument("--chats-per-counsellor", type=int, default=4, help="each console claims up to this many")
    parser.add_argument("--ready-timeout", type=float, default=30.0, help="longest wait for every chat to be claimed")
    parser.add_argument(
        "--settle-timeout", type=float, default=20.0, help="longest wait for start/claim updates to die down"
    )
    parser.add_argument("--idle-seconds", type=float, default=1.5, help="idle CPU measured this long before load")
    parser.add_argument("--message-limit", type=int, default=1000, help="SUPPORTLINE_MESSAGES_PER_SECOND for the site")
    parser.add_argument("--saturate", action="store_true", help="ramp the offered rate to find max sustained msg/s")
    parser.add_argument("--start-rate", type=float, default=250.0, help="saturation: first total msg/s")
    parser.add_argument("--step-factor", type=float, default=1.15, help="saturation: rate multiplier per step")
    parser.add_argument("--step-seconds", type=float, default=4.0, help="saturation: seconds per step")
    parser.add_argument("--step-retries", type=int, default=1, help="saturation: failed steps retried per run")
    parser.add_argument("--max-rate", type=float, default=6000.0, help="saturation: stop ramping above this")
    parser.add_argument("--p99-bound-ms", type=float, default=250.0, help="saturation: sustained means p99 under this")
    parser.add_argument("--verbose", action="store_true", help="print timed phases on stderr")
    parser.add_argument("--json", type=Path, help="also write every run and the summary here")
    parser.add_argument("--logs", type=Path, help="keep server logs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.cpu_per_process and round(args.cpu_per_process * args.cpu_period_ms * 1000) < CFS_MIN_QUOTA_US:
        parser.error(
            f"--cpu-per-process {args.cpu_per_process:g} of a {args.cpu_period_ms:g} ms period is a quota under "
            "the kernel's 1 ms minimum: use a longer --cpu-period-ms"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    global VERBOSE
    args = parse_args(argv)
    VERBOSE = args.verbose
    with tempfile.TemporaryDirectory(prefix="chat-e2e-") as tmp:
        logs = args.logs or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        data_dir = Path(tmp) / "data"
        (data_dir / "static").mkdir(parents=True)  # nothing is served from it; WhiteNoise wants it to exist
        try:
            env = Environment.from_os(data_dir, args.message_limit)
            order = [args.only] if args.only else ["site", "tutorial"]
            mode = (
                f"saturation from {args.start_rate:g} msg/s x{args.step_factor:g} every {args.step_seconds:g} s, "
                f"p99 bound {args.p99_bound_ms:g} ms"
                if args.saturate
                else f"{args.rate:g} msg/s per chat for {args.seconds:g} s"
            )
            print(
                f"chat_e2e: {args.chats} chats, {mode}, {args.pairs} pair(s), site workers {args.workers}, "
                + (
                    f"each serving process capped at {args.cpu_per_process:g} cores (per {args.cpu_period_ms:g} ms), "
                    if args.cpu_per_process
                    else ""
                )
                + f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M %Z')}",
                flush=True,
            )
            runs: list[Run] = []
            for pair in range(1, args.pairs + 1):
                for name in order if pair % 2 else list(reversed(order)):
                    run = one_run(args, env, name, pair, logs)
                    runs.append(run)
                    w = run.window
                    print(
                        f"  pair {pair} {name}: {w.throughput_per_s:.0f} msg/s, {fmt(w.cpu_ms_per_msg, 2)} ms CPU/msg, "
                        f"ack p99 {fmt(w.ack_ms[2])} ms, relay p99 {fmt(w.relay_ms[2])} ms, lost {w.lost}, "
                        f"dropped {run.dropped}, ready {run.chats_ready}/{run.chats} in {run.ready_seconds:.1f} s "
                        f"({run.ready_cpu_seconds:.1f} s server CPU)",
                        flush=True,
                    )
        except HarnessError as exc:
            print(f"chat_e2e: harness error: {exc}", file=sys.stderr)
            return 2
        print_runs(runs, args.saturate)
        result = summary(runs)
        print_summary(result)
        if args.json:
            args.json.write_text(json.dumps({"runs": [asdict(r) for r in runs], "summary": result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
