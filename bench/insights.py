"""The insights pages with two years of synthetic data, beside the admin start page in the same run.

One uvicorn process serves ``ecpat_site.asgi:application`` in the production
profile (PostgreSQL + Redis, README's flags, secrets made up for the run). An
administrator's verified session is made for the run; then, ``--rounds``
times, one GET of every page in an order that rotates each round, so drift in
the machine's load falls on every page alike:

* baseline            - the admin start page (``/admin/``), itself with the insights card
* support/hotline/prevention, each for the last 30 days and for the last full calendar year

The first request of each page (nothing cached: neither the figures nor the
drawn charts) is reported on its own. ``--cold`` flushes the run's Redis
database before every insights request (not timed), so every request computes
its figures and draws its charts anew. Any answer other than 200 is a harness
error.

The database must already hold the data and its name must contain "bench"
(``manage.py generate_insights_demo_data``: 200,000 chats, 50,000 tips over
730 days, then aggregated)::

    createdb -h 127.0.0.1 -U postgres ecpat_bench_insights
    export FIELD_ENCRYPTION_KEYS=...  # one Fernet key, the same for the data and the benchmark
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/ecpat_bench_insights REDIS_URL=redis://127.0.0.1:6379/4
    DJANGO_SETTINGS_MODULE=ecpat_site.settings.test .venv/bin/python manage.py migrate
    DJANGO_SETTINGS_MODULE=ecpat_site.settings.test .venv/bin/python manage.py generate_insights_demo_data --yes-i-know
    .venv/bin/python bench/insights.py [--rounds 200] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chat_e2e import BIN, ROOT, Environment, HarnessError, Server, percentile

TARGET_P95_MS = 300.0

MAKE_SESSION = """
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from staff.models import StaffTOTPDevice

user = get_user_model().objects.create(username="bench-insights-" + uuid.uuid4().hex[:8], is_staff=True)
user.groups.add(Group.objects.get(name="administrator"))
device = StaffTOTPDevice.objects.filter(user=user, confirmed=True).first() or StaffTOTPDevice.objects.create(
    user=user, name="bench", confirmed=True
)
client = Client()
client.force_login(user)
session = client.session
session[DEVICE_ID_SESSION_KEY] = device.persistent_id
session.save()
print("SESSION", client.cookies["sessionid"].value)
"""


def pages(year: int) -> dict[str, str]:
    found = {"baseline": "/admin/"}
    for name, slug in (("support", "stodlinjen"), ("hotline", "hotline"), ("prevention", "forebyggande")):
        found[f"{name} 30 d"] = f"/admin/statistik/{slug}/?period=30"
        found[f"{name} {year}"] = f"/admin/statistik/{slug}/?period=year&year={year}"
    return found


def prepare(env: dict[str, str]) -> str:
    """Collects the static files (the production profile serves them from a manifest); returns a verified session."""
    collected = subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if collected.returncode != 0:
        raise HarnessError(f"collectstatic failed:\n{collected.stderr}")
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", MAKE_SESSION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("SESSION "):
            return line.split(" ", 1)[1]
    raise HarnessError(f"no session made:\n{done.stdout}\n{done.stderr}")


def get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise HarnessError(f"{path}: {response.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--cold", action="store_true", help="flush the Redis database before every insights request")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    if "bench" not in database_url.rsplit("/", 1)[-1]:
        raise HarnessError("DATABASE_URL must name a database whose name contains 'bench'")
    year = date.today().year - 1  # noqa: DTZ011 - a calendar year to ask for, not a moment
    with tempfile.TemporaryDirectory(prefix="bench-insights-") as tmp:
        environment = Environment.from_os(Path(tmp), message_limit=1000)
        # The pages read tips and articles the demo data wrote, encrypted with this key.
        if os.environ.get("FIELD_ENCRYPTION_KEYS"):
            environment.secrets["FIELD_ENCRYPTION_KEYS"] = os.environ["FIELD_ENCRYPTION_KEYS"]
        site = environment.site()
        cookie = prepare(site)
        server = Server("site", "ecpat_site.asgi:application", site, workers=1, log_path=Path(tmp) / "site.log")
        server.start()
        flush = redis.Redis.from_url(environment.redis_url).flushdb if args.cold else None
        try:
            paths = pages(year)
            names = list(paths)
            samples: dict[str, list[float]] = {name: [] for name in names}
            first: dict[str, float] = {}
            with httpx.Client(base_url=server.origin, cookies={"sessionid": cookie}, timeout=60) as client:
                for name in names:
                    first[name] = get(client, paths[name])
                for round_number in range(args.rounds):
                    shift = round_number % len(names)
                    for name in names[shift:] + names[:shift]:
                        if flush is not None and name != "baseline":
                            flush()
                        samples[name].append(get(client, paths[name]))
        except HarnessError:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()

    mode = "cold (Redis flushed before each insights request)" if args.cold else "warm"
    print(f"insights pages, {args.rounds} rounds, {mode}; ms per request")
    print(f"{'page':<18}{'first':>9}{'p50':>9}{'p95':>9}{'p99':>9}{'p95/baseline':>14}")
    baseline_p95 = percentile(samples["baseline"], 0.95)
    results = {}
    for name in names:
        p50 = statistics.median(samples[name])
        p95 = percentile(samples[name], 0.95)
        p99 = percentile(samples[name], 0.99)
        results[name] = {"first": first[name], "p50": p50, "p95": p95, "p99": p99}
        flag = "" if name == "baseline" or p95 < TARGET_P95_MS else "  over target"
        print(f"{name:<18}{first[name]:>9.1f}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{p95 / baseline_p95:>13.1f}x{flag}")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
