"""The type of a staff member as services and consumers receive it.

Services take the acting person as ``StaffUser`` rather than ``Any``: the
site uses Django's own user model, and every staff member is one of them.
Anonymous visitors never reach a service as an actor.
"""

from django.contrib.auth.models import User

type StaffUser = User
