"""Partner feed benchmark: full download, 304 and delta with 100,000 entries, beside two baselines.

One run seeds ``--entries`` confirmed URLs (and as many feed changes), builds
the signed snapshots, starts the site under uvicorn and requests, round-robin
so that noise hits every scenario alike:

* static   - the very bytes of the full URL feed as a static file, served by
             WhiteNoise in the same process: the ceiling for sending that much
* trivial  - ``/api/v1/feed/keys``: a view that reads no table, through the
             same middleware
* urls     - ``/api/v1/feed/urls``, the full download (one page)
* hashes   - ``/api/v1/feed/url-hashes``, the full download
* 304      - ``/api/v1/feed/urls`` with ``If-None-Match``
* delta    - ``/api/v1/feed/urls?since=`` the version ``--delta`` changes back

Each request carries the bearer token (authentication, rate limit and the
recorded use are part of every measured feed request). Latency is the
client's: request sent to last body byte read, over loopback with keep-alive.

Needs PostgreSQL (its name must contain ``bench`` or ``test``: hotline tables
are emptied) and Redis:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ecpat_feed_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
    .venv/bin/python bench/feed.py

Exits non-zero only when the harness fails, never because numbers are slow.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FEED_KEYS = "bench-1:" + base64.b64encode(bytes(range(32))).decode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seed(entries: int, reuse: bool) -> tuple[str, int, bytes]:
    """Fills the feed with ``entries`` listed URLs; returns (token, version, full urls body)."""
    import hashlib
    import secrets

    from django.db import transaction
    from django.utils import timezone

    from hotline import services
    from hotline.models import (
        FeedChange,
        FeedSnapshot,
        FeedVersion,
        Partner,
        PartnerToken,
        Tip,
        TipURL,
    )

    if reuse and TipURL.objects.filter(state=TipURL.State.LISTED).count() == entries:
        print("reusing the seeded entries")
        partner = Partner.objects.get(name="Bench ISP")
        version = services.feed_rebuild_snapshots()
        issued = services.partner_token_issue(partner_id=partner.pk, actor=None)  # type: ignore[arg-type]
        snapshot = FeedSnapshot.objects.get(audience="industry", kind="urls", version=version, page=1)
        return issued.secret, version, bytes(snapshot.body)
    FeedSnapshot.objects.all().delete()
    FeedChange.objects.all().delete()
    FeedVersion.objects.all().delete()
    PartnerToken.objects.all().delete()
    Partner.objects.all().delete()
    Tip.objects.all().delete()
    now = timezone.now()
    tips = Tip.objects.bulk_create(
        Tip(
            category=Tip.Category.ABUSE_MATERIAL,
            status=Tip.Status.ASSESSED,
            outcome=Tip.Outcome.ILLEGAL,
            receipt_lookup=secrets.token_hex(16),
            receipt_verifier="bench",
        )
        for _ in range(max(1, entries // 1000))
    )
    batch = 5000
    for start in range(0, entries, batch):
        urls = [f"https://host{n % 997}.example/path/{n}/{secrets.token_hex(8)}" for n in range(start, start + batch)]
        urls = urls[: max(0, entries - start)]
        with transaction.atomic():
            TipURL.objects.bulk_create(
                TipURL(
                    tip=tips[(start + i) % len(tips)],
                    url=url,
                    url_hash=hashlib.sha256(url.encode()).hexdigest(),
                    state=TipURL.State.LISTED,
                    feed_sha256=services.feed_sha256(url),
                    assessed_at=now,
                    confirmed_at=now,
                )
                for i, url in enumerate(urls)
            )
            FeedChange.objects.bulk_create(
                FeedChange(
                    version=start + i + 1,
                    audience=audience,
                    change=FeedChange.Change.ADDED,
                    sha256=services.feed_sha256(url),
                    url=url,
                    at=now,
                )
                for i, url in enumerate(urls)
                for audience in ("industry", "police")
            )
    FeedVersion.objects.create(pk=1, version=entries)
    started = time.perf_counter()
    version = services.feed_rebuild_snapshots()
    print(f"snapshots built and signed in {time.perf_counter() - started:.1f} s")
    partner = Partner.objects.create(name="Bench ISP", audience="industry", scope_urls=True, scope_url_hashes=True)
    issued = services.partner_token_issue(partner_id=partner.pk, actor=None)  # type: ignore[arg-type]
    body = bytes(
        FeedSnapshot.objects.values_list("body", flat=True).get(
            audience="industry", kind="urls", version=version, page=1
        )
    )
    return issued.secret, version, body


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited early")
        try:
            if httpx.get(url + "/api/v1/feed/keys", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError("uvicorn not ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per scenario")
    parser.add_argument("--delta", type=int, default=100, help="changes in the measured delta")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--reuse", action="store_true", help="keep entries seeded by an earlier run of this size")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres") or not any(word in database_url for word in ("bench", "test")):
        sys.exit("DATABASE_URL must be a PostgreSQL database whose name contains 'bench' or 'test'")
    static_root = Path(tempfile.mkdtemp(prefix="feed-bench-static-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="ecpat_site.settings.test",
        STATIC_ROOT=str(static_root),
        FEED_SIGNING_KEYS=FEED_KEYS,
        FEED_RATE_LIMIT="100000000",
    )
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    token, version, body = seed(args.entries, args.reuse)
    print(f"seeded {args.entries} entries in {time.perf_counter() - started:.1f} s; full body {len(body) / 1e6:.1f} MB")
    (static_root / "bench-feed.json").write_bytes(body)
    connections.close_all()

    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "ecpat_site.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=30) as client:
            etag = client.get("/api/v1/feed/urls", headers=auth).headers["ETag"]
            scenarios: dict[str, tuple[str, dict[str, str], int]] = {
                "static": ("/static/bench-feed.json", {}, 200),
                "trivial": ("/api/v1/feed/keys", {}, 200),
                "urls": ("/api/v1/feed/urls", auth, 200),
                "hashes": ("/api/v1/feed/url-hashes", auth, 200),
                "304": ("/api/v1/feed/urls", {**auth, "If-None-Match": etag}, 304),
                "delta": (f"/api/v1/feed/urls?since={version - args.delta}", auth, 200),
            }
            timings: dict[str, list[float]] = {name: [] for name in scenarios}
            sizes: dict[str, int] = {}
            for name, (path, headers, status) in scenarios.items():  # warm up each once
                response = client.get(path, headers=headers)
                if response.status_code != status:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                sizes[name] = len(response.content)
            for _ in range(args.requests):
                for name, (path, headers, status) in scenarios.items():
                    begin = time.perf_counter()
                    response = client.get(path, headers=headers)
                    _ = response.content
                    timings[name].append((time.perf_counter() - begin) * 1000)
                    if response.status_code != status:
                        raise RuntimeError(f"{name}: {response.status_code}")
    finally:
        server.terminate()
        server.wait(timeout=10)

    static_p50 = statistics.median(timings["static"])
    trivial_p50 = statistics.median(timings["trivial"])
    results: list[dict[str, Any]] = []
    print(f"\n{args.entries} entries, {args.requests} requests per scenario, round-robin")
    print("| scenario | bytes | p50 ms | p95 ms | p99 ms | p50 / static | p50 / trivial |")
    print("|---|---|---|---|---|---|---|")
    for name, values in timings.items():
        p50, p95, p99 = statistics.median(values), percentile(values, 0.95), percentile(values, 0.99)
        results.append({"scenario": name, "bytes": sizes[name], "p50": p50, "p95": p95, "p99": p99})
        print(
            f"| {name} | {sizes[name]} | {p50:.1f} | {p95:.1f} | {p99:.1f} "
            f"| {p50 / static_p50:.2f} | {p50 / trivial_p50:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"entries": args.entries, "results": results}, indent=2))


if __name__ == "__main__":
    main()
