"""The Django admin: every model's pages, masked personal data, journey moves through the service, history,
what may never be changed or deleted, and changelists whose query count does not grow with their rows."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pghistory import config as pghistory_config
from pghistory.models import Context, Event

from financing.models import RbfContract, ScheduleState, TrancheStatus
from lamp.models import IdempotencyRecord
from lamp.tokens import api_token_create
from pilots.models import Organisation, OrganisationKind, Pilot, Role, Sector, User
from pilots.stages import Stage
from tests import factories
from workers.consent import consent_record
from workers.erasure import worker_erase
from workers.models import (
    CheckInAnswer,
    DuplicateFlag,
    DuplicateReason,
    JourneyEvent,
    OutboxMessage,
    RetentionReport,
    Worker,
    identity_document_hash,
)
from workers.retention import retention_report
from workers.services import check_in_create, personal_data_reveal

pytestmark = pytest.mark.django_db

APPS = ("lamp", "pilots", "recruitment", "workers", "financing")

# One factory per registered model: the object whose pages are opened.
FACTORIES: dict[str, Callable[[], Model]] = {
    "pilots.Organisation": factories.OrganisationFactory,
    "pilots.User": factories.UserFactory,
    "pilots.Sector": factories.SectorFactory,
    "pilots.Pilot": factories.PilotFactory,
    "pilots.PilotPartner": factories.PilotPartnerFactory,
    "pilots.JobOpening": factories.JobOpeningFactory,
    "lamp.ApiToken": lambda: api_token_create(user=factories.RecruiterUserFactory(), name="CRM sync")[0],
    "lamp.IdempotencyRecord": lambda: IdempotencyRecord.objects.create(
        user=factories.RecruiterUserFactory(),
        key="retry-1",
        method="POST",
        path="/api/v1/claims/",
        request_fingerprint="0" * 64,
        status_code=201,
        response_body="{}",
    ),
    "recruitment.Recruiter": factories.RecruiterFactory,
    "recruitment.RecruiterAssignment": factories.RecruiterAssignmentFactory,
    "workers.FeeReport": factories.FeeReportFactory,
    "workers.FeeDeclaration": factories.FeeDeclarationFactory,
    "workers.CheckIn": lambda: check_in_create(
        worker=factories.WorkerFactory(), moment="pre_departure", created_by=None
    )[0],
    "workers.OutboxMessage": lambda: OutboxMessage.objects.create(
        check_in=check_in_create(worker=factories.WorkerFactory(), moment="day_90", created_by=None)[0],
        channel="sms",
        link="http://testserver/c/secret/",
    ),
    "workers.CheckInAnswer": lambda: CheckInAnswer.objects.create(
        check_in=check_in_create(worker=factories.WorkerFactory(), moment="day_30", created_by=None)[0],
        question="still_working",
        value="yes",
    ),
    "workers.Worker": factories.WorkerFactory,
    "workers.Evidence": factories.EvidenceFactory,
    "workers.JourneyEvent": factories.JourneyEventFactory,
    "workers.Employment": factories.EmploymentFactory,
    "workers.TrainingEnrollment": factories.TrainingEnrollmentFactory,
    "workers.DuplicateFlag": lambda: DuplicateFlag.objects.create(
        worker=factories.WorkerFactory(), matches=factories.WorkerFactory(), reason="name_and_birth"
    ),
    "workers.PersonalDataAccess": lambda: personal_data_reveal(
        worker=factories.WorkerFactory(),
        user=factories.StaffUserFactory(),
        fields=["phone"],
        reason="Calling about the visa appointment.",
        channel="dashboard",
    ),
    "workers.Consent": lambda: consent_record(
        worker=factories.WorkerFactory(), channel="paper", recorded_by=factories.StaffUserFactory()
    ),
    "workers.WorkerErasure": lambda: worker_erase(
        worker=factories.WorkerFactory(), user=factories.StaffUserFactory(), reason="The worker asked by letter."
    ),
    "workers.RetentionReport": lambda: (retention_report(), RetentionReport.objects.latest("made_at"))[1],
    "financing.RbfContract": factories.RbfContractFactory,
    "financing.OutcomeMetric": factories.OutcomeMetricFactory,
    "financing.OutcomeClaim": factories.OutcomeClaimFactory,
    "financing.Verification": factories.VerificationFactory,
    "financing.Tranche": factories.TrancheFactory,
    "financing.PaymentLine": factories.PaymentLineFactory,
    "financing.Disbursement": factories.DisbursementFactory,
    "financing.ProviderRefund": factories.ProviderRefundFactory,
    "financing.ScheduleState": lambda: ScheduleState.objects.create(
        contract=factories.RbfContractFactory(), fingerprint="0" * 64, computed_at=timezone.now()
    ),
}
# Written by services only (the schedule's recompute, the claim and tranche actions): no add page.
NO_ADD_PAGE = {
    "financing.PaymentLine",
    "financing.ScheduleState",
    "financing.Verification",
    "financing.Disbursement",
    "financing.ProviderRefund",  # raised by tranche_approve, settled by refund_settle
    "workers.DuplicateFlag",  # flagged by registration (workers.services.worker_register_unique)
    "lamp.IdempotencyRecord",  # stored by the API (lamp.idempotency)
    "workers.FeeDeclaration",  # declared by the recruiter through the API (workers.services.fee_declaration_record)
    "workers.CheckInAnswer",  # given by the worker through their link
    "workers.OutboxMessage",  # put in the outbox by the check-in services
    "workers.PersonalDataAccess",  # written by a reveal (workers.services.personal_data_reveal), never by hand
    "workers.Consent",  # recorded on the worker's page or through the API (workers.consent)
    "workers.WorkerErasure",  # written by an erasure (workers.erasure.worker_erase)
    "workers.RetentionReport",  # made by the retention job and manage.py retention_report
}
# Every change to these is kept in history by database triggers (lamp.history.tracked).
TRACKED = (
    "financing.RbfContract",
    "financing.OutcomeMetric",
    "financing.OutcomeClaim",
    "financing.Verification",
    "financing.Tranche",
    "financing.PaymentLine",
    "financing.Disbursement",
    "financing.ProviderRefund",
    "workers.Employment",
    "workers.FeeReport",
    "workers.FeeDeclaration",
)
NEVER_DELETED = (
    "financing.PaymentLine",
    "financing.Disbursement",
    "financing.ProviderRefund",
    "financing.OutcomeClaim",
    "financing.Verification",
    "financing.Tranche",
    "workers.JourneyEvent",
)


def url(label: str, view: str, *args: Any) -> str:
    model = apps.get_model(label)
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def events_url() -> str:
    """pghistory's events list (``PGHISTORY_ADMIN_MODEL`` says which model it shows)."""
    return url(pghistory_config.admin_queryset().model._meta.label, "changelist")


