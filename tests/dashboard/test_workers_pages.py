"""The workers list and a worker's page: who may open them, what they show, their filters and paging,
and a query budget that does not grow with the number of workers, events, evidence or claims."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from financing.models import ClaimStatus
from pilots.stages import Stage
from tests import factories
from tests.dashboard.conftest import PAGE_QUERY_BUDGET, page_queries
from workers import selectors
from workers.models import DuplicateFlag, DuplicateReason, Gender
from workers.selectors import Cursor, WorkerFilters, worker_list_page
from workers.services import evidence_add

pytestmark = pytest.mark.django_db

LIST = reverse("workers:list")


def detail_url(worker) -> str:  # noqa: ANN001
    return reverse("programme:worker", args=[worker.pk])


def names_on(response) -> list[str]:  # noqa: ANN001
    """The worker names of the list's rows, in order."""
    return names_on_html(response.content.decode())


def names_on_html(page: str) -> list[str]:
    return re.findall(r'<a href="/workers/\d+/">([^<]+)</a>', page)


@pytest.fixture
def pilot():  # noqa: ANN201
    return factories.PilotFactory(name="H-2A berries 2026")


@pytest.fixture
def media(settings, tmp_path):  # noqa: ANN001, ANN201
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- Who may open the pages ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):  # noqa: ANN001
    worker = factories.WorkerFactory()
    for url in (LIST, detail_url(worker)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_funders_are_refused_both_pages(funder_client):  # noqa: ANN001
    worker = factories.WorkerFactory()
    for url in (LIST, detail_url(worker)):
        response = funder_client.get(url)
        assert response.status_code == 403
        assert worker.given_names not in response.content.decode()


def test_recruiters_are_refused_even_their_own_workers(recruiter_client, recruiter):  # noqa: ANN001
    """A recruiter works with its workers through the API; the dashboard shows it only its scorecard."""
    own = factories.WorkerFactory(recruiter=recruiter)
    for url in (LIST, detail_url(own)):
        response = recruiter_client.get(url)
        assert response.status_code == 403
        assert own.identity_document_number not in response.content.decode()


def test_staff_open_both_pages(staff_client):  # noqa: ANN001
    worker = factories.WorkerFactory()
    assert staff_client.get(LIST).status_code == 200
    assert staff_client.get(detail_url(worker)).status_code == 200


def test_an_unknown_worker_is_a_404(staff_client):  # noqa: ANN001
    assert staff_client.get(reverse("programme:worker", args=[987654])).status_code == 404


# --- The list -------------------------------------------------------------------------------------


def test_the_list_shows_each_column_with_the_document_number_masked(staff_client, pilot):  # noqa: ANN001
    worker = factories.WorkerFactory(
        given_names="María José",
        family_names="Chávez Pérez",
        gender=Gender.FEMALE,
        nationality="GT",
        pilot=pilot,
        current_stage=Stage.VISA_PENDING,
        season=2,
        identity_document_number="Q98765432",
    )
    factories.JourneyEventFactory(worker=worker, occurred_on=datetime.date(2026, 2, 14))
    page = staff_client.get(LIST).content.decode()
    assert f'<a href="{detail_url(worker)}">María José Chávez Pérez</a>' in page
    assert "Guatemala" in page
    assert "Female" in page
    assert "H-2A berries 2026" in page
    assert worker.recruiter.organisation.name in page
    assert '<span class="badge badge-visa_pending">Visa pending</span>' in page
    assert "•••••5432" in page
    assert "Q98765432" not in page
    assert "14 Feb 2026" in page  # registered: the day of the first journey event
    assert "1 worker registered" in page


def test_the_list_marks_workers_who_reported_a_fee(staff_client):  # noqa: ANN001
    paid = factories.WorkerFactory()
    factories.FeeReportFactory(worker=paid, amount=Decimal("120.00"))
    clean = factories.WorkerFactory()
    factories.FeeReportFactory(worker=clean, amount=Decimal("0"))
    page = staff_client.get(LIST).content.decode()
    rows = page.split("<tr>")
    assert "fee reported" in next(row for row in rows if paid.given_names in row)
    assert "fee reported" not in next(row for row in rows if clean.given_names in row)


def test_an_empty_list_says_so(staff_client):  # noqa: ANN001
    page = staff_client.get(LIST).content.decode()
    assert "No workers yet" in page
    assert staff_client.get(LIST, {"stage": "deployed"}).content.decode().count("No worker matches these filters") == 1


@pytest.mark.parametrize(
    ("field", "kept", "dropped"),
    [
        ("stage", {"current_stage": Stage.DEPLOYED}, {"current_stage": Stage.SCREENED}),
        ("gender", {"gender": Gender.MALE}, {"gender": Gender.FEMALE}),
        ("nationality", {"nationality": "MX"}, {"nationality": "GT"}),
    ],
)
def test_each_choice_filter_narrows_the_list(staff_client, field, kept, dropped):  # noqa: ANN001
    keep = factories.WorkerFactory(given_names="Kept", **kept)
    factories.WorkerFactory(given_names="Dropped", **dropped)
    value = next(iter(kept.values()))
    response = staff_client.get(LIST, {field: value})
    assert response.status_code == 200
    assert names_on(response) == [str(keep)]
    assert "1 worker matches these filters" in response.content.decode()


def test_nationality_may_be_given_in_lower_case(staff_client):  # noqa: ANN001
    mexican = factories.WorkerFactory(nationality="MX")
    factories.WorkerFactory(nationality="GT")
    assert names_on(staff_client.get(LIST, {"nationality": "mx"})) == [str(mexican)]


def test_pilot_and_recruiter_filters(staff_client):  # noqa: ANN001
    first, second = factories.WorkerFactory(), factories.WorkerFactory()
    assert names_on(staff_client.get(LIST, {"pilot": first.pilot_id})) == [str(first)]
    assert names_on(staff_client.get(LIST, {"recruiter": second.recruiter_id})) == [str(second)]
    assert names_on(staff_client.get(LIST, {"pilot": first.pilot_id, "recruiter": second.recruiter_id})) == []


def test_fee_reported_counts_only_amounts_above_zero(staff_client):  # noqa: ANN001
    paid = factories.WorkerFactory(given_names="Paid")
    factories.FeeReportFactory(worker=paid, amount=Decimal("1500.00"))
    zero = factories.WorkerFactory(given_names="Zero")
    factories.FeeReportFactory(worker=zero, amount=Decimal("0.00"))
    never = factories.WorkerFactory(given_names="Never")
    assert names_on(staff_client.get(LIST, {"fee_reported": "yes"})) == [str(paid)]
    assert names_on(staff_client.get(LIST, {"fee_reported": "no"})) == [str(never), str(zero)]


def test_search_by_any_part_of_the_name(staff_client):  # noqa: ANN001
    ana = factories.WorkerFactory(given_names="Ana Lucía", family_names="Xol Caal")
    factories.WorkerFactory(given_names="Bernardo", family_names="Caal")
    assert names_on(staff_client.get(LIST, {"q": "lucía xol"})) == [str(ana)]
    assert len(names_on(staff_client.get(LIST, {"q": "caal"}))) == 2


def test_search_by_exact_document_number_through_the_keyed_hash(staff_client):  # noqa: ANN001
    """Found as the service stores it (country-keyed HMAC, ignoring case, spaces and dashes), never by
    decrypting; a part of a number finds nothing."""
    mexican = factories.WorkerFactory(identity_document_country="MX", identity_document_number="G0912-3456")
    factories.WorkerFactory(identity_document_country="GT", identity_document_number="G09123457")
    assert names_on(staff_client.get(LIST, {"q": "G0912-3456"})) == [str(mexican)]
    assert names_on(staff_client.get(LIST, {"q": "g0912 3456"})) == [str(mexican)]
    assert names_on(staff_client.get(LIST, {"q": "MX:G09123456"})) == [str(mexican)]
    assert names_on(staff_client.get(LIST, {"q": "GT:G09123456"})) == []
    assert names_on(staff_client.get(LIST, {"q": "0912"})) == []


def test_search_never_decrypts(staff_client):  # noqa: ANN001
    """The document number column is not in the search's WHERE clause: only its hash is."""
    factories.WorkerFactory(identity_document_number="A7777777")
    with page_queries() as ctx:
        staff_client.get(LIST, {"q": "A7777777"})
    page_query = next(q["sql"] for q in ctx.captured_queries if "identity_document_hash" in q["sql"])
    where = page_query.split("WHERE", 1)[1]
    assert '"identity_document_number"' not in where


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pilot": "abc"}, "There is no pilot with id abc."),
        ({"pilot": "987654"}, "There is no pilot with id 987654."),
        ({"recruiter": "987654"}, "There is no recruiter with id 987654."),
        ({"stage": "flying"}, "“flying” is not a stage of the journey."),
        ({"nationality": "XX"}, "“XX” is not an ISO 3166 country code"),
        ({"gender": "robot"}, "“robot” is not one of the genders recorded."),
        ({"fee_reported": "maybe"}, "Fee reported is “yes” or “no”, not “maybe”."),
        ({"cursor": "'; drop table"}, "This page link is damaged"),
        ({"q": "x" * 101}, "Ensure this value has at most 100 characters"),
    ],
)
def test_bad_filter_values_are_a_clear_message_not_a_500(staff_client, params, message):  # noqa: ANN001
    factories.WorkerFactory(given_names="Visible")
    response = staff_client.get(LIST, params)
    assert response.status_code == 400
    page = response.content.decode()
    assert "These filters could not be applied" in page
    assert message in page
    assert "Visible" not in page  # no list under filters that could not be applied


