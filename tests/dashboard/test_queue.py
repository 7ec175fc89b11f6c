"""The verification queue: who sees it, what each item shows, and deciding claims from it."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from financing import services
from financing.models import ClaimStatus, Decision, MetricKind, OutcomeClaim, Verification
from financing.selectors import facts_in_words
from tests import factories as f
from tests.dashboard.conftest import page_queries
from workers.models import EvidenceKind

pytestmark = pytest.mark.django_db

URL = reverse("financing:queue")
HX = {"HTTP_HX_REQUEST": "true"}
ZERO_FEE_CONFLICT = {
    "survey_fee_paid": [False],
    "fees_reported": [{"category": "recruitment_fee", "amount": "1500.00", "currency": "GTQ"}],
}


class _Collect(HTMLParser):
    """The text of every element that has ``css_class``, one string per element."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class, self.depth, self.found, self.current = css_class, 0, [], []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"input", "br", "meta", "link", "img"}:
            return
        if self.depth:
            self.depth += 1
        elif self.css_class in (dict(attrs).get("class") or "").split():
            self.depth, self.current = 1, []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"input", "br", "meta", "link", "img"} or not self.depth:
            return
        self.depth -= 1
        if not self.depth:
            self.found.append(" ".join(" ".join(self.current).split()))

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.current.append(data)


def texts(response, css_class: str) -> list[str]:  # noqa: ANN001
    parser = _Collect(css_class)
    parser.feed(response.content.decode())
    return parser.found


def in_review(metric=None, *, facts=None, reason="The survey reports no fee, but a fee report exists."):  # noqa: ANN001, ANN201
    """A claim an automatic rule sent to staff review, through the service that does it."""
    claim = f.OutcomeClaimFactory(**({"metric": metric} if metric else {"metric__kind": MetricKind.ZERO_FEE}))
    return services.claim_send_to_review(
        claim=claim, rule="zero_fee", reason=reason, facts=ZERO_FEE_CONFLICT if facts is None else facts
    )


def waiting(metric=None, **fields):  # noqa: ANN001, ANN201
    """A claim the automatic rules have not settled yet."""
    return f.OutcomeClaimFactory(**({"metric": metric} if metric else {}), **fields)


# --- Who may open it ------------------------------------------------------------------------------------


def test_staff_open_the_queue(staff_client):
    assert staff_client.get(URL).status_code == 200


def test_funders_are_refused(funder_client):
    assert funder_client.get(URL).status_code == 403


def test_recruiters_are_refused(recruiter_client):
    assert recruiter_client.get(URL).status_code == 403


def test_anonymous_visitors_go_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["financing:claim-verify", "financing:claim-reject"])
def test_only_staff_may_decide(client, funder_user, recruiter_user, name):
    claim = waiting()
    url = reverse(name, args=[claim.pk])
    assert client.post(url, {"reason": "No."})["Location"].startswith(reverse("login"))
    for user in (funder_user, recruiter_user):
        client.force_login(user)
        assert client.post(url, {"reason": "No."}).status_code == 403
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CLAIMED and not claim.verifications.exists()


def test_deciding_is_a_post(staff_client):
    assert staff_client.get(reverse("financing:claim-verify", args=[waiting().pk])).status_code == 405


def test_an_unknown_claim_is_not_found(staff_client):
    assert staff_client.post(reverse("financing:claim-verify", args=[999_999])).status_code == 404


# --- What it shows --------------------------------------------------------------------------------------


def test_claims_in_review_come_first_then_the_oldest_claimed(staff_client):
    now = datetime.datetime.now(datetime.UTC)
    newer = waiting(claimed_at=now - datetime.timedelta(days=1))
    older = waiting(claimed_at=now - datetime.timedelta(days=9))
    review = in_review()
    waiting(status=ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 2, 1))  # decided: not in the queue
    waiting(status=ClaimStatus.REJECTED, rejection_reason="No attestation.")

    response = staff_client.get(URL)

    assert [item.claim.pk for item in response.context["items"]] == [review.pk, older.pk, newer.pk]
    assert len(texts(response, "queue-item")) == 3
    assert "3 claims waiting" in " ".join(texts(response, "page-head")).replace("\n", " ")
    assert "1 in review" in response.content.decode()


