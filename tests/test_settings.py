"""Settings from the environment: production refuses to start half-configured or weakly configured, and passes
``check --deploy``; the image build's ``collectstatic`` still runs with no secrets at all.

Each case imports the settings in a fresh interpreter with an environment built here, since settings
are read once per process (and pytest-django forces ``DEBUG`` off inside the test process).
"""

from __future__ import annotations

import base64
import os
import random
import re
import secrets
import shlex
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management.utils import get_random_secret_key

from lamp.secrets_policy import IDENTITY_HASH_KEY_RULE, SALT_RULE, SECRET_KEY_RULE, secret_weakness

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
    "LAMP_BUILD",
    "FIELD_ENCRYPTION_SALT_FALLBACKS",
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
    assert import_settings(production_env(tmp_path, LAMP_ENV=mode)).stdout.strip() == "False"


def test_debug_may_be_turned_on_in_development_only(tmp_path):
    assert import_settings(production_env(tmp_path, LAMP_ENV="development", DEBUG="true")).stdout.strip() == "True"

    refused = import_settings(production_env(tmp_path, DEBUG="true"))

    assert refused.returncode != 0
    assert "DEBUG is on" in refused.stderr


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


# --- Production refuses weak settings -------------------------------------------------------------------------

STRONG = secrets.token_urlsafe(48)
# (variable, value, what the error says): each weak value of the review, and the shapes the rules refuse.
WEAK_SETTINGS = [
    ("SECRET_KEY", "x", "SECRET_KEY is 1 character long; at least 50 are needed"),
    ("SECRET_KEY", "x" * 64, "SECRET_KEY repeats a few characters over and over"),
    ("SECRET_KEY", "django-insecure-" + STRONG, "SECRET_KEY contains the placeholder 'django-insecure'"),
    ("SECRET_KEY", "ChangeMe-" + STRONG, "SECRET_KEY contains the placeholder 'changeme'"),
    ("SECRET_KEY", "0123456789" * 6, "SECRET_KEY is mostly repeated or consecutive characters"),
    ("SECRET_KEY", string.ascii_letters + string.ascii_letters, "SECRET_KEY is mostly repeated or consecutive"),
    ("FIELD_ENCRYPTION_SALT", "x", "FIELD_ENCRYPTION_SALT is 1 character long; at least 24 are needed"),
    ("FIELD_ENCRYPTION_SALT", secrets.token_urlsafe(12), "FIELD_ENCRYPTION_SALT is 16 characters long"),
    ("FIELD_ENCRYPTION_SALT", "abab" * 10, "FIELD_ENCRYPTION_SALT repeats a few characters over and over"),
    ("FIELD_ENCRYPTION_SALT", "collectstatic-only-" + STRONG, "FIELD_ENCRYPTION_SALT contains the placeholder"),
    ("IDENTITY_HASH_KEY", "x", "IDENTITY_HASH_KEY is 1 character long; at least 32 are needed"),
    ("IDENTITY_HASH_KEY", "collectstatic-only", "IDENTITY_HASH_KEY is 18 characters long"),
    # 32 digits: varied, but about 106 bits, where 128 are needed.
    ("IDENTITY_HASH_KEY", "83174029564062831795517936024890", "IDENTITY_HASH_KEY has about 106 bits of entropy"),
    ("IDENTITY_HASH_KEY", "example-hmac-key-" + STRONG, "IDENTITY_HASH_KEY contains the placeholder 'example'"),
    ("ALLOWED_HOSTS", "*", "ALLOWED_HOSTS contains '*'"),
    ("ALLOWED_HOSTS", "lamp.example.org,*", "ALLOWED_HOSTS contains '*'"),
    ("ALLOWED_HOSTS", " , ", "ALLOWED_HOSTS is empty"),
    ("DEBUG", "true", "DEBUG is on"),
]
WEAK_IDS = [f"{variable}-{index}" for index, (variable, _, _) in enumerate(WEAK_SETTINGS)]
CHECK_IDS = {
    "SECRET_KEY": "lamp.E001",
    "FIELD_ENCRYPTION_SALT": "lamp.E002",
    "IDENTITY_HASH_KEY": "lamp.E003",
    "ALLOWED_HOSTS": "lamp.E004",
    "DEBUG": "lamp.E005",
}


def _refused_variables(stderr: str) -> list[str]:
    """The variables listed in the start-up error, one ``- NAME …`` line each."""
    return re.findall(r"^- ([A-Z_]+) ", stderr, flags=re.MULTILINE)


@pytest.mark.parametrize(("variable", "value", "reason"), WEAK_SETTINGS, ids=WEAK_IDS)
def test_production_refuses_a_weak_setting_naming_it(variable, value, reason, tmp_path):
    result = import_settings(production_env(tmp_path, **{variable: value}))

    assert result.returncode != 0
    assert "ImproperlyConfigured: LAMP_ENV=production refuses these settings" in result.stderr
    assert reason in result.stderr
    assert _refused_variables(result.stderr) == [variable]  # the strong others pass


