from __future__ import annotations

import os

import pytest

from tests import factories


def pytest_configure(config: pytest.Config) -> None:
    """The translations as Django reads them (``.mo``), built from ``locale/`` as dev.py builds them."""
    from lamp.i18n import compile_catalogues

    compile_catalogues()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``redis`` need a real Redis: without REDIS_URL they are skipped, saying why."""
    if os.environ.get("REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run it")
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):  # noqa: ANN001, ANN201 - pytest-django's settings
    """Factories give users a password; hashing it the production way would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_user() -> factories.pil.User:
    return factories.StaffUserFactory()


@pytest.fixture
def superuser() -> factories.pil.User:
    return factories.SuperUserFactory()


@pytest.fixture
def admin_client(client, superuser):  # noqa: ANN001 - pytest-django's client
    """A Django test client logged in as a superuser (overrides pytest-django's own)."""
    client.force_login(superuser)
    return client


@pytest.fixture
def eager_tasks():  # noqa: ANN201
    """Run Celery tasks in-process when sent, for tests about what a task does rather than its delivery."""
    from lamp.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