def form_data(response: Any) -> dict[str, Any]:
    """The POST body of an admin form as the page rendered it: each field's value, each inline's management form."""
    page_forms = [response.context["adminform"].form]
    data: dict[str, Any] = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()})
        page_forms.extend(formset.forms)
    for form in page_forms:
        for name, field in form.fields.items():
            data.update(_field_data(form.add_prefix(name), form[name].value(), field.widget))
    return data


def _field_data(key: str, value: Any, widget: forms.Widget) -> dict[str, Any]:
    widget = getattr(widget, "widget", widget)  # the admin's related-field wrapper
    if isinstance(widget, forms.MultiWidget):
        parts = widget.decompress(value)
        return {
            f"{key}{suffix}": sub.format_value(part) or ""
            for suffix, sub, part in zip(widget.widgets_names, widget.widgets, parts, strict=True)
        }
    if isinstance(widget, forms.CheckboxInput):
        return {key: "on"} if value else {}
    if value is None:
        return {key: ""}
    if isinstance(value, list | tuple):
        return {key: [str(item) for item in value]}
    return {key: str(value)}


def form_errors(response: Any) -> Any:
    """What the admin refused, for assertion messages."""
    if response.context is None or "adminform" not in response.context:
        return response.status_code
    return response.context["adminform"].form.errors, [
        inline.formset.errors for inline in response.context["inline_admin_formsets"]
    ]


# --- every model: registered, and its pages open ---------------------------------------------------------------


def test_every_model_of_the_apps_is_registered_and_has_a_factory_here() -> None:
    models = {
        model._meta.label
        for label in APPS
        for model in apps.get_app_config(label).get_models()
        if not issubclass(model, Event)  # history rows: shown by pghistory's own "Events" admin
    }
    registered = {model._meta.label for model in admin.site._registry if model._meta.app_label in APPS}
    assert registered == models
    assert set(FACTORIES) == models