def test_production_lists_every_weak_setting_at_once(tmp_path):
    """The review's settings together: IDENTITY_HASH_KEY=x, FIELD_ENCRYPTION_SALT=x, ALLOWED_HOSTS=*, DEBUG=true."""
    env = production_env(tmp_path, IDENTITY_HASH_KEY="x", FIELD_ENCRYPTION_SALT="x", ALLOWED_HOSTS="*", DEBUG="true")

    result = import_settings(env)

    assert result.returncode != 0
    assert _refused_variables(result.stderr) == ["FIELD_ENCRYPTION_SALT", "IDENTITY_HASH_KEY", "ALLOWED_HOSTS", "DEBUG"]


@pytest.mark.parametrize("variable", ["FIELD_ENCRYPTION_SALT", "IDENTITY_HASH_KEY"])
def test_production_refuses_a_secret_that_repeats_secret_key(variable, tmp_path):
    env = production_env(tmp_path)

    result = import_settings({**env, variable: env["SECRET_KEY"]})

    assert result.returncode != 0
    assert f"{variable} is the same value as SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_urlsafe(48),  # the command the README and docker-compose.yml name
        lambda: secrets.token_hex(32),
        lambda: base64.b64encode(os.urandom(48)).decode(),
        # Django's own generator (50 characters, with symbols); a leading "$" would make django-environ read the
        # rest as the name of another variable, so "$" is left out.
        lambda: get_random_secret_key().replace("$", "%"),
    ],
    ids=["token_urlsafe", "token_hex", "base64", "django"],
)
def test_production_accepts_strong_generated_values(make, tmp_path):
    env = production_env(
        tmp_path,
        SECRET_KEY=make(),
        FIELD_ENCRYPTION_SALT=make(),
        IDENTITY_HASH_KEY=make(),
        ALLOWED_HOSTS="lamp.example.org,.lamp.example.net",
    )

    result = import_settings(env, show="ALLOWED_HOSTS")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['lamp.example.org', '.lamp.example.net']"


@pytest.mark.parametrize(
    ("rule", "encode"),
    [
        (SECRET_KEY_RULE, lambda raw: base64.urlsafe_b64encode(raw[:48]).decode().rstrip("=")),  # token_urlsafe(48)
        (SECRET_KEY_RULE, lambda raw: raw[:32].hex()),  # token_hex(32)
        (IDENTITY_HASH_KEY_RULE, lambda raw: base64.urlsafe_b64encode(raw[:24]).decode().rstrip("=")),  # 32 chars
        (IDENTITY_HASH_KEY_RULE, lambda raw: raw[:16].hex()),  # 128 bits in 32 hex digits
        (SALT_RULE, lambda raw: base64.b64encode(raw[:16]).decode()),  # openssl rand -base64 16: 24 characters
        (SALT_RULE, lambda raw: base64.urlsafe_b64encode(raw[:18]).decode()),  # token_urlsafe(18): 24 characters
    ],
)
def test_random_values_at_the_minimum_length_are_never_refused(rule, encode):
    """The rules refuse shapes, not bad luck: 5,000 random values at the shortest accepted length all pass."""
    generator = random.Random(f"{rule.variable}-{rule.min_length}")  # the same values on every run
    values = [encode(generator.randbytes(48)) for _ in range(5000)]

    assert len({len(value) for value in values}) == 1
    assert len(values[0]) >= rule.min_length
    refused = [(value, secret_weakness(value, min_length=rule.min_length)) for value in values]
    assert [pair for pair in refused if pair[1]] == []


@pytest.mark.parametrize(("variable", "value", "reason"), WEAK_SETTINGS, ids=WEAK_IDS)
def test_the_deploy_checks_report_each_weak_setting(variable, value, reason, tmp_path):
    """In development, where the settings load anyway, ``check --deploy`` reports what production refuses."""
    env = production_env(tmp_path, LAMP_ENV="development", **{variable: value})

    result = manage("manage.py", "check", "--deploy", env=env)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"({CHECK_IDS[variable]}) {reason}" in output
    assert sorted(set(re.findall(r"\((lamp\.E\d+)\)", output))) == [CHECK_IDS[variable]]


def test_the_deploy_checks_pass_the_secrets_development_generates(tmp_path):
    env = {"DATABASE_URL": UNREACHABLE_DATABASE, "LAMP_STATE_DIR": str(tmp_path / "state")}

    result = manage("manage.py", "check", "--deploy", env=env)

    assert "System check identified" in result.stdout + result.stderr  # the checks ran (Django's warn of HTTPS)
    assert "lamp.E0" not in result.stdout + result.stderr
    assert (tmp_path / "state" / "secrets" / "secret_key").exists()


def test_a_former_salt_stays_readable_without_being_checked(tmp_path):
    """FIELD_ENCRYPTION_SALT_FALLBACKS: the current salt encrypts, a former weak one still decrypts."""
    env = production_env(tmp_path, FIELD_ENCRYPTION_SALT_FALLBACKS="x")

    result = import_settings(env, show="SALT_KEY[1:]")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['x']"


