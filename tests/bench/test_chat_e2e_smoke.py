"""``bench/chat_e2e.py`` in a tiny configuration, so the benchmark cannot rot unnoticed.

It runs the real harness (both servers under uvicorn, the setup step, the load
generator) against the test database and checks that every number is produced
and nothing was lost; it makes no claim about speed.
"""

import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.processes import ROOT, clean_env, database_url_for_subprocess

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def run_bench(tmp_path: Path, *args: str) -> Any:
    out = tmp_path / "result.json"
    env = clean_env(
        DATABASE_URL=database_url_for_subprocess(),
        REDIS_URL=settings.REDIS_URL,
        CHANNEL_LAYER_PREFIX=f"bench-smoke-{uuid.uuid4().hex[:8]}",
    )
    result = subprocess.run(
        [sys.executable, "bench/chat_e2e.py", *args, "--json", str(out), "--logs", str(tmp_path / "logs")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    (tmp_path / "stdout.txt").write_text(result.stdout)
    assert "throughput ratio site/tutorial" in result.stdout
    return json.loads(out.read_text())


def test_one_pair_of_two_chats_measures_both_servers_and_loses_nothing(tmp_path):
    report = run_bench(
        tmp_path,
        *("--chats", "2", "--rate", "2", "--seconds", "2", "--warmup", "0.5", "--idle-seconds", "0.5"),
        *("--drain", "10", "--pairs", "1"),
    )

    runs = {run["server"]: run for run in report["runs"]}
    assert set(runs) == {"site", "tutorial"}
    for run in runs.values():
        window = run["window"]
        assert run["chats_ready"] == 2
        assert window["sent"] >= 6
        assert window["completed"] == window["sent"]
        assert window["lost"] == 0
        assert window["refused"] == {}
        assert run["dropped"] == 0
        assert window["server_cpu_s"] > 0
        for value in [*window["ack_ms"], *window["relay_ms"], window["cpu_ms_per_msg"], window["throughput_per_s"]]:
            assert math.isfinite(value) and value > 0
    summary = report["summary"]
    assert summary["throughput_ratio"] > 0
    assert summary["cpu_ratio"] > 0


CPU_CGROUPS = Path("/sys/fs/cgroup/cpu")


def test_a_cap_under_the_kernels_minimum_quota_is_refused_before_anything_starts():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chat_e2e.py"), "--cpu-per-process", "0.2", "--cpu-period-ms", "2.5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "under the kernel's 1 ms minimum" in done.stderr


def test_a_harness_that_was_killed_leaves_no_cgroup_behind_the_next_run():
    if not (os.access(CPU_CGROUPS, os.W_OK) and (CPU_CGROUPS / "cgroup.procs").exists()):
        pytest.skip("needs a writable cgroup v1 CPU controller (root)")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer runs, as a killed harness's
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stale = CPU_CGROUPS / f"ecpat-bench-{gone.pid}-{sleeper.pid}"
    mine = CPU_CGROUPS / f"ecpat-bench-{os.getpid()}-{sleeper.pid}"  # a running harness's: left alone
    try:
        stale.mkdir()
        mine.mkdir()
        (stale / "cgroup.procs").write_text(str(sleeper.pid))
        done = subprocess.run(
            [sys.executable, "-c", "import chat_e2e; chat_e2e.remove_stale_groups()"],
            cwd=ROOT / "bench",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert not stale.exists() and mine.exists()
        assert str(sleeper.pid) in (CPU_CGROUPS / "cgroup.procs").read_text().split()  # back in the root group
    finally:
        sleeper.kill()
        sleeper.wait()
        for group in (stale, mine):
            if group.exists():
                group.rmdir()


def test_the_saturation_ramp_steps_by_the_factor_and_keeps_the_best_sustained_step(tmp_path):
    # Where this machine lets the harness cap each server's CPU (root, cgroup v1), the cap runs too.
    capped = os.access(CPU_CGROUPS, os.W_OK) and (CPU_CGROUPS / "cgroup.procs").exists()
    report = run_bench(
        tmp_path,
        *("--saturate", "--chats", "2", "--start-rate", "10", "--step-factor", "1.5", "--max-rate", "16"),
        *("--step-seconds", "1", "--warmup", "0", "--idle-seconds", "0.5", "--drain", "10", "--pairs", "1"),
        *(("--cpu-per-process", "0.5", "--cpu-period-ms", "5") if capped else ()),
    )
    if capped:
        assert "capped at 0.5 cores (per 5 ms)" in (tmp_path / "stdout.txt").read_text()
        assert not list(CPU_CGROUPS.glob("ecpat-bench-*")), "the harness left its cgroups behind"

    for run in report["runs"]:
        steps = run["steps"]
        # 10 and 15 msg/s offered (22.5 is above --max-rate); a step that fails is retried once.
        assert [round(step["offered_per_s"]) for step in steps] == [10, 15], steps
        assert all(step["lost"] == 0 for step in steps)
        assert run["window"] == steps[-1]  # the best sustained step is the window reported
    assert report["summary"]["throughput_ratio"] > 0
