"""`make run`'s last word: once the site answers, one block with where to click and how to log in.

Runs as the Procfile's ``welcome`` process beside web, worker and beat. It
waits until ``/healthz`` answers, gives the demo account a fresh password,
prints the block, and then stays up doing nothing: honcho stops every process
as soon as one of them ends, and Ctrl-C stops them all (this one quietly).
"""

import threading
import time
import urllib.error
import urllib.request
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from ecpat_site.demo import DemoLogin, NotForProduction, demo_login_reset

RULE = "=" * 78


def site_answers(url: str) -> bool | None:
    """True when the site says it is healthy, False while it answers unhealthy, None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
            return True
    except urllib.error.HTTPError:
        return False  # it answers; a worker may still be starting
    except OSError:
        return None


def welcome_block(base: str, login: DemoLogin) -> str:
    """The block itself: addresses first, then the login, then how to stop."""
    lines = [
        RULE,
        "  ECPAT Sverige is running.",
        "",
        f"  Open the site          {base}{reverse('home')}",
        f"    chat (as a child)    {base}{reverse('supportline:index')}",
        f"    hotline (report)     {base}{reverse('hotline:index')}",
        f"    prevention (read)    {base}{reverse('prevention:index')}",
        "",
        f"  Staff admin            {base}{reverse('admin:index')}",
        f"    username             {login.username}",
        f"    password             {login.password}   (new on every start)",
        f"    second factor        add this secret to an authenticator app: {login.totp_secret}",
        f"                         or its otpauth URL: {login.otpauth_url}",
        f"  Counsellor console     {base}{reverse('admin:supportline_console')}",
        "                         (log in first; open the chat in another browser to talk to yourself)",
        "",
        "  Stop everything        Ctrl-C",
        RULE,
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Waits until the site answers, then prints where to open it, the demo login and how to stop."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8000, help="the web process's port")
        parser.add_argument("--timeout", type=float, default=120.0, help="longest wait for a healthy site")
        parser.add_argument("--exit", action="store_true", help="exit after printing instead of staying up")

    def handle(self, *args: Any, **options: Any) -> None:
        base = f"http://127.0.0.1:{options['port']}"
        deadline = time.monotonic() + options["timeout"]
        state = None
        # Healthy means the worker answers too; an unhealthy but answering site
        # still gets its block at the deadline, with a word on where to look.
        while (state := site_answers(f"{base}/healthz")) is not True and time.monotonic() < deadline:
            time.sleep(0.5)
        if state is None:
            raise CommandError(f"The site did not answer at {base} within {options['timeout']:g} s; see the log above.")
        try:
            login = demo_login_reset()
        except NotForProduction as exc:
            raise CommandError(str(exc)) from exc
        block = welcome_block(base, login)
        if state is False:
            block += f"\n  Not healthy yet: {base}/healthz says what is missing.\n{RULE}"
        self.stdout.write(block)
        self.stdout.flush()
        if options["exit"]:
            return
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return  # Ctrl-C: honcho stops the others
