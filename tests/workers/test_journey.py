"""The worker journey through its service: valid moves, refused moves with a clear error, overrides, seasons."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InternalError, transaction

from pilots.stages import PATH, Stage
from tests.factories import PilotFactory, RecruiterFactory, RecruiterUserFactory, StaffUserFactory, WorkerFactory
from workers.journey import JourneyError, check_move, next_stages
from workers.models import JourneyEvent, Worker
from workers.services import journey_move, worker_register, worker_start_new_season

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 1)
NO_TRAINING = [s.value for s in PATH if s not in (Stage.IN_TRAINING, Stage.TRAINED)]


def register(pilot=None, **kwargs) -> Worker:
    return worker_register(
        recruiter=RecruiterFactory(),
        pilot=pilot or PilotFactory(),
        registered_on=DAY,
        recorded_by=None,
        given_names="María José",
        family_names="Pérez Chávez",
        date_of_birth=datetime.date(1996, 2, 29),
        gender="female",
        nationality="GT",
        identity_document_number="P 1234-5678",
        consent_given_at=datetime.datetime(2026, 2, 27, 10, tzinfo=datetime.UTC),
        **kwargs,
    )


def walk(worker: Worker, *stages: str, start: datetime.date = DAY) -> None:
    for offset, stage in enumerate(stages, start=1):
        journey_move(worker=worker, stage=stage, occurred_on=start + datetime.timedelta(days=offset), recorded_by=None)


def test_register_records_the_first_event_and_hashes_the_document():
    worker = register()

    event = worker.journey_events.get()
    assert (event.stage, event.season, event.occurred_on) == (Stage.REGISTERED, 1, DAY)
    assert worker.current_stage == Stage.REGISTERED
    assert len(worker.identity_document_hash) == 64


def test_the_full_path_in_order_is_accepted():
    worker = register()

    walk(worker, *[s.value for s in PATH[1:]])

    worker.refresh_from_db()
    assert worker.current_stage == Stage.RETURNED
    assert list(worker.journey_events.values_list("stage", flat=True)) == [s.value for s in PATH]


def test_skipping_a_required_stage_is_refused_naming_both_stages():
    worker = register()
    walk(worker, Stage.SCREENED)

    with pytest.raises(JourneyError) as refused:
        journey_move(worker=worker, stage=Stage.VISA_PENDING, occurred_on=DAY, recorded_by=None)

    assert refused.value.current == "screened"
    assert refused.value.requested == "visa_pending"
    assert "'screened'" in refused.value.message and "'visa_pending'" in refused.value.message
    assert "'in_training', 'trained', 'matched'" in refused.value.message
    worker.refresh_from_db()
    assert worker.current_stage == Stage.SCREENED
    assert worker.journey_events.count() == 2


def test_a_pilot_without_training_lets_workers_pass_over_it():
    worker = register(pilot=PilotFactory(required_stages=NO_TRAINING))
    walk(worker, Stage.SCREENED, Stage.MATCHED)

    worker.refresh_from_db()
    assert worker.current_stage == Stage.MATCHED


def test_going_backwards_or_staying_is_refused():
    worker = register()
    walk(worker, Stage.SCREENED, Stage.IN_TRAINING)

    with pytest.raises(JourneyError, match="does not go backwards"):
        journey_move(worker=worker, stage=Stage.SCREENED, occurred_on=DAY, recorded_by=None)
    with pytest.raises(JourneyError, match="already there"):
        journey_move(worker=worker, stage=Stage.IN_TRAINING, occurred_on=DAY, recorded_by=None)


@pytest.mark.parametrize(
    ("current", "exit_stage", "allowed"),
    [
        (Stage.SCREENED, Stage.WITHDRAWN, True),
        (Stage.WORKING, Stage.WITHDRAWN, False),
        (Stage.VISA_PENDING, Stage.VISA_DENIED, True),
        (Stage.MATCHED, Stage.VISA_DENIED, False),
        (Stage.WORKING, Stage.SEPARATED_EARLY, True),
        (Stage.SCREENED, Stage.SEPARATED_EARLY, False),
        (Stage.TRAINED, Stage.NOT_SELECTED, True),
        (Stage.VISA_ISSUED, Stage.NOT_SELECTED, False),
    ],
)
def test_exits_are_taken_only_from_their_stages(current, exit_stage, allowed):
    required = [s.value for s in PATH]
    if allowed:
        check_move(current=current, requested=exit_stage, required=required)
    else:
        with pytest.raises(JourneyError, match="can only follow"):
            check_move(current=current, requested=exit_stage, required=required)


def test_an_exit_ends_the_season():
    with pytest.raises(JourneyError, match="season ended at 'withdrawn'"):
        check_move(current=Stage.WITHDRAWN, requested=Stage.SCREENED, required=[])
    assert next_stages(current=Stage.WITHDRAWN, required=[]) == []


def test_next_stages_lists_the_allowed_moves():
    required = [s.value for s in PATH]
    assert next_stages(current=Stage.VISA_PENDING, required=required) == ["visa_issued", "withdrawn", "visa_denied"]


def test_unknown_stage_is_refused():
    worker = register()
    with pytest.raises(JourneyError, match="'flying' is not a stage"):
        journey_move(worker=worker, stage="flying", occurred_on=DAY, recorded_by=None)


def test_dates_must_not_go_back_nor_into_the_future():
    worker = register()
    with pytest.raises(JourneyError, match="before the current stage"):
        journey_move(
            worker=worker, stage=Stage.SCREENED, occurred_on=DAY - datetime.timedelta(days=1), recorded_by=None
        )
    with pytest.raises(JourneyError, match="in the future"):
        journey_move(worker=worker, stage=Stage.SCREENED, occurred_on=datetime.date(2999, 1, 1), recorded_by=None)
    assert worker.journey_events.count() == 1


def test_staff_override_with_a_reason_is_recorded():
    staff = StaffUserFactory()
    worker = register()

    event = journey_move(
        worker=worker,
        stage=Stage.DEPLOYED,
        occurred_on=DAY,
        recorded_by=staff,
        override_reason="Screened and matched on paper before the platform existed",
    )

    assert event.is_override and event.recorded_by == staff
    worker.refresh_from_db()
    assert worker.current_stage == Stage.DEPLOYED


def test_override_is_refused_to_recruiters():
    worker = register()
    with pytest.raises(PermissionDenied):
        journey_move(
            worker=worker,
            stage=Stage.DEPLOYED,
            occurred_on=DAY,
            recorded_by=RecruiterUserFactory(),
            override_reason="x",
        )
    assert worker.journey_events.count() == 1


def test_a_returned_worker_starts_a_new_season_on_the_same_row():
    worker = register()
    walk(worker, *[s.value for s in PATH[1:]])
    second_pilot = PilotFactory()

    worker_start_new_season(worker=worker, occurred_on=datetime.date(2026, 11, 1), recorded_by=None, pilot=second_pilot)

    worker.refresh_from_db()
    assert (worker.season, worker.current_stage, worker.pilot) == (2, Stage.REGISTERED, second_pilot)
    assert Worker.objects.count() == 1
    assert worker.journey_events.filter(season=2).get().pilot == second_pilot
    walk(worker, Stage.SCREENED, start=datetime.date(2026, 11, 1))


def test_new_season_only_after_return():
    worker = register()
    with pytest.raises(JourneyError, match="must have 'returned'"):
        worker_start_new_season(worker=worker, occurred_on=DAY, recorded_by=None)


def test_journey_events_are_append_only_in_the_database():
    worker = register()
    event = worker.journey_events.get()

    with pytest.raises(InternalError), transaction.atomic():
        JourneyEvent.objects.filter(pk=event.pk).update(stage=Stage.WORKING)
    with pytest.raises(InternalError), transaction.atomic():
        event.delete()
    assert JourneyEvent.objects.get(pk=event.pk).stage == Stage.REGISTERED


def test_override_needs_a_reason_in_the_database():
    worker = WorkerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        JourneyEvent.objects.create(
            worker=worker, pilot=worker.pilot, stage=Stage.WORKING, occurred_on=DAY, is_override=True
        )