@pytest.mark.parametrize("label", FACTORIES)
def test_changelist_opens(admin_client, label: str) -> None:
    FACTORIES[label]()
    response = admin_client.get(url(label, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("label", FACTORIES)
def test_add_page_opens(admin_client, label: str) -> None:
    response = admin_client.get(url(label, "add"))
    assert response.status_code == (403 if label in NO_ADD_PAGE else 200)


@pytest.mark.parametrize("label", FACTORIES)
def test_change_page_opens(admin_client, label: str) -> None:
    obj = FACTORIES[label]()
    response = admin_client.get(url(label, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize("label", FACTORIES)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, label: str) -> None:
    changelist = url(label, "changelist")
    for _ in range(2):
        FACTORIES[label]()
    admin_client.get(changelist)  # warm the caches (content types, sessions) once
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(changelist).status_code == 200
    for _ in range(5):
        FACTORIES[label]()
    with CaptureQueriesContext(connection) as more:
        assert admin_client.get(changelist).status_code == 200
    assert len(more) == len(few), [query["sql"] for query in more.captured_queries]


def test_worker_changelist_query_count_is_the_same_for_3_and_30_workers(admin_client) -> None:
    changelist = url("workers.Worker", "changelist")
    factories.WorkerFactory.create_batch(3)
    admin_client.get(changelist)
    with CaptureQueriesContext(connection) as three:
        admin_client.get(changelist)
    factories.WorkerFactory.create_batch(27)
    with CaptureQueriesContext(connection) as thirty:
        response = admin_client.get(changelist)
    assert response.context["cl"].result_count == 30
    assert len(thirty) == len(three)


# --- money is shown with its currency ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "make", "shown"),
    [
        ("pilots.JobOpening", lambda: factories.JobOpeningFactory(wage_amount=Decimal("16.5")), "USD 16.50"),
        ("workers.FeeReport", lambda: factories.FeeReportFactory(amount=Decimal("1500")), "GTQ 1,500.00"),
        (
            "financing.RbfContract",
            lambda: factories.RbfContractFactory(currency="EUR", cap_total=Decimal("250000")),
            "EUR 250,000.00",
        ),
        (
            "financing.OutcomeMetric",
            lambda: factories.OutcomeMetricFactory(contract__currency="JPY", price=Decimal("75000")),
            "JPY 75,000",
        ),
        (
            "financing.PaymentLine",
            lambda: factories.PaymentLineFactory(tranche__contract__currency="KWD", amount=Decimal("1234.5")),
            "KWD 1,234.500",
        ),
        ("financing.Disbursement", lambda: factories.DisbursementFactory(amount=Decimal("1500")), "USD 1,500.00"),
    ],
)
def test_changelist_shows_money_with_its_currency(admin_client, label: str, make: Callable[[], Model], shown: str):
    make()
    assert shown in admin_client.get(url(label, "changelist")).content.decode()


def test_tranche_shows_the_total_of_its_lines_in_the_contract_currency(admin_client) -> None:
    line = factories.PaymentLineFactory(amount=Decimal("500"))
    factories.PaymentLineFactory(tranche=line.tranche, amount=Decimal("750.25"))
    assert "USD 1,250.25" in admin_client.get(url("financing.Tranche", "changelist")).content.decode()
    page = admin_client.get(url("financing.Tranche", "change", line.tranche.pk)).content.decode()
    assert "USD 1,250.25" in page
    assert "USD 750.25" in page  # the payment line inline


# --- personal data --------------------------------------------------------------------------------------------


@pytest.fixture
def worker() -> Worker:
    return factories.WorkerFactory(
        identity_document_number="P87654321",
        identity_document_hash=identity_document_hash(country="GT", number="P87654321"),
        phone="+502 5555 0123",
        date_of_birth=datetime.date(1994, 3, 17),
    )


def test_worker_changelist_shows_personal_data_masked_only(admin_client, worker: Worker) -> None:
    html = admin_client.get(url("workers.Worker", "changelist")).content.decode()
    assert "P87654321" not in html
    assert "5555 0123" not in html
    assert "+502" not in html
    assert "March 17, 1994" not in html
    assert "1994-03-17" not in html
    assert worker.identity_document_masked in html
    assert worker.phone_masked in html
    assert "1994-••-••" in html


def test_worker_change_page_does_not_show_the_document_number(admin_client, worker: Worker) -> None:
    html = admin_client.get(url("workers.Worker", "change", worker.pk)).content.decode()
    assert "P87654321" not in html
    assert worker.identity_document_masked in html
    assert "Identity document number (leave blank to keep)" in html


def test_new_document_number_replaces_the_old_and_its_hash(admin_client, worker: Worker) -> None:
    change = url("workers.Worker", "change", worker.pk)
    data = form_data(admin_client.get(change))
    data.update(new_identity_document_number="X 998-877", identity_document_country="MX", _save="Save")
    response = admin_client.post(change, data)
    assert response.status_code == 302, form_errors(response)
    worker.refresh_from_db()
    assert worker.identity_document_number == "X 998-877"
    assert str(worker.identity_document_country) == "MX"
    assert worker.identity_document_hash == identity_document_hash(country="MX", number="X998877")


def test_an_edit_making_a_worker_their_own_recruiters_duplicate_is_refused(admin_client, worker: Worker) -> None:
    other = factories.WorkerFactory(
        recruiter=worker.recruiter, pilot=worker.pilot, identity_document_number="G55667788"
    )
    change = url("workers.Worker", "change", other.pk)
    data = form_data(admin_client.get(change))
    data.update(new_identity_document_number="P87654321", identity_document_country="GT", _save="Save")
    response = admin_client.post(change, data)
    assert response.status_code == 200
    assert f"the same person as worker {worker.pk}" in response.content.decode()
    other.refresh_from_db()
    assert other.identity_document_number == "G55667788"  # nothing saved


def test_an_edit_matching_another_recruiters_worker_is_saved_and_flagged(admin_client, worker: Worker) -> None:
    other = factories.WorkerFactory(identity_document_number="G55667799")  # another recruiter's
    change = url("workers.Worker", "change", other.pk)
    data = form_data(admin_client.get(change))
    data.update(new_identity_document_number="P87654321", identity_document_country="GT", _save="Save")
    response = admin_client.post(change, data)
    assert response.status_code == 302, form_errors(response)
    other.refresh_from_db()
    assert other.identity_document_number == "P87654321"
    flag = DuplicateFlag.objects.get(worker=other)
    assert (flag.matches, flag.reason) == (worker, DuplicateReason.IDENTITY_DOCUMENT)


def test_blank_document_number_keeps_it(admin_client, worker: Worker) -> None:
    change = url("workers.Worker", "change", worker.pk)
    data = form_data(admin_client.get(change))
    data.update(new_email="ana@example.org", _save="Save")
    response = admin_client.post(change, data)
    assert response.status_code == 302, form_errors(response)
    worker.refresh_from_db()
    assert worker.email == "ana@example.org"
    assert worker.identity_document_number == "P87654321"
    assert worker.identity_document_hash == identity_document_hash(country="GT", number="P87654321")


def test_new_issuing_country_rehashes_the_kept_number(admin_client, worker: Worker) -> None:
    change = url("workers.Worker", "change", worker.pk)
    data = form_data(admin_client.get(change))
    data.update(identity_document_country="HN", _save="Save")
    response = admin_client.post(change, data)
    assert response.status_code == 302, form_errors(response)
    worker.refresh_from_db()
    assert worker.identity_document_number == "P87654321"
    assert worker.identity_document_hash == identity_document_hash(country="HN", number="P87654321")


def test_new_document_number_without_a_country_is_taken_as_issued_by_the_nationality(admin_client, worker: Worker):
    change = url("workers.Worker", "change", worker.pk)
    data = form_data(admin_client.get(change))
    data.update(new_identity_document_number="N123456", identity_document_country="", nationality="HN", _save="Save")
    response = admin_client.post(change, data)
    assert response.status_code == 302, form_errors(response)
    worker.refresh_from_db()
    assert str(worker.identity_document_country) == "HN"
    assert worker.identity_document_hash == identity_document_hash(country="HN", number="N123456")


@pytest.mark.parametrize("term", ["P87654321", "p-8765 4321", "GT:P87654321", "gt: P87654321"])
def test_workers_are_found_by_exact_document_number(admin_client, worker: Worker, term: str) -> None:
    other = factories.WorkerFactory(identity_document_country="MX")
    response = admin_client.get(url("workers.Worker", "changelist"), {"q": term})
    found = list(response.context["cl"].result_list)
    assert found == [worker]
    assert other not in found


def test_document_number_with_the_wrong_country_finds_no_one(admin_client, worker: Worker) -> None:
    response = admin_client.get(url("workers.Worker", "changelist"), {"q": "MX:P87654321"})
    assert list(response.context["cl"].result_list) == []


def test_search_by_name_still_works(admin_client, worker: Worker) -> None:
    response = admin_client.get(url("workers.Worker", "changelist"), {"q": worker.given_names})
    assert list(response.context["cl"].result_list) == [worker]


def test_adding_a_worker_registers_them_through_the_journey_service(admin_client, superuser: User) -> None:
    recruiter, pilot = factories.RecruiterFactory(), factories.PilotFactory()
    data = form_data(admin_client.get(url("workers.Worker", "add")))
    data.update(
        given_names="María José",
        family_names="Pérez",
        date_of_birth="1990-02-03",
        gender="female",
        nationality="GT",
        phone="+502 4444 1234",
        identity_document_type="passport",
        new_identity_document_number="A1234567",
        pilot=pilot.pk,
        recruiter=recruiter.pk,
        registered_on="2025-02-01",
        consent_given_at_0="2025-02-01",
        consent_given_at_1="10:00:00",
        _continue="Save and continue editing",
    )
    response = admin_client.post(url("workers.Worker", "add"), data)
    assert response.status_code == 302, form_errors(response)
    worker = Worker.objects.get(family_names="Pérez")
    assert worker.identity_document_number == "A1234567"
    assert worker.identity_document_hash == identity_document_hash(country="GT", number="A1234567")
    assert worker.current_stage == Stage.REGISTERED
    event = worker.journey_events.get()
    assert (event.stage, event.occurred_on, event.recorded_by) == (
        Stage.REGISTERED,
        datetime.date(2025, 2, 1),
        superuser,
    )
    assert response["Location"] == url("workers.Worker", "change", worker.pk)


# --- the journey, only through the service -----------------------------------------------------------------------


def registered_worker() -> Worker:
    """A worker registered a month ago in a pilot that requires every stage of the path."""
    return factories.WorkerFactory(stage_changed_on=timezone.localdate() - datetime.timedelta(days=30))


def journey_move_data(worker: Worker, stage: str, **extra: Any) -> dict[str, Any]:
    return {"worker": worker.pk, "stage": stage, "occurred_on": timezone.localdate().isoformat(), **extra}


def test_refused_journey_move_shows_the_reason_and_writes_nothing(admin_client) -> None:
    worker = registered_worker()
    response = admin_client.post(url("workers.JourneyEvent", "add"), journey_move_data(worker, Stage.DEPLOYED))
    assert response.status_code == 200
    [error] = response.context["adminform"].form.non_field_errors()
    assert error.startswith("Cannot move from 'registered' to 'deployed': the pilot requires 'screened'")
    assert escape(error) in response.content.decode()
    assert not JourneyEvent.objects.exists()
    worker.refresh_from_db()
    assert worker.current_stage == Stage.REGISTERED


def test_journey_move_dated_before_the_current_stage_is_a_form_error(admin_client) -> None:
    worker = registered_worker()
    day_before = worker.stage_changed_on - datetime.timedelta(days=1)
    data = journey_move_data(worker, Stage.SCREENED, occurred_on=day_before.isoformat())
    response = admin_client.post(url("workers.JourneyEvent", "add"), data)
    assert response.status_code == 200
    assert "occurred_on" in response.context["adminform"].form.errors
    assert not JourneyEvent.objects.exists()


def test_allowed_journey_move_goes_through_the_service(admin_client, superuser: User) -> None:
    worker = registered_worker()
    response = admin_client.post(url("workers.JourneyEvent", "add"), journey_move_data(worker, Stage.SCREENED))
    assert response.status_code == 302, form_errors(response)
    event = JourneyEvent.objects.get()
    assert (event.worker, event.stage, event.recorded_by, event.is_override) == (
        worker,
        Stage.SCREENED,
        superuser,
        False,
    )
    assert event.pilot == worker.pilot
    worker.refresh_from_db()
    assert worker.current_stage == Stage.SCREENED
    assert worker.stage_changed_on == timezone.localdate()


def test_staff_override_records_a_refused_move_with_its_reason(admin_client) -> None:
    worker = registered_worker()
    data = journey_move_data(worker, Stage.DEPLOYED, override_reason="Trained and visa issued before the pilot began")
    response = admin_client.post(url("workers.JourneyEvent", "add"), data)
    assert response.status_code == 302, form_errors(response)
    event = JourneyEvent.objects.get()
    assert event.is_override
    assert event.override_reason == "Trained and visa issued before the pilot began"
    worker.refresh_from_db()
    assert worker.current_stage == Stage.DEPLOYED


def test_only_program_staff_may_override_the_journey(client) -> None:
    # A recruiter's user given admin access to journey events is still not program staff.
    recruiter_user = factories.RecruiterUserFactory(is_staff=True)
    recruiter_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_journeyevent", "view_journeyevent"])
    )
    client.force_login(recruiter_user)
    worker = registered_worker()
    data = journey_move_data(worker, Stage.DEPLOYED, override_reason="Because")
    response = client.post(url("workers.JourneyEvent", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["override_reason"] == [
        "Only program staff may override the journey."
    ]
    assert not JourneyEvent.objects.exists()


def test_evidence_about_another_worker_is_refused(admin_client) -> None:
    worker, evidence = registered_worker(), factories.EvidenceFactory()
    data = journey_move_data(worker, Stage.SCREENED, evidence=evidence.pk)
    response = admin_client.post(url("workers.JourneyEvent", "add"), data)
    assert response.context["adminform"].form.errors["evidence"] == ["This evidence is about another worker."]
    assert not JourneyEvent.objects.exists()


def test_journey_event_cannot_be_changed(admin_client) -> None:
    event = factories.JourneyEventFactory()
    change = url("workers.JourneyEvent", "change", event.pk)
    page = admin_client.get(change)
    assert page.context["has_change_permission"] is False
    assert admin_client.post(change, {"note": "edited"}).status_code == 403


def test_worker_page_lists_the_journey_read_only_with_a_link_to_record_a_move(admin_client) -> None:
    event = factories.JourneyEventFactory(note="Registered at the job fair")
    response = admin_client.get(url("workers.Worker", "change", event.worker.pk))
    journey = next(i for i in response.context["inline_admin_formsets"] if i.opts.model is JourneyEvent)
    assert not journey.has_add_permission and not journey.has_change_permission and not journey.has_delete_permission
    html = response.content.decode()
    assert "Registered at the job fair" in html
    assert f"{url('workers.JourneyEvent', 'add')}?worker={event.worker.pk}" in html


# --- what may never be changed or deleted ------------------------------------------------------------------------


@pytest.mark.parametrize("label", NEVER_DELETED)
def test_never_deleted_in_the_admin(admin_client, label: str) -> None:
    obj = FACTORIES[label]()
    assert admin_client.get(url(label, "delete", obj.pk)).status_code == 403
    response = admin_client.post(url(label, "changelist"), {"action": "delete_selected", "_selected_action": [obj.pk]})
    assert response.status_code in {200, 302}
    assert apps.get_model(label).objects.filter(pk=obj.pk).exists()


def test_payment_lines_are_read_only(admin_client) -> None:
    line = factories.PaymentLineFactory()
    response = admin_client.post(url("financing.PaymentLine", "change", line.pk), {"amount": "1.00"})
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.amount == Decimal("500.00")


def test_verification_is_read_only_once_made(admin_client) -> None:
    verification = factories.VerificationFactory(reason="Attestation on file")
    change = url("financing.Verification", "change", verification.pk)
    assert admin_client.get(change).context["has_change_permission"] is False
    assert admin_client.post(change, {"reason": "edited"}).status_code == 403


@pytest.mark.parametrize("status", [TrancheStatus.APPROVED, TrancheStatus.PAID])
def test_frozen_tranche_is_read_only(admin_client, status: str) -> None:
    tranche = factories.TrancheFactory(
        status=status, approved_by=factories.StaffUserFactory(), approved_at=timezone.now()
    )
    change = url("financing.Tranche", "change", tranche.pk)
    assert admin_client.get(change).context["has_change_permission"] is False
    assert admin_client.post(change, {"code": "edited"}).status_code == 403


def test_open_tranche_can_be_edited(admin_client) -> None:
    tranche = factories.TrancheFactory()
    change = url("financing.Tranche", "change", tranche.pk)
    data = form_data(admin_client.get(change))
    data.update(due_date="2026-05-15", _save="Save")
    response = admin_client.post(change, data)
    assert response.status_code == 302, form_errors(response)
    tranche.refresh_from_db()
    assert tranche.due_date == datetime.date(2026, 5, 15)


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("workers.FeeReport", "reported_by"),
    ],
)
def test_new_record_proposes_the_signed_in_user_as_its_author(admin_client, superuser: User, label: str, field: str):
    form = admin_client.get(url(label, "add")).context["adminform"].form
    assert form[field].value() == superuser.pk


def test_evidence_added_in_the_admin_is_supplied_by_the_signed_in_staff(admin_client, superuser: User) -> None:
    worker = factories.WorkerFactory()
    data = {"worker": worker.pk, "kind": "employer_attestation", "reference": "Letter from HR", "facts": "{}"}
    response = admin_client.post(url("workers.Evidence", "add"), data)
    assert response.status_code == 302, form_errors(response)
    evidence = worker.evidence.get()
    assert (evidence.uploaded_by, evidence.source, evidence.source_organisation) == (superuser, "staff", None)


def test_an_employment_saved_in_the_admin_records_who_saved_it(admin_client, superuser: User) -> None:
    employment = factories.EmploymentFactory()
    data = {"worker": employment.worker_id, "job_opening": employment.job_opening_id, "start_date": "2026-04-06"}
    response = admin_client.post(url("workers.Employment", "change", employment.pk), {**data, "note": "checked"})
    assert response.status_code == 302, form_errors(response)
    employment.refresh_from_db()
    assert (employment.recorded_by, employment.source, employment.note) == (superuser, "staff", "checked")


# --- history ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", TRACKED)
def test_change_page_links_to_the_history_of_the_object(admin_client, label: str) -> None:
    obj = FACTORIES[label]()
    events = f"{events_url()}?method=tracks&obj={label}:{obj.pk}"
    assert events in admin_client.get(url(label, "change", obj.pk)).content.decode()
    response = admin_client.get(events)
    assert response.status_code == 200
    assert [(row.pgh_obj_model, row.pgh_obj_id) for row in response.context["cl"].result_list] == [(label, str(obj.pk))]


@pytest.mark.parametrize("label", TRACKED)
def test_changelist_links_to_the_history_of_its_model(admin_client, label: str) -> None:
    html = admin_client.get(url(label, "changelist")).content.decode()
    assert f"{events_url()}?model={label}&" in html


def test_untracked_model_has_no_history_link(admin_client) -> None:
    worker = factories.WorkerFactory()
    assert "method=tracks" not in admin_client.get(url("workers.Worker", "change", worker.pk)).content.decode()


def test_contract_change_in_the_admin_is_kept_with_the_acting_user(admin_client, superuser: User) -> None:
    contract = factories.RbfContractFactory(name="Placement outcomes")
    change = url("financing.RbfContract", "change", contract.pk)
    data = form_data(admin_client.get(change))
    data.update(name="Placement and retention outcomes", _save="Save")
    response = admin_client.post(change, data)
    assert response.status_code == 302, form_errors(response)
    update = RbfContract.pgh_event_model.objects.get(pgh_obj=contract, pgh_label="update")
    assert update.name == "Placement and retention outcomes"
    assert update.pgh_context.metadata["user"] == superuser.pk


def test_contract_page_adds_metrics_inline(admin_client) -> None:
    contract = factories.RbfContractFactory()
    change = url("financing.RbfContract", "change", contract.pk)
    data = form_data(admin_client.get(change))
    data.update(
        {
            "metrics-TOTAL_FORMS": "1",
            "metrics-0-code": "PLACED",
            "metrics-0-name": "Placed",
            "metrics-0-kind": "placed",
            "metrics-0-price": "500.00",
            "metrics-0-max_units_per_worker": "1",
            "metrics-0-position": "0",
            "_save": "Save",
        }
    )
    response = admin_client.post(change, data)
    assert response.status_code == 302, form_errors(response)
    assert contract.metrics.get().price == Decimal("500.00")
    assert "USD 500.00" in admin_client.get(url("financing.OutcomeMetric", "changelist")).content.decode()


# --- pilots and users -----------------------------------------------------------------------------------------------


def pilot_data(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Aged care, Philippines to Canada",
        "slug": "aged-care-ph-ca",
        "sector": Sector.objects.create(code="aged-care", name="Aged care").pk,
        "status": "draft",
        "origin_countries": ["PH"],
        "destination_country": "CA",
        "pathway": "Home care worker pilot",
        "start_date": "2026-03-01",
        "target_cohort_size": "40",
        "required_stages": [Stage.REGISTERED, Stage.DEPLOYED],
        **{
            f"{inline}-{key}": "0"
            for inline in ("partners", "recruiter_assignments", "job_openings")
            for key in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
        "_save": "Save",
        **overrides,
    }


def test_pilot_is_added_with_its_countries_and_stages_as_lists(admin_client) -> None:
    response = admin_client.post(url("pilots.Pilot", "add"), pilot_data(origin_countries=["PH", "CO"]))
    assert response.status_code == 302, form_errors(response)
    pilot = Pilot.objects.get(slug="aged-care-ph-ca")
    assert pilot.origin_countries == ["PH", "CO"]
    assert pilot.required_stages == [Stage.REGISTERED, Stage.DEPLOYED]


def test_pilot_cannot_drop_a_stage_every_pilot_requires(admin_client) -> None:
    response = admin_client.post(url("pilots.Pilot", "add"), pilot_data(required_stages=[Stage.REGISTERED]))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["required_stages"] == [
        "Every pilot requires Deployed: keep them ticked."
    ]


def test_recruiter_organisation_shows_its_recruiter_profile(admin_client) -> None:
    recruiter = factories.RecruiterFactory(licence_number="LIC-GT-42")
    response = admin_client.get(url("pilots.Organisation", "change", recruiter.organisation.pk))
    assert "LIC-GT-42" in response.content.decode()
    employer = factories.OrganisationFactory(kind=OrganisationKind.EMPLOYER)
    assert admin_client.get(url("pilots.Organisation", "change", employer.pk)).context["inline_admin_formsets"] == []


def test_user_is_added_with_a_role_and_organisation(admin_client) -> None:
    organisation = factories.RecruiterFactory().organisation
    data = {
        "username": "agency-clerk",
        "usable_password": "false",
        "role": Role.RECRUITER,
        "organisation": organisation.pk,
        "_save": "Save",
    }
    response = admin_client.post(url("pilots.User", "add"), data)
    assert response.status_code == 302, form_errors(response)
    user = User.objects.get(username="agency-clerk")
    assert (user.role, user.organisation) == (Role.RECRUITER, organisation)


def test_partner_user_needs_an_organisation(admin_client) -> None:
    data = {"username": "funder-viewer", "usable_password": "false", "role": Role.FUNDER, "_save": "Save"}
    response = admin_client.post(url("pilots.User", "add"), data)
    assert response.status_code == 200
    assert not User.objects.filter(username="funder-viewer").exists()


def test_organisation_autocomplete_offers_only_employers_for_a_job_opening(admin_client) -> None:
    employer = factories.OrganisationFactory(kind=OrganisationKind.EMPLOYER, name="Berry Farms")
    factories.OrganisationFactory(kind=OrganisationKind.FUNDER, name="Berry Fund")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "Berry", "app_label": "pilots", "model_name": "jobopening", "field_name": "employer"},
    )
    assert [result["id"] for result in response.json()["results"]] == [str(employer.pk)]
    assert Organisation.objects.filter(name__startswith="Berry").count() == 2