def test_an_item_shows_who_what_and_the_facts_for_and_against_in_words(staff_client):
    review = in_review()
    f.EvidenceFactory.create_batch(2, worker=review.worker, kind=EvidenceKind.WORKER_SURVEY)

    response = staff_client.get(URL)
    html = response.content.decode()

    (item,) = texts(response, "queue-item")
    assert reverse("programme:worker", args=[review.worker_id]) in html
    assert str(review.worker) in item
    assert review.worker.recruiter.organisation.name in item
    assert review.metric.contract.reference in item and review.metric.code in item
    assert "USD 500.00 for each verified unit, at most 1 per worker" in item  # the terms, in words
    assert "05 Jan 2026" in item  # achieved
    assert "2 documents" in item
    assert "The survey reports no fee, but a fee report exists." in item
    assert texts(response, "for") == ["The worker's survey reports no fee paid"]
    assert texts(response, "against") == ["Fee reported: Recruitment fee, GTQ 1,500.00"]
    assert "{" not in item and "survey_fee_paid" not in item  # never the raw JSON


def test_a_claim_the_rules_have_not_settled_shows_what_the_evidence_says_today(staff_client):
    claim = waiting(achieved_on=datetime.date(2026, 4, 6))
    f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))

    response = staff_client.get(URL)

    assert texts(response, "for") == ["Employment started on 06 Apr 2026"]
    assert texts(response, "against") == ["No source independent of the payee has confirmed the employment yet"]
    assert (
        "Waiting for the employer (an attestation or payroll), the worker's own answer, program staff or an "
        "independent verifier to confirm the employment." in texts(response, "queue-item")[0]
    )


def test_each_item_has_keyboard_friendly_forms_and_the_reason_is_required(staff_client):
    claim = waiting()
    html = staff_client.get(URL).content.decode()

    verify = reverse("financing:claim-verify", args=[claim.pk])
    reject = reverse("financing:claim-reject", args=[claim.pk])
    assert f'<form method="post" action="{verify}"' in html and f'hx-post="{verify}"' in html
    assert f'<form method="post" action="{reject}"' in html and f'hx-post="{reject}"' in html
    assert 'name="reason"' in html and " required " in html
    assert '<button class="btn btn-good" type="submit">Verify</button>' in html


def test_the_queue_filters_by_contract_and_by_pilot(staff_client):
    first, second = waiting(), waiting()

    by_contract = staff_client.get(URL, {"contract": first.metric.contract_id})
    by_pilot = staff_client.get(URL, {"pilot": second.metric.contract.pilot_id})

    assert [i.claim.pk for i in by_contract.context["items"]] == [first.pk]
    assert [i.claim.pk for i in by_pilot.context["items"]] == [second.pk]
    assert by_pilot.context["total"] == 1


@pytest.mark.parametrize("query", [{"contract": "abc"}, {"contract": "999999"}, {"pilot": "-1"}])
def test_a_bad_filter_is_a_clear_message_not_a_wider_list(staff_client, query):
    waiting()

    response = staff_client.get(URL, query)

    assert response.status_code == 400
    (errors,) = texts(response, "error")
    assert errors.startswith(next(iter(query)).capitalize() + ":")
    assert response.context["items"] == []


def test_the_queue_is_paged_by_25_with_the_total_waiting(staff_client):
    metric = f.OutcomeMetricFactory()
    f.OutcomeClaimFactory.create_batch(30, metric=metric)

    first = staff_client.get(URL)
    second = staff_client.get(URL, {"page": 2})

    assert (len(first.context["items"]), len(second.context["items"])) == (25, 5)
    assert first.context["total"] == 30 and "30 claims waiting" in " ".join(texts(first, "page-head"))
    assert "page=2" in first.content.decode()
    seen = {i.claim.pk for i in first.context["items"]} | {i.claim.pk for i in second.context["items"]}
    assert len(seen) == 30


