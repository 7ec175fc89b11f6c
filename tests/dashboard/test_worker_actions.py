"""Staff's actions on a worker's page: the journey (with an override), employment and its end, evidence and
its confirmation, fee reports. Each calls the service the API calls: the same rules, the same words."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from financing.models import ClaimStatus, MetricKind
from financing.services import verify_pending_claims
from pilots.models import OrganisationKind
from pilots.stages import Stage
from tests import factories as f
from tests.dashboard.conftest import PAGE_QUERY_BUDGET, page_queries
from workers import services
from workers.models import Employment, Evidence, EvidenceKind, FeeReport, FeeSource, JourneyEvent, Source

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 an attestation"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # noqa: ANN001, ANN201
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def worker():  # noqa: ANN201
    return f.WorkerFactory(given_names="Ana", family_names="Xicará", stage_changed_on=datetime.date(2026, 1, 10))


@pytest.fixture
def opening(worker):  # noqa: ANN001, ANN201
    return f.JobOpeningFactory(pilot=worker.pilot, employer__name="Valle Farms LLC", title="Strawberry picker")


def url(name: str, worker, *args: int) -> str:  # noqa: ANN001
    return reverse(f"programme:{name}", args=[worker.pk, *args])


def page_url(worker) -> str:  # noqa: ANN001
    return reverse("programme:worker", args=[worker.pk])


def errors(response, form: str) -> dict[str, list[str]]:  # noqa: ANN001
    return {name: list(messages) for name, messages in response.context["forms"][form].errors.items()}


# --- Who may act ------------------------------------------------------------------------------------------

ACTIONS = [
    ("worker-move", {"stage": "screened", "occurred_on": "2026-02-01"}),
    ("worker-fee", {"category": "medical", "amount": "10", "currency": "USD", "source": "staff"}),
    ("worker-evidence", {"kind": "other", "reference": "Paper file 12"}),
]


@pytest.mark.parametrize(("name", "data"), ACTIONS)
def test_recruiters_and_funders_are_refused_and_nothing_is_written(client, worker, name, data):
    recruiter_user = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    funder = f.UserFactory(role="funder", organisation=f.OrganisationFactory(kind=OrganisationKind.FUNDER))
    before = (JourneyEvent.objects.count(), FeeReport.objects.count(), Evidence.objects.count())
    assert client.post(url(name, worker), data)["Location"].startswith(reverse("login"))
    for user in (recruiter_user, funder):
        client.force_login(user)
        assert client.post(url(name, worker), data).status_code == 403
    assert (JourneyEvent.objects.count(), FeeReport.objects.count(), Evidence.objects.count()) == before


@pytest.mark.parametrize(("name", "data"), ACTIONS)
def test_actions_are_posts(staff_client, worker, name, data):
    assert staff_client.get(url(name, worker)).status_code == 405


def test_an_unknown_worker_is_a_404(staff_client):
    assert staff_client.post(reverse("programme:worker-move", args=[999_999]), {"stage": "screened"}).status_code == 404


def test_the_page_offers_each_action_with_the_stages_allowed_first(staff_client, worker, opening):
    response = staff_client.get(page_url(worker))
    html = response.content.decode()
    for name in ("worker-move", "worker-employment", "worker-evidence", "worker-fee"):
        assert url(name, worker) in html
    assert response.context["next_stages"] == ["screened", "withdrawn", "not_selected"]
    choices = dict(response.context["forms"]["move"].fields["stage"].choices)
    assert [value for value, _ in next(iter(choices.values()))] == ["screened", "withdrawn", "not_selected"]


def test_the_page_keeps_its_query_count_with_the_forms(staff_client, staff_user, worker):
    def measure() -> int:
        with page_queries() as ctx:
            assert staff_client.get(page_url(worker)).status_code == 200
        return len(ctx.captured_queries)

    f.JobOpeningFactory(pilot=worker.pilot)
    few = measure()
    for _ in range(15):
        f.JobOpeningFactory(pilot=worker.pilot)
        f.EmploymentFactory(worker=worker)
        f.EvidenceFactory(worker=worker, source=Source.RECRUITER)
    # session, user, the worker, evidence, events, employments, trainings, fees, duplicate flags, claims, the
    # history, the pilot's job openings
    assert measure() == few == 12 <= PAGE_QUERY_BUDGET


# --- The journey ------------------------------------------------------------------------------------------


def test_a_move_the_journey_allows(staff_client, staff_user, worker):
    response = staff_client.post(url("worker-move", worker), {"stage": "screened", "occurred_on": "2026-02-01"})
    assert response.status_code == 302 and response["Location"] == page_url(worker) + "#journey-h"
    worker.refresh_from_db()
    assert worker.current_stage == Stage.SCREENED
    event = JourneyEvent.objects.get(worker=worker, stage=Stage.SCREENED)
    assert event.recorded_by == staff_user and not event.is_override
    assert "moved to “Screened” on 01 Feb 2026" in staff_client.get(page_url(worker)).content.decode()


def test_a_skip_is_refused_naming_both_stages_as_the_api_does(staff_client, worker):
    response = staff_client.post(url("worker-move", worker), {"stage": "matched", "occurred_on": "2026-02-01"})
    assert response.status_code == 400
    (message,) = errors(response, "move")["stage"]
    assert message.startswith("Cannot move from 'registered' to 'matched': the pilot requires 'screened'")
    assert "override reason" in message
    assert 'id="move" open' in response.content.decode()  # the form stays open, as sent
    worker.refresh_from_db()
    assert worker.current_stage == Stage.REGISTERED and not JourneyEvent.objects.filter(worker=worker).exists()


def test_a_staff_override_with_its_reason_is_kept_on_the_event(staff_client, worker):
    reason = "Screened on paper at the fair; the record was lost."
    response = staff_client.post(
        url("worker-move", worker), {"stage": "matched", "occurred_on": "2026-02-01", "override_reason": reason}
    )
    assert response.status_code == 302
    event = JourneyEvent.objects.get(worker=worker)
    assert event.stage == Stage.MATCHED and event.is_override and event.override_reason == reason
    page = staff_client.get(page_url(worker)).content.decode()
    assert "Recorded as a staff override" in page and f"Override: {reason}" in page


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"stage": "screened", "occurred_on": "2026-13-01"}, "occurred_on", "YYYY-MM-DD"),
        ({"stage": "screened", "occurred_on": "1999-12-31"}, "occurred_on", "before 2000"),
        ({"stage": "nowhere", "occurred_on": "2026-02-01"}, "stage", "not one of the available choices"),
        ({"stage": "screened", "occurred_on": "2026-02-01", "note": "a\x00b"}, "note", "Null characters"),
        ({"stage": "screened", "occurred_on": "2026-02-01", "note": "x" * 2001}, "note", "2000 characters"),
        ({"stage": "screened", "occurred_on": "2026-01-01"}, "occurred_on", "before the current stage"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(staff_client, worker, data, field, words):
    response = staff_client.post(url("worker-move", worker), data)
    assert response.status_code == 400
    assert words in " ".join(errors(response, "move")[field])
    assert not JourneyEvent.objects.filter(worker=worker).exists()


def test_even_an_override_is_refused_a_day_in_the_future(staff_client, worker):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = staff_client.post(
        url("worker-move", worker), {"stage": "matched", "occurred_on": tomorrow, "override_reason": "Planned"}
    )
    assert response.status_code == 400
    assert "is in the future" in errors(response, "move")["occurred_on"][0]  # the date is what is wrong
    assert not JourneyEvent.objects.filter(worker=worker).exists()


# --- Employment and its end -------------------------------------------------------------------------------


def test_record_an_employment_staff_are_its_source(staff_client, staff_user, worker, opening):
    response = staff_client.post(
        url("worker-employment", worker), {"job_opening": opening.pk, "start_date": "2026-04-06", "note": "Day 1"}
    )
    assert response.status_code == 302
    job = Employment.objects.get(worker=worker)
    assert (job.job_opening, job.start_date, job.end_date) == (opening, datetime.date(2026, 4, 6), None)
    assert job.source == Source.STAFF and job.recorded_by == staff_user


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            {"start_date": "2999-01-01"},
            "start_date",
            "Record an employment as it happened: this date is in the future.",
        ),
        ({"start_date": "1970-01-01"}, "start_date", "before 2000"),
        ({"end_date": "2026-04-01"}, "end_date", "An employment cannot end before it started."),
        ({"separation_reason": "resigned"}, "end_date", "A separation needs the day the employment ended."),
        ({"separation_reason": "bored"}, "separation_reason", "not one of the available choices"),
    ],
)
def test_an_employment_the_service_refuses_names_the_field(staff_client, worker, opening, data, field, words):
    response = staff_client.post(
        url("worker-employment", worker), {"job_opening": opening.pk, "start_date": "2026-04-06", **data}
    )
    assert response.status_code == 400
    assert words in " ".join(errors(response, "employment")[field])
    assert not Employment.objects.filter(worker=worker).exists()


def test_an_opening_of_another_pilot_is_refused(staff_client, worker, opening):
    elsewhere = f.JobOpeningFactory()
    response = staff_client.post(
        url("worker-employment", worker), {"job_opening": elsewhere.pk, "start_date": "2026-04-06"}
    )
    assert response.status_code == 400
    assert errors(response, "employment")["job_opening"] == [
        f"No job opening with id {elsewhere.pk} in the worker's pilot."
    ]


def test_record_a_separation(staff_client, worker, opening):
    job = f.EmploymentFactory(worker=worker, job_opening=opening, start_date=datetime.date(2026, 4, 6))
    page = staff_client.get(page_url(worker)).content.decode()
    assert url("worker-employment-end", worker, job.pk) in page
    response = staff_client.post(
        url("worker-employment-end", worker, job.pk), {"end_date": "2026-04-20", "separation_reason": "resigned"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.end_date, job.separation_reason, job.source) == (datetime.date(2026, 4, 20), "resigned", Source.STAFF)


def test_a_separation_before_the_start_is_refused_and_the_job_stays_ongoing(staff_client, worker, opening):
    job = f.EmploymentFactory(worker=worker, job_opening=opening, start_date=datetime.date(2026, 4, 6))
    response = staff_client.post(
        url("worker-employment-end", worker, job.pk), {"end_date": "2026-04-01", "separation_reason": "resigned"}
    )
    assert response.status_code == 400
    (shown,) = [j for j in response.context["d"].employments if j.pk == job.pk]
    assert shown.end_form.errors["end_date"] == ["An employment cannot end before it started."]
    assert shown.end_date is None  # the page shows the record as it is, not as the refused form had it
    job.refresh_from_db()
    assert job.end_date is None and job.separation_reason == ""


def test_a_separation_without_a_reason_or_of_another_workers_job(staff_client, worker, opening):
    job = f.EmploymentFactory(worker=worker, job_opening=opening)
    assert (
        staff_client.post(url("worker-employment-end", worker, job.pk), {"end_date": "2026-04-20"}).status_code == 400
    )
    other = f.EmploymentFactory()
    data = {"end_date": "2026-04-20", "separation_reason": "resigned"}
    assert staff_client.post(url("worker-employment-end", worker, other.pk), data).status_code == 404


# --- Evidence -----------------------------------------------------------------------------------------------


def test_upload_a_file_its_hash_kept_and_staff_its_source(staff_client, staff_user, worker):
    upload = SimpleUploadedFile("attestation.pdf", PDF, content_type="application/pdf")
    response = staff_client.post(
        url("worker-evidence", worker), {"kind": "employer_attestation", "file": upload, "description": "Signed"}
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get(worker=worker)
    assert evidence.source == Source.STAFF and evidence.uploaded_by == staff_user
    assert evidence.size == len(PDF) and len(evidence.sha256) == 64 and evidence.content_type == "application/pdf"
    assert "attestation.pdf" in staff_client.get(page_url(worker)).content.decode()


@pytest.mark.parametrize(
    ("file", "words"),
    [
        (("notes.txt", b"hello", "text/plain"), "'text/plain' files are not accepted"),
        (("fake.pdf", b"MZ not a pdf", "application/pdf"), "The file's content is not application/pdf"),
        (("empty.pdf", b"", "application/pdf"), "The submitted file is empty."),
        (("big.pdf", PDF + b"0" * 200, "application/pdf"), "at most 100 are accepted"),
    ],
)
def test_the_apis_file_checks_refuse_a_bad_upload(staff_client, worker, monkeypatch, file, words):
    monkeypatch.setattr(services, "MAX_EVIDENCE_BYTES", 100)
    name, content, content_type = file
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = staff_client.post(url("worker-evidence", worker), {"kind": "other", "file": upload})
    assert response.status_code == 400
    assert words in " ".join(errors(response, "evidence")["file"])
    assert not Evidence.objects.filter(worker=worker).exists()


def test_evidence_needs_a_file_or_a_reference(staff_client, worker):
    response = staff_client.post(url("worker-evidence", worker), {"kind": "other"})
    assert response.status_code == 400
    assert errors(response, "evidence")["file"] == ["Upload a file or give a reference to where it is kept."]
    assert staff_client.post(url("worker-evidence", worker), {"kind": "passport", "reference": "x"}).status_code == 400


# --- Confirming a document as staff ----------------------------------------------------------------------


def test_staff_confirm_the_payees_attestation_and_the_placement_verifies(staff_client, worker):
    """The recruiter's copy of the employer's attestation is the payee's word: the claim waits. Staff check it
    with the employer and confirm it: a fact of staff's own, which the PLACED rule counts."""
    recruiter_user = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    metric = f.OutcomeMetricFactory(
        kind=MetricKind.PLACED, contract__pilot=worker.pilot, contract__provider=worker.recruiter.organisation
    )
    job = f.EmploymentFactory(worker=worker, start_date=datetime.date(2026, 4, 6), source=Source.RECRUITER)
    job.source_organisation = worker.recruiter.organisation
    job.save()
    copy = services.evidence_add(
        worker=worker,
        kind=EvidenceKind.EMPLOYER_ATTESTATION,
        uploaded_by=recruiter_user,
        reference="Letter from Valle Farms",
        facts={"employment_started_on": "2026-04-06"},
    )
    claim = f.OutcomeClaimFactory(metric=metric, worker=worker, achieved_on=datetime.date(2026, 4, 6))
    assert verify_pending_claims(contract_id=metric.contract_id).verified == 0

    page = staff_client.get(page_url(worker)).content.decode()
    assert url("worker-evidence-confirm", worker, copy.pk) in page
    response = staff_client.post(url("worker-evidence-confirm", worker, copy.pk), {"note": "Phoned Valle Farms HR"})
    assert response.status_code == 302

    confirmation = Evidence.objects.get(worker=worker, source=Source.STAFF)
    assert confirmation.facts == {"employment_started_on": "2026-04-06", "confirms_evidence": copy.pk}
    assert (
        confirmation.kind == EvidenceKind.EMPLOYER_ATTESTATION and confirmation.description == "Phoned Valle Farms HR"
    )
    copy.refresh_from_db()
    assert copy.source == Source.RECRUITER  # the document itself is kept as it was
    assert verify_pending_claims(contract_id=metric.contract_id).verified == 1
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED
    assert "confirmed by staff" in staff_client.get(page_url(worker)).content.decode()


