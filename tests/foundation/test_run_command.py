"""`make run` on embedded defaults: home page, healthy, a task through the worker, Ctrl-C stops all.

And the first five minutes: the run ends with one block that says where to click and how to log in,
and neither the start nor a page load leaves a warning in the output.
"""

import os
import re
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


# What running as root (containers, this CI) adds to Celery's start; a developer's own account never sees it.
ROOT_ONLY = ("SecurityWarning: You're running the worker with superuser privileges", "_warn_or_raise_security_error(")
RULE = "=" * 78


def welcome_block(log_path, timeout: float = 90) -> list[str]:
    """The lines of the welcome block, without honcho's prefixes, once it is printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line.split("| ", 1)[1] for line in log_path.read_text().splitlines() if "welcome.1 | " in line]
        if lines.count(RULE) >= 2:
            return lines
        time.sleep(0.5)
    raise AssertionError("no welcome block:\n" + log_path.read_text())


def warnings_in(output: str) -> list[str]:
    return [
        line
        for line in output.splitlines()
        if re.search(r"warn", line, re.IGNORECASE) and not (os.geteuid() == 0 and any(r in line for r in ROOT_ONLY))
    ]


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
    assert "beat: Starting" in output or "beat" in output

    # One block, after the processes are up: where to click, the login, the console, how to stop.
    block = welcome_block(log_path)
    text = "\n".join(block)
    base = f"http://127.0.0.1:{port}"
    for expected in (f"{base}/", f"{base}/chat/", f"{base}/hotline/", f"{base}/kunskap/", f"{base}/admin/"):
        assert expected in text
    assert f"{base}/admin/supportline/conversation/console/" in text
    assert "Ctrl-C" in text
    password = re.search(r"password\s+(\S+)", text)
    secret = re.search(r"authenticator app: ([A-Z2-7]+)", text)
    assert "username             demo" in text
    assert password and secret, text
    # The block's login is the one that works (it is made after the web process answers).
    check = manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model;"
        f"print(get_user_model().objects.get(username='demo').check_password({password.group(1)!r}))",
        env=env,
    )
    assert check.stdout.strip().endswith("True"), check.stdout + check.stderr
    assert text.count("password") == 1, "one login, not one per command"
    assert output.index("celery@") < log_path.read_text().index(RULE), "the block comes after the processes are up"

    # Pages, a static file and the icons load without a warning; nothing warned on the way up either.
    for path in ("/", "/hotline/", "/kunskap/", "/static/css/site.css", "/favicon.ico", "/apple-touch-icon.png"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
            assert response.status == 200, path
    time.sleep(1)
    assert warnings_in(log_path.read_text()) == []

    # Ctrl-C (SIGINT to the foreground group) stops web, worker and beat.
    os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is not None, "make run did not stop on Ctrl-C"
    leftover = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