def test_the_filter_form_keeps_the_chosen_values(staff_client, pilot):  # noqa: ANN001
    page = staff_client.get(LIST, {"pilot": pilot.pk, "stage": "deployed", "q": "Ana"}).content.decode()
    assert f'<option value="{pilot.pk}" selected>H-2A berries 2026</option>' in page
    assert '<option value="deployed" selected>Deployed</option>' in page
    assert 'value="Ana"' in page


# --- Paging ---------------------------------------------------------------------------------------


def test_pages_of_fifty_newest_first_by_cursor(staff_client, pilot):  # noqa: ANN001
    workers = factories.WorkerFactory.create_batch(60, pilot=pilot)
    newest_first = [str(worker) for worker in reversed(workers)]

    first = staff_client.get(LIST, {"pilot": pilot.pk})
    assert names_on(first) == newest_first[:50]
    assert "60 workers match these filters" in first.content.decode()
    older = re.search(r'href="\?([^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    assert f"pilot={pilot.pk}" in older  # the filters travel with the cursor

    second = staff_client.get(f"{LIST}?{older}")
    assert names_on(second) == newest_first[50:]
    assert 'rel="next"' not in second.content.decode()
    newer = re.search(r'href="\?([^"]+)" rel="prev"', second.content.decode()).group(1).replace("&amp;", "&")

    back = staff_client.get(f"{LIST}?{newer}")
    assert names_on(back) == newest_first[:50]
    assert 'rel="prev"' not in back.content.decode()


def test_a_worker_registered_meanwhile_does_not_shift_the_next_page(staff_user):  # noqa: ANN001
    workers = factories.WorkerFactory.create_batch(55)
    first = worker_list_page(user=staff_user, filters=WorkerFilters())
    factories.WorkerFactory()
    second = worker_list_page(user=staff_user, filters=WorkerFilters(), cursor=first.older)
    assert [w.pk for w in second.workers] == [w.pk for w in reversed(workers[:5])]


def test_the_count_stops_at_its_limit(staff_user, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 20)
    factories.WorkerFactory.create_batch(25)
    page = worker_list_page(user=staff_user, filters=WorkerFilters(), size=10)
    assert (page.matches, page.matches_more) == (20, True)
    small = worker_list_page(user=staff_user, filters=WorkerFilters(stage=Stage.REGISTERED), size=30)
    assert (small.matches, small.matches_more) == (20, True)


def test_the_page_says_when_the_count_stopped(staff_client, monkeypatch):  # noqa: ANN001
    from workers import views

    monkeypatch.setattr(selectors, "COUNT_LIMIT", 20)
    monkeypatch.setattr(views, "COUNT_LIMIT", 20)
    factories.WorkerFactory.create_batch(55)
    page = staff_client.get(LIST).content.decode()
    assert "More than 20 workers registered" in page
    assert "(counted up to 20)" in page


def test_a_name_search_over_several_pages_is_not_counted(staff_client):  # noqa: ANN001
    """Names have no index: the page reads them once, a count would read them all again."""
    factories.WorkerFactory.create_batch(55, family_names="Tzoc")
    with page_queries() as ctx:
        page = staff_client.get(LIST, {"q": "tzoc"}).content.decode()
    assert "More than 50 workers match this search" in page
    assert not any("COUNT(" in query["sql"] for query in ctx.captured_queries)
    assert len(names_on_html(page)) == 50


def test_a_count_that_fits_on_one_page_needs_no_query(staff_user, django_assert_num_queries):  # noqa: ANN001
    factories.WorkerFactory.create_batch(3)
    with django_assert_num_queries(1):
        page = worker_list_page(user=staff_user, filters=WorkerFilters())
    assert (page.matches, page.matches_more, page.older, page.newer) == (3, False, None, None)


def test_cursor_round_trip():
    assert Cursor.parse(str(Cursor(after=42))) == Cursor(after=42, older=True)
    assert Cursor.parse("n7") == Cursor(after=7, older=False)
    with pytest.raises(ValueError):
        Cursor.parse("o-1")


# --- The worker's page ----------------------------------------------------------------------------


@pytest.fixture
def full_worker(staff_user, media):  # noqa: ANN001, ANN201
    """A worker with a journey that ends in an exit, a job, training, evidence, fees and claims."""
    worker = factories.WorkerFactory(
        given_names="Rosa",
        family_names="Tzul",
        date_of_birth=datetime.date(1993, 3, 9),
        phone="+502 5555 0142",
        identity_document_number="P55501234",
        language_levels={"en": "B1"},
        current_stage=Stage.SEPARATED_EARLY,
    )
    recorder = factories.StaffUserFactory(first_name="Lucía", last_name="Ramos")
    for day, stage, note in [
        (10, Stage.REGISTERED, "Came through the Huehuetenango fair"),
        (20, Stage.SCREENED, ""),
        (25, Stage.MATCHED, ""),
        (28, Stage.DEPLOYED, ""),
        (30, Stage.SEPARATED_EARLY, "Injured in the second week"),
    ]:
        factories.JourneyEventFactory(
            worker=worker, stage=stage, occurred_on=datetime.date(2026, 1, day), recorded_by=recorder, note=note
        )
    factories.EmploymentFactory(
        worker=worker,
        job_opening__title="Strawberry picker",
        job_opening__employer__name="Valle Farms LLC",
        start_date=datetime.date(2026, 4, 6),
        end_date=datetime.date(2026, 4, 20),
        separation_reason="injury_or_illness",
    )
    factories.TrainingEnrollmentFactory(worker=worker, course="Farm safety", passed=True)
    evidence_add(
        worker=worker,
        kind="employer_attestation",
        uploaded_by=staff_user,
        file=SimpleUploadedFile("attestation.pdf", b"%PDF-1.4 attested", content_type="application/pdf"),
        description="Signed by the farm's HR",
    )
    factories.EvidenceFactory(worker=worker, kind="payroll_record", reference="Payroll system #88")
    factories.FeeReportFactory(worker=worker, amount=Decimal("1500.00"), currency="GTQ", category="medical")
    metric = factories.OutcomeMetricFactory(code="PLACED", contract__reference="H2A-2026", contract__pilot=worker.pilot)
    factories.OutcomeClaimFactory(
        worker=worker,
        metric=metric,
        status=ClaimStatus.VERIFIED,
        verified_on=datetime.date(2026, 4, 30),
        achieved_on=datetime.date(2026, 4, 6),
    )
    return worker


def test_the_worker_page_shows_facts_with_sensitive_ones_masked_and_a_logged_reveal(staff_client, full_worker):  # noqa: ANN001, E501
    page = staff_client.get(detail_url(full_worker)).content.decode()
    assert "<h1>Rosa Tzul</h1>" in page
    # Masked on screen, and nowhere in full: the values come only through a reveal with a reason.
    for masked, full in [
        ("•••••1234", "P55501234"),
        ("1993-••-••", "09 Mar 1993"),
        (full_worker.phone_masked, "+502 5555 0142"),
    ]:
        assert masked in page
        assert full not in page
    assert "Reveal personal data" in page
    assert "EN B1" in page
    assert reverse("admin:workers_worker_change", args=[full_worker.pk]) in page
    assert "Open in admin" in page


def test_the_journey_is_a_timeline_in_order_with_exits_marked(staff_client, full_worker):  # noqa: ANN001
    page = staff_client.get(detail_url(full_worker)).content.decode()
    timeline = page[page.index('<ol class="timeline">') : page.index("</ol>")]
    stages = re.findall(r'<span class="badge badge-[a-z_]+">([^<]+)</span>', timeline)
    assert stages == ["Registered", "Screened", "Matched with a job", "Deployed", "Separated early"]
    assert timeline.count('<li class="exit">') == 1
    assert "30 Jan 2026" in timeline.split('<li class="exit">')[1]
    assert "recorded by Lucía Ramos" in timeline
    assert "Injured in the second week" in timeline


def test_the_worker_page_lists_job_training_evidence_fees_and_claims(staff_client, full_worker):  # noqa: ANN001
    page = staff_client.get(detail_url(full_worker)).content.decode()
    assert "Valle Farms LLC" in page and "Strawberry picker" in page and "Injury or illness" in page
    assert "Farm safety" in page and "passed" in page
    uploaded = full_worker.evidence.get(kind="employer_attestation")
    assert "attestation.pdf" in page
    assert "17\xa0bytes" in page  # filesizeformat joins with a no-break space
    assert f"{uploaded.sha256[:12]}…" in page
    assert f"/api/v1/workers/{full_worker.pk}/evidence/{uploaded.pk}/download/" in page
    assert "Payroll system #88" in page and "(kept by reference)" in page
    assert "Medical costs" in page and "GTQ 1,500.00" in page
    assert "PLACED" in page and '<span class="badge badge-verified">Verified</span>' in page
    claim = full_worker.claims.get()
    assert f'href="{reverse("financing:contract", args=[claim.metric.contract_id])}">H2A-2026</a>' in page
    assert "30 Apr 2026" in page


def test_the_evidence_link_downloads_with_the_staff_session(staff_client, full_worker):  # noqa: ANN001
    uploaded = full_worker.evidence.get(kind="employer_attestation")
    response = staff_client.get(f"/api/v1/workers/{full_worker.pk}/evidence/{uploaded.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 attested"


def test_a_worker_without_records_gets_helpful_empty_states(staff_client):  # noqa: ANN001
    worker = factories.WorkerFactory(phone=None, identity_document_number=None, identity_document_hash="")
    page = staff_client.get(detail_url(worker)).content.decode()
    for text in (
        "No journey events recorded.",
        "No employment recorded yet.",
        "No training enrolments.",
        "No evidence uploaded",
        "No fee reported.",
        "No outcome claimed",
    ):
        assert text in page
    assert "Reveal personal data" in page  # the date of birth is always there, masked
    assert page.count("Not recorded") >= 2


def test_duplicate_flags_are_shown_both_ways(staff_client):  # noqa: ANN001
    first = factories.WorkerFactory(given_names="Elena")
    second = factories.WorkerFactory(given_names="Elena B")
    DuplicateFlag.objects.create(worker=second, matches=first, reason=DuplicateReason.IDENTITY_DOCUMENT)
    on_second = staff_client.get(detail_url(second)).content.decode()
    on_first = staff_client.get(detail_url(first)).content.decode()
    assert f'May be the same person as <a href="{detail_url(first)}">' in on_second
    assert f'May be the same person as <a href="{detail_url(second)}">' in on_first


# --- Query budgets --------------------------------------------------------------------------------


def _list_queries(client: Client, params: dict[str, object]) -> int:
    with page_queries() as ctx:
        response = client.get(LIST, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "params",
    [{}, {"stage": "registered", "fee_reported": "no", "q": "López", "nationality": "GT", "gender": "female"}],
)
def test_the_list_query_count_does_not_grow_with_workers(staff_client, params):  # noqa: ANN001
    def add(count: int) -> None:
        for worker in factories.WorkerFactory.create_batch(count):
            factories.JourneyEventFactory(worker=worker)
            factories.FeeReportFactory(worker=worker, amount=Decimal("0"))

    add(5)
    with_five = _list_queries(staff_client, params)
    add(55)
    with_sixty = _list_queries(staff_client, params)  # two pages now: the bounded count runs too
    assert with_sixty <= PAGE_QUERY_BUDGET
    assert with_sixty <= with_five + 1
    with_sixty_again = _list_queries(staff_client, params)
    assert with_sixty_again == with_sixty


def test_a_deep_page_costs_what_the_first_does(staff_client):  # noqa: ANN001
    workers = factories.WorkerFactory.create_batch(60)
    first = _list_queries(staff_client, {})
    deep = _list_queries(staff_client, {"cursor": f"o{workers[20].pk}"})
    assert deep == first <= PAGE_QUERY_BUDGET


def test_the_worker_page_query_count_does_not_grow_with_records(staff_client, staff_user, media):  # noqa: ANN001
    worker = factories.WorkerFactory()
    metric = factories.OutcomeMetricFactory(contract__pilot=worker.pilot)
    other = factories.WorkerFactory()

    def add(count: int) -> None:
        for _ in range(count):
            evidence = factories.EvidenceFactory(worker=worker, uploaded_by=staff_user)
            factories.JourneyEventFactory(worker=worker, recorded_by=staff_user, evidence=evidence)
            factories.EmploymentFactory(worker=worker)
            factories.TrainingEnrollmentFactory(worker=worker, certificate=evidence)
            factories.FeeReportFactory(worker=worker)
            factories.OutcomeClaimFactory(worker=worker, metric=metric, unit=worker.claims.count() + 1)
        DuplicateFlag.objects.get_or_create(worker=worker, matches=other, reason=DuplicateReason.NAME_AND_BIRTH)

    def measure() -> int:
        with page_queries() as ctx:
            assert staff_client.get(detail_url(worker)).status_code == 200
        return len(ctx.captured_queries)

    add(2)
    few = measure()
    add(20)
    many = measure()
    assert many == few <= PAGE_QUERY_BUDGET