def test_a_document_is_confirmed_once_and_never_staffs_own(staff_client, worker):
    theirs = f.EvidenceFactory(worker=worker, source=Source.EMPLOYER)
    ours = f.EvidenceFactory(worker=worker, source=Source.STAFF)
    assert staff_client.post(url("worker-evidence-confirm", worker, theirs.pk)).status_code == 302
    again = staff_client.post(url("worker-evidence-confirm", worker, theirs.pk))
    assert again.status_code == 400
    assert errors(again, "confirm")["__all__"] == ["Program staff already confirmed this document."]
    own = staff_client.post(url("worker-evidence-confirm", worker, ours.pk))
    assert own.status_code == 400
    assert "supplied by program staff" in own.content.decode()
    assert Evidence.objects.filter(worker=worker, source=Source.STAFF).count() == 2  # ours and one confirmation
    other = f.EvidenceFactory(source=Source.EMPLOYER)
    assert staff_client.post(url("worker-evidence-confirm", worker, other.pk)).status_code == 404


def test_only_staff_confirm_in_the_service():
    document = f.EvidenceFactory(source=Source.EMPLOYER)
    with pytest.raises(services.PermissionDenied):
        services.evidence_confirm(evidence=document, confirmed_by=f.RecruiterUserFactory())


# --- Fee reports ----------------------------------------------------------------------------------------------


