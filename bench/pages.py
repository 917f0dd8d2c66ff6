"""Public pages beside a static file: how close each page comes to the machine's ceiling.

One uvicorn process serves ``ecpat_site.asgi:application`` in the production
profile (PostgreSQL + Redis, README's flags, secrets made up for the run) for
the whole benchmark. A load generator in this process (asyncio, uvloop,
``httptools``, keep-alive connections over loopback) keeps ``--clients``
requests in flight against one page at a time:

* static   - a WhiteNoise static file (``css/site.css``): the ceiling
* home     - ``/``
* article  - an article page (served from the page cache after the first visit)
* search   - ``POST /kunskap/sok/`` with a query (never cached)
* hotline  - the hotline's tip form (``GET /hotline/``, never cached)

Each page is measured ``--seconds`` after ``--warmup`` seconds of unmeasured
load, in ``--repetitions`` rounds whose page order rotates, so drift in the
machine's load falls on every page. A page's ratio is its rate divided by the
static file's rate in the same round (the median over rounds is printed).
Latency percentiles pool every round. CPU per request is the server process's
user+system time over the measured window divided by the requests completed.
Any answer other than 200 is a harness error: a fast error page measures nothing.

Needs PostgreSQL and Redis; migrates ``DATABASE_URL`` and adds the demo
articles (``seed_articles``) to it:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ecpat_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
    .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httptools
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chat_e2e import (
    ROOT,
    Environment,
    HarnessError,
    Server,
    own_cpu_seconds,
    percentile,
)

HOST = "127.0.0.1"
ARTICLE_SLUG = "vad-ar-grooming"
SEARCH_WORDS = "nätet"


@dataclass(frozen=True)
class Page:
    name: str
    method: str
    path: str
    body: bytes = b""

    def request(self, port: int) -> bytes:
        headers = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {HOST}:{port}",
            "Accept: text/html,*/*",
            "Accept-Language: sv",
        ]
        if self.body:
            headers += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(headers) + "\r\n\r\n").encode() + self.body


def pages(static_path: str) -> list[Page]:
    from urllib.parse import urlencode

    return [
        Page("static", "GET", static_path),
        Page("home", "GET", "/"),
        Page("article", "GET", f"/kunskap/artikel/{ARTICLE_SLUG}/"),
        Page("search", "POST", "/kunskap/sok/", urlencode({"q": SEARCH_WORDS}).encode()),
        Page("hotline", "GET", "/hotline/"),
    ]


PAGE_NAMES = ("static", "home", "article", "search", "hotline")


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends a request and waits for the whole response."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[int] | None = None
        self.lost = asyncio.get_running_loop().create_future()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio's classes

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.done is not None and not self.done.done():
            self.done.set_exception(HarnessError(f"connection closed by the server: {exc}"))
        if not self.lost.done():
            self.lost.set_result(None)

    # httptools callbacks
    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    async def fetch(self, raw: bytes) -> int:
        if self.transport is None:
            raise HarnessError("the server closed a keep-alive connection")
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.done


@dataclass
class Window:
    page: str
    repetition: int
    requests: int
    seconds: float
    rate: float
    latencies_ms: list[float] = field(repr=False)
    server_cpu_s: float
    generator_cpu_s: float
    errors: dict[int, int]

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s * 1000 / self.requests if self.requests else float("nan")


async def load(
    port: int,
    page: Page,
    clients: int,
    warmup: float,
    seconds: float,
    server: Server,
    rep: int,
    profile: list[str] | None = None,
) -> Window:
    loop = asyncio.get_running_loop()
    connections: list[Connection] = []
    for _ in range(clients):
        _, protocol = await loop.create_connection(Connection, HOST, port)
        connections.append(protocol)
    raw = page.request(port)
    latencies: list[float] = []
    errors: dict[int, int] = {}
    measuring = False
    stop = False

    async def client(connection: Connection) -> None:
        while not stop:
            started = time.perf_counter()
            status = await connection.fetch(raw)
            if measuring:
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    errors[status] = errors.get(status, 0) + 1

    tasks = [asyncio.create_task(client(c)) for c in connections]
    try:
        await asyncio.sleep(warmup)
        cpu_before, own_before, started = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
        measuring = True
        profiler = await asyncio.create_subprocess_exec(*profile) if profile else None
        await asyncio.sleep(seconds)
        measuring = False
        elapsed = time.perf_counter() - started
        cpu, own = server.cpu_seconds() - cpu_before, own_cpu_seconds() - own_before
        stop = True
        await asyncio.gather(*tasks)
        if profiler is not None:
            await profiler.wait()
    finally:
        for task in tasks:
            task.cancel()
        for connection in connections:
            if connection.transport is not None:
                connection.transport.close()
    return Window(page.name, rep, len(latencies), elapsed, len(latencies) / elapsed, latencies, cpu, own, errors)


def prepare(env: Environment) -> str:
    """Migrates, collects static files, adds the demo articles; returns the static file's hashed path."""
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["seed_articles"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env.site(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise HarnessError(f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    manifest = json.loads((env.data_dir / "static" / "staticfiles.json").read_text())
    return "/static/" + str(manifest["paths"]["css/site.css"])


def summarise(windows: list[Window], names: list[str]) -> list[dict[str, Any]]:
    static_by_rep = {w.repetition: w.rate for w in windows if w.page == "static"}
    rows = []
    for name in names:
        mine = [w for w in windows if w.page == name]
        latencies = [ms for w in mine for ms in w.latencies_ms]
        requests = sum(w.requests for w in mine)
        rows.append(
            {
                "page": name,
                "rate": statistics.median(w.rate for w in mine),
                "rates": [round(w.rate, 1) for w in mine],
                "ratio": statistics.median(w.rate / static_by_rep[w.repetition] for w in mine),
                "p50_ms": percentile(latencies, 0.5),
                "p95_ms": percentile(latencies, 0.95),
                "p99_ms": percentile(latencies, 0.99),
                "cpu_ms": sum(w.server_cpu_s for w in mine) * 1000 / requests if requests else float("nan"),
                "generator_cpu_pct": 100 * sum(w.generator_cpu_s for w in mine) / sum(w.seconds for w in mine),
                "errors": {str(k): v for w in mine for k, v in w.errors.items()},
            }
        )
    return rows


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\n{args.clients} concurrent clients, {args.repetitions} interleaved repetitions of {args.seconds:g} s, "
        "one uvicorn process (production profile)"
    )
    header = f"{'page':<8} {'req/s':>7} {'of static':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10}"
    print(header + "   rounds (req/s)")
    for row in rows:
        print(
            f"{row['page']:<8} {row['rate']:>7.0f} {row['ratio']:>8.0%} {row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f} "
            f"{row['p99_ms']:>7.1f} {row['cpu_ms']:>10.2f}   {', '.join(f'{r:.0f}' for r in row['rates'])}"
        )
    busiest = max(row["generator_cpu_pct"] for row in rows)
    print(f"load generator CPU: up to {busiest:.0f} % of one core (this process)")


async def run(args: argparse.Namespace, env: Environment, static_path: str, logs: Path) -> list[Window]:
    server = Server("site", "ecpat_site.asgi:application", env.site(), 1, logs / "site.log")
    server.start()
    try:
        plan = [p for p in pages(static_path) if p.name in args.pages]
        for page in plan:  # every page answers 200 before anything is measured
            window = await load(server.port, page, 1, 0.0, 1.5, server, 0)
            if window.errors or not window.requests:
                raise HarnessError(f"{page.name} {page.path} answered {window.errors or 'nothing'}")
        windows = []
        for rep in range(1, args.repetitions + 1):
            shift = (rep - 1) % len(plan)
            for page in plan[shift:] + plan[:shift]:
                profile = None
                if args.py_spy and rep == 1:
                    assert server.process is not None
                    output = logs / f"profile-{page.name}.txt"
                    profile = [str(args.py_spy), "record", "--pid", str(server.process.pid)]
                    profile += ["--duration", str(int(args.seconds)), "--format", "raw", "--output", str(output)]
                window = await load(server.port, page, args.clients, args.warmup, args.seconds, server, rep, profile)
                if window.errors:
                    raise HarnessError(f"{page.name}: answers other than 200: {window.errors}")
                if args.verbose:
                    print(
                        f"round {rep} {page.name:<8} {window.rate:7.0f} req/s  {window.cpu_ms_per_request:.2f} ms CPU",
                        file=sys.stderr,
                    )
                windows.append(window)
        return windows
    finally:
        server.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20, help="requests in flight (keep-alive connections)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per page and round")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds of load before each window")
    parser.add_argument("--repetitions", type=int, default=3, help="interleaved rounds")
    parser.add_argument(
        "--pages", nargs="+", default=list(PAGE_NAMES), choices=PAGE_NAMES, help="measure these only (static always)"
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        help="a py-spy binary: profile the server in every window of round 1 (raw stacks in --logs)",
    )
    parser.add_argument("--verbose", action="store_true", help="print each window on stderr")
    parser.add_argument("--json", type=Path, help="also write the summary and every window here")
    parser.add_argument("--logs", type=Path, help="keep the server's log here (default: a temporary folder)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.pages = ["static", *(name for name in PAGE_NAMES if name in args.pages and name != "static")]
    with tempfile.TemporaryDirectory(prefix="ecpat-pages-") as tmp:
        logs = args.logs or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        try:
            env = Environment.from_os(Path(tmp) / "data", message_limit=1000)
            static_path = prepare(env)
            windows = uvloop.run(run(args, env, static_path, logs))
        except HarnessError as exc:
            print(f"harness error: {exc}", file=sys.stderr)
            return 2
    rows = summarise(windows, args.pages)
    print_table(rows, args)
    if args.json:
        report = {
            "settings": {k: str(v) for k, v in vars(args).items()},
            "pages": rows,
            "windows": [{k: v for k, v in asdict(w).items() if k != "latencies_ms"} for w in windows],
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
