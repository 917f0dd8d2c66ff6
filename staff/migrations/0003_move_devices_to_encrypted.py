"""Moves every TOTP key and backup code out of django-otp's clear-text tables into the encrypted ones.

The old rows are deleted once copied: a dump taken after this migration
holds no second-factor secret in clear. Logged-in sessions verified by an
old device stop being verified, so staff pass their second factor again.
"""

from django.db import migrations

_DEVICE_FIELDS = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "created_at",
    "last_used_at",
)
_TOTP_FIELDS = ("key", "step", "t0", "digits", "tolerance", "drift", "last_t")


def encrypt_devices(apps, schema_editor):
    old_totp = apps.get_model("otp_totp", "TOTPDevice")
    new_totp = apps.get_model("staff", "StaffTOTPDevice")
    # A half-finished enrolment is not moved: its owner is shown a fresh secret.
    for device in old_totp.objects.filter(confirmed=True).order_by("pk"):
        moved = new_totp.objects.create(**{f: getattr(device, f) for f in _DEVICE_FIELDS + _TOTP_FIELDS})
        new_totp.objects.filter(pk=moved.pk).update(created_at=device.created_at)
    old_totp.objects.all().delete()

    old_static = apps.get_model("otp_static", "StaticDevice")
    new_static = apps.get_model("staff", "BackupCodeDevice")
    new_code = apps.get_model("staff", "BackupCode")
    for device in old_static.objects.order_by("pk"):
        moved = new_static.objects.create(**{f: getattr(device, f) for f in _DEVICE_FIELDS})
        new_static.objects.filter(pk=moved.pk).update(created_at=device.created_at)
        for token in device.token_set.all():
            new_code.objects.create(device=moved, token=token.token)
    old_static.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_encrypted_devices"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    # One way: putting keys back in clear is not something to automate.
    operations = [migrations.RunPython(encrypt_devices, migrations.RunPython.noop)]
