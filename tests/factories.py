"""Typed factories and login helpers shared by every app's tests."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from factory.declarations import Sequence
from factory.django import DjangoModelFactory, Password
from factory.helpers import post_generation

from staff.models import StaffTOTPDevice
from staff.roles import Role

User = get_user_model()


class StaffUserFactory(DjangoModelFactory[Any]):
    """A staff member; pass ``role=Role.X`` to put them in that role's group."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = Sequence(lambda n: f"staff{n}")
    first_name = Sequence(lambda n: f"Alias{n}")
    is_staff = True
    password = Password("correct-horse-battery-staple")

    @post_generation
    def role(obj: Any, create: bool, extracted: Role | None, **kwargs: Any) -> None:
        if create and extracted is not None:
            obj.groups.add(Group.objects.get(name=extracted.value))


def confirmed_totp_device(user: Any) -> StaffTOTPDevice:
    device: StaffTOTPDevice = StaffTOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return device


def login_verified(client: Client, user: Any) -> StaffTOTPDevice:
    """Logs ``user`` in as if they had passed password and TOTP."""
    device = StaffTOTPDevice.objects.filter(user=user, confirmed=True).first() or confirmed_totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
