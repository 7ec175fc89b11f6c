"""Settings from the environment: production refuses to start half-configured and passes ``check --deploy``.

Each case imports the settings in a fresh interpreter with an environment built here, since settings
are read once per process (and pytest-django forces ``DEBUG`` off inside the test process).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# Every variable lamp/settings.py reads: removed from the inherited environment, then set per case.
SETTINGS_VARIABLES = (
    "LAMP_ENV",
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "FIELD_ENCRYPTION_SALT",
    "IDENTITY_HASH_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "CONN_MAX_AGE",
    "REDIS_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "LAMP_STATE_DIR",
    "LOG_LEVEL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "LAMP_ENV_FILE",
    "CELERY_QUEUE",
)
# Settings import never connects: a server that does not exist proves no check needs one either.
UNREACHABLE_DATABASE = "postgres://lamp@127.0.0.1:1/lamp"


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A complete production environment; an override of ``""`` leaves that variable out."""
    values = {
        "LAMP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_SALT": secrets.token_urlsafe(24),
        "IDENTITY_HASH_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "lamp.example.org",
        "DATABASE_URL": UNREACHABLE_DATABASE,
        "STATIC_ROOT": str(tmp_path / "static"),
        "LAMP_STATE_DIR": str(tmp_path / "state"),
        **overrides,
    }
    return {name: value for name, value in values.items() if value}




def run_django(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in this venv's python from the project root, with ``env`` over the non-settings variables."""
    base = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    base["DJANGO_SETTINGS_MODULE"] = "lamp.settings"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def import_settings(env: dict[str, str], *, show: str = "DEBUG") -> subprocess.CompletedProcess[str]:
    return run_django(f"import django; django.setup(); from django.conf import settings; print(settings.{show})", env)


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_django(
        f"from django.core.management import execute_from_command_line; execute_from_command_line({list(args)!r})",
        env,
    )


@pytest.mark.parametrize(
    "variable", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "FIELD_ENCRYPTION_SALT", "IDENTITY_HASH_KEY"]
)
def test_production_refuses_to_start_without(variable, tmp_path):
    result = import_settings(production_env(tmp_path, **{variable: ""}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable} must be set when LAMP_ENV=production" in result.stderr


def test_production_starts_with_every_required_variable(tmp_path):
    result = import_settings(production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_passes_the_deployment_checks(tmp_path):
    result = manage("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("mode", ["development", "production"])
def test_debug_is_off_unless_asked_for(mode, tmp_path):
    env = production_env(tmp_path, LAMP_ENV=mode)

    assert import_settings(env).stdout.strip() == "False"
    assert import_settings({**env, "DEBUG": "true"}).stdout.strip() == "True"


@pytest.mark.parametrize("mode", ["development", "production"])
def test_a_database_other_than_postgresql_is_refused(mode, tmp_path):
    result = import_settings(
        production_env(tmp_path, LAMP_ENV=mode, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    )

    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


def test_an_unknown_mode_is_refused(tmp_path):
    result = import_settings(production_env(tmp_path, LAMP_ENV="staging"))

    assert result.returncode != 0
    assert "LAMP_ENV must be 'development' or 'production'" in result.stderr


def test_development_needs_no_configuration_beyond_a_database(tmp_path):
    """Secrets are generated once into the state folder and reused by the next process."""
    env = {"DATABASE_URL": UNREACHABLE_DATABASE, "LAMP_STATE_DIR": str(tmp_path / "state")}

    first = import_settings(env, show="SECRET_KEY")
    second = import_settings(env, show="SECRET_KEY")

    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    assert (tmp_path / "state" / "secrets" / "secret_key").stat().st_mode & 0o077 == 0
