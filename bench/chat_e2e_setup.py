"""Prepares the site's database for one ``bench/chat_e2e.py`` run and prints counsellor cookies.

Run by the benchmark in a subprocess with the site's settings (never by hand):
migrates if needed, empties the support line (conversations and sessions left by an
earlier run would hold counsellors' caps and sit in the queue), opens the line
all week, and logs in ``--counsellors`` counsellors as if they had passed
password and TOTP. Prints ``{"cookies": [...]}`` on stdout.

It deletes every conversation and session, so it refuses a database whose name
contains neither ``bench`` nor ``test``.
"""

import argparse
import json
import os
from datetime import time
from typing import Any

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counsellors", type=int, required=True)
    parser.add_argument("--cap", type=int, required=True, help="parallel chats per counsellor")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecpat_site.settings")
    django.setup()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from staff.models import StaffTOTPDevice
    from staff.roles import Role, sync_role_permissions
    from supportline.models import Conversation, CounsellorProfile, OpeningHours

    name = str(settings.DATABASES["default"]["NAME"])
    if "bench" not in name and "test" not in name:
        raise SystemExit(f"refusing to empty the support line of database {name!r}: its name has no 'bench' or 'test'")

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
    if not Group.objects.filter(name=Role.COUNSELLOR.value).exists():
        sync_role_permissions()  # a flushed test database has tables but no role groups
    Conversation.objects.all().delete()
    Session.objects.all().delete()
    OpeningHours.objects.all().delete()
    OpeningHours.objects.bulk_create(OpeningHours(weekday=day, opens=time(0, 0), closes=time(0, 0)) for day in range(7))

    # Devices of an earlier benchmark hold secrets encrypted with that run's key, gone now.
    StaffTOTPDevice.objects.filter(user__username__startswith="bench-counsellor-").delete()
    counsellors = Group.objects.get(name=Role.COUNSELLOR.value)
    user_model: Any = get_user_model()
    cookies = []
    for index in range(args.counsellors):
        user, _ = user_model.objects.get_or_create(
            username=f"bench-counsellor-{index}", defaults={"first_name": f"Bench{index}", "is_staff": True}
        )
        user.groups.add(counsellors)
        CounsellorProfile.objects.update_or_create(
            user=user, defaults={"alias": f"Bench{index}", "max_chats": args.cap}
        )
        device = StaffTOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    print(json.dumps({"cookies": cookies}))


if __name__ == "__main__":
    main()
