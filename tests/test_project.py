"""The project as a whole: migrations match the models, the health check, the Celery wiring."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from lamp.celery import app


@pytest.mark.django_db
def test_migrations_match_the_models():
    # Exits with status 1, naming the app, when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_celery_tasks_are_acknowledged_after_they_ran():
    # A worker lost mid-task leaves the task to be redelivered (every task is safe to run twice).
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_celery_speaks_json_only():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"


def test_celery_time_limit_ends_a_task_before_the_broker_hands_it_to_another_worker():
    visibility_timeout = app.conf.broker_transport_options["visibility_timeout"]

    assert app.conf.task_soft_time_limit < app.conf.task_time_limit < visibility_timeout