def _mixed_queue(n: int) -> None:
    """``n`` claims over two contracts: a third in review, the rest waiting, each worker with evidence."""
    metrics = [f.OutcomeMetricFactory(kind=MetricKind.ZERO_FEE), f.OutcomeMetricFactory(kind=MetricKind.PLACED)]
    for i in range(n):
        claim = in_review(metrics[0]) if i % 3 == 0 else waiting(metrics[i % 2])
        f.EvidenceFactory(worker=claim.worker)


def test_the_queue_runs_the_same_few_queries_for_3_or_30_claims(staff_client):
    _mixed_queue(3)
    with page_queries() as few:
        assert staff_client.get(URL).status_code == 200
    _mixed_queue(27)
    with page_queries() as many:
        response = staff_client.get(URL)
    assert len(response.context["items"]) == 25
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Verify and reject ----------------------------------------------------------------------------------


def test_verify_without_htmx_redirects_back_to_the_queue_with_a_message(
    staff_client, staff_user, django_capture_on_commit_callbacks, monkeypatch
):
    claim = in_review()
    enqueued = []
    monkeypatch.setattr("financing.tasks.schedule_recompute_task.delay", enqueued.append)
    back = f"{URL}?contract={claim.metric.contract_id}"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("financing:claim-verify", args=[claim.pk]), {"next": back})

    assert (response.status_code, response["Location"]) == (302, back)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED and not claim.in_review
    assert claim.verifications.get(decision=Decision.VERIFIED).decided_by == staff_user
    assert enqueued == [claim.metric.contract_id]  # the schedule updates through the job
    page = staff_client.get(back)
    assert "Verified — the schedule will update" in texts(page, "messages")[0]
    assert page.context["items"] == []


def test_verify_with_htmx_replaces_the_item_with_one_line(staff_client, django_capture_on_commit_callbacks):
    claim = waiting()

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(reverse("financing:claim-verify", args=[claim.pk]), **HX)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="claim-{claim.pk}"' in html and "Verified — the schedule will update" in html
    assert "<form" not in html
    assert len(callbacks) == 1
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_reject_with_a_reason(staff_client, headers):
    claim = in_review()

    response = staff_client.post(
        reverse("financing:claim-reject", args=[claim.pk]), {"reason": "  Fee receipt found.  "}, **headers
    )

    claim.refresh_from_db()
    assert (claim.status, claim.rejection_reason) == (ClaimStatus.REJECTED, "Fee receipt found.")
    if headers:
        assert response.status_code == 200
        assert "Rejected: Fee receipt found." in response.content.decode()
    else:
        assert (response.status_code, response["Location"]) == (302, URL)
        assert "Rejected: Fee receipt found." in texts(staff_client.get(URL), "messages")[0]


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_a_reason_is_400_and_changes_nothing(staff_client, headers, reason):
    claim = in_review()

    response = staff_client.post(reverse("financing:claim-reject", args=[claim.pk]), {"reason": reason}, **headers)

    assert response.status_code == 400
    assert "Say why the claim is rejected" in texts(response, "error")[0]
    claim.refresh_from_db()
    assert (claim.status, claim.in_review) == (ClaimStatus.CLAIMED, True)
    assert list(claim.verifications.values_list("decision", flat=True)) == [Decision.NEEDS_REVIEW]
    assert "<form" in response.content.decode()  # the item again, to try once more


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_deciding_an_already_decided_claim_is_a_clear_error(staff_client, headers):
    claim = waiting(status=ClaimStatus.REJECTED, rejection_reason="No attestation.")

    response = staff_client.post(reverse("financing:claim-verify", args=[claim.pk]), **headers)

    assert response.status_code == 400
    (error,) = texts(response, "error")
    assert "Nothing changed" in error and "this one is rejected" in error
    assert 'name="reason"' not in response.content.decode()  # nothing left to decide
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED and not claim.verifications.exists()


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
@pytest.mark.parametrize("name", ["financing:claim-verify", "financing:claim-reject"])
def test_a_provider_s_own_staff_may_not_decide_its_claims(client, headers, name):
    claim = in_review()
    client.force_login(f.StaffUserFactory(organisation=claim.metric.contract.provider))

    response = client.post(reverse(name, args=[claim.pk]), {"reason": "Fine."}, **headers)

    assert response.status_code == 403
    assert "A provider's own users may not verify or decide the provider's claims." in texts(response, "error")[0]
    claim.refresh_from_db()
    assert (claim.status, claim.verifications.count()) == (ClaimStatus.CLAIMED, 1)