def test_changing_what_a_verified_claim_is_paid_for_asks_why_and_keeps_the_reason(admin_client, superuser: User):
    claim = factories.OutcomeClaimFactory(status="verified", verified_on=datetime.date(2026, 2, 1))
    data = {
        "metric": claim.metric_id,
        "worker": claim.worker_id,
        "unit": claim.unit,
        "achieved_on": "2026-01-20",
        "claimed_by": "",
        "verifications-TOTAL_FORMS": "0",
        "verifications-INITIAL_FORMS": "0",
    }
    refused = admin_client.post(url("financing.OutcomeClaim", "change", claim.pk), data)
    assert refused.status_code == 200
    assert "changes what is paid" in str(refused.context["adminform"].form.errors["change_reason"])
    claim.refresh_from_db()
    assert claim.achieved_on == datetime.date(2026, 1, 5)

    reason = "Start date misread from the letter"
    saved = admin_client.post(url("financing.OutcomeClaim", "change", claim.pk), {**data, "change_reason": reason})
    assert saved.status_code == 302, form_errors(saved)
    claim.refresh_from_db()
    assert claim.achieved_on == datetime.date(2026, 1, 20)
    context = Context.objects.filter(metadata__action="claim_edit").latest("created_at")
    assert context.metadata["reason"] == reason
    assert context.metadata["fields"] == ["achieved_on"] and context.metadata["user"] == superuser.pk
