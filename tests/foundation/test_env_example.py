"""Item 17: `.env.example`, filled in, is all docker-compose needs for a production start.

Each ``change-me`` gets a freshly generated value of the right kind; then
every Django service of docker-compose.yml gets exactly what compose would
give it (the .env file plus its own ``environment``, interpolated from .env)
and must pass ``manage.py check --deploy`` under the production settings.
"""

import base64
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet
from nacl.encoding import Base64Encoder
from nacl.public import PrivateKey

from tests.processes import PRODUCTION_REQUIRED, ROOT, clean_env, manage

PLACEHOLDER = "change-me"
REQUIRED = PRODUCTION_REQUIRED
GENERATORS = {
    "FIELD_ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
    "POLICE_HANDOFF_PUBLIC_KEY": lambda: PrivateKey.generate().public_key.encode(Base64Encoder).decode(),
    "FEED_SIGNING_KEYS": lambda: "feed-1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    "EMAIL_URL": lambda: f"smtp+tls://hotline:{secrets.token_hex(16)}@smtp.example.org:587",
}
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def filled_env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        if value == PLACEHOLDER:
            value = GENERATORS.get(name, lambda: secrets.token_urlsafe(64))()
        values[name.strip()] = value
    return values


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def django_services() -> list[str]:
    return sorted(name for name, service in compose()["services"].items() if ".env" in service.get("env_file", ()))


def service_environment(name: str, dotenv: dict[str, str]) -> dict[str, str]:
    """What compose passes to the service: the env_file, then `environment`, interpolated from .env."""
    service = compose()["services"][name]
    env = dict(dotenv)
    for key, value in (service.get("environment") or {}).items():
        env[key] = _INTERPOLATION.sub(lambda m: dotenv.get(m.group(1)) or m.group(2) or "", str(value))
    return env


def test_every_placeholder_is_replaced_and_every_secret_is_a_placeholder():
    raw = (ROOT / ".env.example").read_text()
    assert PLACEHOLDER in raw
    filled = filled_env_example()
    assert PLACEHOLDER not in filled.values()
    for name in REQUIRED:
        if name in ("ALLOWED_HOSTS", "DATABASE_URL"):
            continue  # a real value, or set by compose
        assert f"\n{name}={PLACEHOLDER}\n" in raw, f"{name} must be in .env.example, to be filled in"


def test_compose_runs_migrate_web_worker_and_beat_from_the_env_file():
    assert django_services() == ["beat", "migrate", "web", "worker"]


@pytest.mark.parametrize("service", ["beat", "migrate", "web", "worker"])
def test_each_service_gets_every_variable_production_requires(service):
    env = service_environment(service, filled_env_example())
    assert env["DJANGO_ENV"] == "production"
    missing = [name for name in REQUIRED if not env.get(name)]
    assert not missing, f"{service} would start without {missing}"
    assert env.get("REDIS_URL") or env.get("REDIS_SENTINELS"), f"{service} has no Redis"
    assert env["DATABASE_URL"].startswith("postgres://") and "${" not in env["DATABASE_URL"]


@pytest.mark.parametrize("service", ["beat", "migrate", "web", "worker"])
def test_the_filled_env_example_passes_the_deploy_check_in_each_service(service, tmp_path: Path):
    env = service_environment(service, filled_env_example())
    env["STATIC_ROOT"] = str(tmp_path / "static")  # the image's /app/var/static
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=clean_env(DATA_DIR=str(tmp_path), **env))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