def test_a_maker_checker_refusal_from_the_service_surfaces_as_a_message(staff_client, monkeypatch):
    claim = waiting()

    def refuse(**kwargs):  # noqa: ANN003, ANN202
        raise PermissionDenied("Maker-checker: another staff member must decide this claim.")

    monkeypatch.setattr(services, "claim_verify", refuse)
    response = staff_client.post(reverse("financing:claim-verify", args=[claim.pk]), **HX)

    assert response.status_code == 403
    assert "Maker-checker: another staff member must decide this claim." in texts(response, "error")[0]
    assert OutcomeClaim.objects.get(pk=claim.pk).status == ClaimStatus.CLAIMED


def test_the_way_back_never_leaves_the_site(staff_client):
    claim = waiting()

    response = staff_client.post(
        reverse("financing:claim-verify", args=[claim.pk]), {"next": "https://evil.example/verification/"}
    )

    assert response["Location"] == URL


def test_the_queue_lets_htmx_show_a_refusal_in_place(staff_client):
    waiting()
    html = staff_client.get(URL).content.decode()
    # lamp/static/lamp/app.js swaps a 400 or 403 in place inside the marked element (no inline script: CSP).
    assert '<div id="queue-items" data-swap-refusals>' in html
    assert "/static/lamp/app.js" in html


# --- Facts in words -------------------------------------------------------------------------------------


def test_the_rules_facts_read_as_sentences():
    placed = facts_in_words({"employment_started": [], "employer_attestation": True})
    assert (placed.facts_for, placed.facts_against) == (["Employer attestation on file"], ["No employment has started"])

    retained = facts_in_words(
        {
            "retention_days": 180,
            "employments": [
                {"start": "2026-01-01", "end": "2026-03-01", "separation": "resigned"},
                {"start": "2026-04-01", "end": None, "separation": ""},
            ],
        }
    )
    assert retained.facts_against == [
        "Employment from 01 Jan 2026 ended on 01 Mar 2026 (resigned), after 59 days of the 180 required"
    ]
    assert retained.facts_for == ["Employed since 01 Apr 2026, no separation recorded; day 180 falls on 28 Sep 2026"]

    trained = facts_in_words(
        {"courses": [{"course": "English B1", "completed_on": "2026-02-01", "passed": False, "certificate": False}]}
    )
    assert trained.facts_against == [
        "English B1: completed on 01 Feb 2026, not passed",
        "No course completed, passed and certified yet",
    ]


def test_unknown_facts_are_shown_by_name_and_explicit_sides_are_kept():
    lines = facts_in_words(
        {"for": ["Payroll shows 6 months"], "against": "Employer disputes", "site_visit": "2026-05-02", "ok": False}
    )
    assert lines.facts_for == ["Payroll shows 6 months"]
    assert lines.facts_against == ["Employer disputes", "Ok: no"]
    assert lines.other == ["Site visit: 02 May 2026"]


def test_an_item_shows_the_latest_review_of_its_claim(staff_client):
    claim = in_review(reason="First look.")
    services.claim_send_to_review(claim=claim, rule="zero_fee", reason="Second look.", facts={"fee_paid": True})

    (item,) = staff_client.get(URL).context["items"]

    assert item.summary == "Second look."
    assert item.facts.facts_against == ["The worker's survey says a fee was paid"]
    assert Verification.objects.filter(claim=claim, decision=Decision.NEEDS_REVIEW).count() == 2
