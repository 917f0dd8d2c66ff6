"""`make run` on embedded defaults: home page, healthy, a task through the worker, Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.processes import ROOT, clean_env, free_port, manage, wait_for_http


@pytest.fixture
def running_site(tmp_path):
    port = free_port()
    venv = os.path.dirname(os.path.dirname(sys.executable))
    env = clean_env(PORT=str(port), DATA_DIR=str(tmp_path), VENV=venv)
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"VENV={venv}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=180, process=process)
        yield port, env, process, tmp_path / "run.log"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_make_run_serves_the_whole_site(running_site):
    port, env, process, log_path = running_site
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
        assert "Lämna sidan snabbt" in response.read().decode()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
        assert b'"status": "ok"' in response.read()
    # The worker started by `make run` answers on both queues, over the filesystem broker.
    result = manage("ping_worker", "--timeout", "60", env=env, timeout=150)
    assert result.returncode == 0, result.stdout + result.stderr + log_path.read_text()
    output = log_path.read_text()
    assert "username: demo" in output
    assert "beat: Starting" in output or "beat" in output

    # Ctrl-C (SIGINT to the foreground group) stops web, worker and beat.
    os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is not None, "make run did not stop on Ctrl-C"
    leftover = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