# --- The image build ------------------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [tuple(line.strip().split(None, 1)) for line in joined.splitlines() if line.strip()]


def _dockerfile_build_command(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The collectstatic RUN line of the Dockerfile, and the environment the build gives it."""
    instructions = _dockerfile_instructions()
    image_env = {}
    for instruction, arguments in instructions:
        if instruction == "ENV":
            image_env.update(token.split("=", 1) for token in shlex.split(arguments))
    (run,) = [
        arguments for instruction, arguments in instructions if instruction == "RUN" and "collectstatic" in arguments
    ]
    tokens = shlex.split(run)
    assert not {"&&", "||", ";", "|"} & set(tokens), "the build's collectstatic is one command"
    assignments = {}
    while re.fullmatch(r"[A-Z_]+=.*", tokens[0]):
        name, value = tokens.pop(0).split("=", 1)
        assignments[name] = value
    assert tokens[:2] == ["python", "manage.py"]
    # The image's paths, moved under the test's temporary folder.
    image_env.update(
        STATIC_ROOT=str(tmp_path / "static"), MEDIA_ROOT=str(tmp_path / "media"), LAMP_STATE_DIR=str(tmp_path / "s")
    )
    return [sys.executable, *tokens[1:]], {**image_env, **assignments}


def _run_build(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    base.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py sets it, as in the image
    return subprocess.run(command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=300)


def test_the_image_build_collects_static_files_with_no_secrets_and_no_database(tmp_path):
    command, env = _dockerfile_build_command(tmp_path)
    assert env["LAMP_ENV"] == "production"
    assert not {"SECRET_KEY", "FIELD_ENCRYPTION_SALT", "IDENTITY_HASH_KEY", "DATABASE_URL"} & set(env)

    result = _run_build(command, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()  # the production (manifest) storage wrote it
    assert not (tmp_path / "s").exists()  # the throwaway secrets are never written


def test_the_build_command_without_its_flag_refuses_to_start(tmp_path):
    command, env = _dockerfile_build_command(tmp_path)
    env.pop("LAMP_BUILD")

    result = _run_build(command, env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when LAMP_ENV=production" in result.stderr
    assert not (tmp_path / "static").exists()


def test_the_build_flag_is_not_left_in_the_image():
    image_env = " ".join(arguments for instruction, arguments in _dockerfile_instructions() if instruction == "ENV")

    assert "LAMP_BUILD" not in image_env


@pytest.mark.parametrize(
    ("mode", "args"),
    [
        ("production", ["manage.py", "check", "--deploy"]),
        ("production", ["manage.py", "runserver", "--noreload"]),
        ("production", ["manage.py", "migrate"]),
        ("development", ["manage.py", "collectstatic", "--noinput"]),
    ],
)
def test_the_build_flag_allows_nothing_but_the_builds_collectstatic(mode, args, tmp_path):
    env = production_env(tmp_path, LAMP_ENV=mode, LAMP_BUILD="1")

    result = _run_build([sys.executable, *args], env)

    assert result.returncode != 0
    assert "LAMP_BUILD=1 is for the image build's `manage.py collectstatic` with LAMP_ENV=production only" in (
        result.stderr
    )


def test_the_build_flag_cannot_serve_requests(tmp_path):
    """Imported any other way than by ``manage.py collectstatic`` (a WSGI server, a worker), it refuses to load."""
    result = import_settings(production_env(tmp_path, LAMP_BUILD="1"))

    assert result.returncode != 0
    assert "LAMP_BUILD=1 is for the image build's" in result.stderr


# --- Docker Compose -------------------------------------------------------------------------------------------

GENERATE = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'


@pytest.mark.parametrize("rule", [SECRET_KEY_RULE, SALT_RULE, IDENTITY_HASH_KEY_RULE], ids=lambda rule: rule.variable)
def test_compose_requires_each_secret_and_says_how_to_make_it(rule):
    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]

    required = re.fullmatch(r"\$\{(\w+):\?(.*)\}", environment[rule.variable])

    assert required, "Compose stops with the message when the variable is missing"
    assert required[1] == rule.variable
    assert f"{rule.min_length} or more random characters" in required[2]
    assert GENERATE in required[2]


def test_compose_runs_production_without_debug():
    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]

    assert environment["LAMP_ENV"] == "production"
    assert "DEBUG" not in environment
    assert environment["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")


def test_the_documented_generator_makes_values_every_rule_accepts():
    readme = (ROOT / "README.md").read_text()
    assert GENERATE in readme.split("## Docker Compose", 1)[1].split("\n## ", 1)[0]
    code = shlex.split(GENERATE)[2]

    values = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() for _ in "ab"]

    for rule in (SECRET_KEY_RULE, SALT_RULE, IDENTITY_HASH_KEY_RULE):
        assert [secret_weakness(value, min_length=rule.min_length) for value in values] == [None, None]