def test_record_a_fee_report(staff_client, staff_user, worker):
    response = staff_client.post(
        url("worker-fee", worker),
        {
            "category": "medical",
            "amount": "1500.00",
            "currency": "GTQ",
            "source": "worker_survey",
            "paid_to": "Clinic in Huehuetenango",
            "paid_on": "2026-02-03",
        },
    )
    assert response.status_code == 302
    report = FeeReport.objects.get(worker=worker)
    assert (report.category, report.amount, report.currency) == ("medical", Decimal("1500.00"), "GTQ")
    assert report.source == FeeSource.WORKER_SURVEY and report.reported_by == staff_user
    assert report.recruiter == worker.recruiter
    assert "Any fee is a finding" in staff_client.get(page_url(worker)).content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1e400"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "99999999999"}, "amount"),
        ({"amount": "1.0001"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"category": "bribe"}, "category"),
        ({"source": "worker"}, "source"),  # the worker's own link is never staff's channel
        ({"paid_on": "2999-01-01"}, "paid_on"),
        ({"paid_to": "x" * 201}, "paid_to"),
    ],
)
def test_a_bad_fee_report_is_a_400_naming_the_field(staff_client, worker, data, field):
    sent = {"category": "medical", "amount": "10.00", "currency": "USD", "source": "staff", **data}
    response = staff_client.post(url("worker-fee", worker), sent)
    assert response.status_code == 400
    assert field in errors(response, "fee")
    assert not FeeReport.objects.exists()
