"""The one place that reads the process environment (through django-environ)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env(
    DJANGO_ENV=(str, "local"),
    DEBUG=(bool, False),
)
# A developer may keep overrides in a .env file; production passes real env vars.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
