"""`manage.py check --deploy` is clean under production settings."""

import pytest

from tests.processes import PRODUCTION_REQUIRED, clean_env, manage, production_env


def manage_with(*args, **env):
    return manage(*args, env=clean_env(**env))


def test_check_deploy_reports_nothing(tmp_path):
    result = manage_with("check", "--deploy", "--fail-level", "WARNING", DATA_DIR=str(tmp_path), **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_only_silenced_check_is_the_ip_lockout_one(settings):
    # axes wants to lock out by IP address; the site never sees one, by design.
    assert settings.SILENCED_SYSTEM_CHECKS == ["axes.W006"]


def test_production_refuses_to_start_without_secrets(tmp_path):
    for missing in PRODUCTION_REQUIRED:
        result = manage_with("check", DATA_DIR=str(tmp_path), **production_env(**{missing: None}))
        assert result.returncode != 0
        assert missing in result.stderr


# Item 16: the embedded defaults are for one laptop; production must say where its services are.
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DATABASE_URL": None}, "DJANGO_ENV=production needs DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:////tmp/site.sqlite3"}, "DATABASE_URL to point at PostgreSQL"),
        ({"REDIS_URL": None}, "DJANGO_ENV=production needs REDIS_URL (or REDIS_SENTINELS)"),
    ],
)
def test_production_refuses_to_start_on_the_embedded_defaults(tmp_path, change, message):
    result = manage_with("check", DATA_DIR=str(tmp_path), **production_env(**change))
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


def test_redis_sentinels_stand_in_for_redis_url(tmp_path):
    env = production_env(REDIS_URL=None, REDIS_SENTINELS="sentinel-1:26379")
    result = manage_with("check", DATA_DIR=str(tmp_path), **env)
    assert result.returncode == 0, result.stderr
