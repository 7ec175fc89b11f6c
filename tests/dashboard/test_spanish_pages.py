"""A Spanish speaker reads the dashboard in Spanish: no English is left on the pages, the language switch
remembers the choice, and the API's errors answer in the language asked for.

The pages are read from one seeding of the demo (a small one) per module: each page's visible text (without
scripts and styles, with the ``title``, ``aria-label`` and ``placeholder`` attributes) has the data's own
words removed (names of people, organisations, pilots, places, contract references, free text a person
typed), then any text left with an English function word — one that never occurs in Spanish — is a string
someone forgot to translate, and the test lists it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from financing.models import OutcomeClaim, OutcomeMetric, RbfContract, Verification
from pilots.models import JobOpening, Organisation, Pilot, Sector, User
from recruitment.models import Recruiter
from tests import factories
from workers.models import Employment, Evidence, JourneyEvent, TrainingEnrollment, Worker

#: Whole English words that are not Spanish words: "a", "no", "de", "en", "es", "has", "con", "me", "in"
#: (inside "check-in") and "per" are left out, since Spanish has them or uses them.
ENGLISH_ONLY = (
    "the", "and", "of", "with", "is", "are", "not", "to", "for", "this", "these", "that", "by", "at", "from",
    "was", "were", "been", "have", "which", "will", "into", "only", "their", "they", "your", "yet", "or",
    "on", "it", "its", "there", "what", "when", "who", "after", "before", "all", "any", "each", "every",
    "no longer", "nothing", "none", "see", "show", "here", "than", "between", "under", "over", "would",
)  # fmt: skip
ENGLISH = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in ENGLISH_ONLY) + r")(?![\w-])", re.IGNORECASE)


class _Text(HTMLParser):
    """The text a person reads or hears: data outside scripts and styles, and a few attributes."""

    ATTRIBUTES = ("title", "aria-label", "placeholder")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in self.ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return [" ".join(part.split()) for part in parser.parts]


def data_words() -> list[str]:
    """Every text the database holds that a page may show as it is: longest first, so that a name inside a
    longer name is removed with it."""
    texts: set[str] = set()
    for model, fields in (
        (Organisation, ("name",)),
        (Pilot, ("name", "pathway", "description")),
        (Sector, ("name",)),
        (User, ("username", "first_name", "last_name")),
        (Worker, ("given_names", "family_names")),
        (JobOpening, ("title", "location")),
        (RbfContract, ("reference", "name")),
        (OutcomeMetric, ("code", "name")),
        (OutcomeClaim, ("rejection_reason",)),
        (Verification, ("reason", "rule")),
        (Recruiter, ("licence_number",)),
        (Evidence, ("reference", "description")),
        (TrainingEnrollment, ("course",)),
        (JourneyEvent, ("note", "override_reason")),
        (Employment, ("note",)),
    ):
        for row in model.objects.values_list(*fields):
            texts.update(str(value) for value in row if value)
    for user in User.objects.all():
        texts.add(str(user))
    return sorted(texts, key=len, reverse=True)


def english_left(html: str, words: list[str]) -> list[str]:
    """The texts of a page still in English once the data's own words are taken out."""
    found = []
    for text in visible_text(html):
        stripped = text
        if text.endswith("…") and any(word.startswith(text[:-1]) for word in words):
            continue  # a long name shortened to fit a column
        for word in words:
            if word in stripped:
                stripped = stripped.replace(word, " ")
        if ENGLISH.search(stripped):
            found.append(text)
    return sorted(set(found))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Iterator[list[str]]:  # noqa: ANN001 - pytest-django's
    """One small demo for the whole module, rolled back at its end; the data's words to take out."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", workers=24, password="spanish-pass", stdout=io.StringIO())
        yield data_words()
        transaction.set_rollback(True)


def _client(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(User.objects.get(username=username))
    return client


def _first(model: type, **filters: object) -> int:
    return model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True)[0]


PAGES = {
    "overview": lambda: "/pilots/",
    "pilot": lambda: f"/pilots/{_first(Pilot)}/",
    "scorecards": lambda: "/recruiters/",
    "scorecard": lambda: f"/recruiters/{_first(Recruiter)}/",
    "queue": lambda: "/verification/",
    "decisions": lambda: "/verification/decisions/",
    "contracts": lambda: "/contracts/",
    "contract": lambda: f"/contracts/{_first(RbfContract)}/",
    "workers": lambda: "/workers/",
    "try-terms": lambda: f"/contracts/{_first(RbfContract, status='active')}/try-terms/",
    "history": lambda: f"/contracts/{_first(RbfContract)}/history/",
    "claims": lambda: "/claims/",
    "claim": lambda: f"/claims/{_first(OutcomeClaim, status='verified')}/",
    "rejected-claim": lambda: f"/claims/{_first(OutcomeClaim, status='rejected')}/",
    "worker": lambda: f"/workers/{_worker_with_claims()}/",
    "glossary": lambda: "/money/",
    "portal": lambda: "/portal/",
    "portal-workers": lambda: "/portal/workers/",
    "portal-worker": lambda: f"/portal/workers/{_own_claim().worker_id}/",
    "portal-claims": lambda: "/portal/claims/",
    "portal-claim": lambda: f"/portal/claims/{_own_claim(status='rejected').pk}/",
    "portal-contracts": lambda: "/portal/contracts/",
    "portal-tokens": lambda: "/portal/tokens/",
    "portal-contract": lambda: f"/contracts/{_first(RbfContract)}/",
}
STAFF_ONLY = {"queue", "decisions", "workers", "try-terms", "claims", "claim", "rejected-claim", "worker", "history"}
#: The recruiter's own pages, read as the demo's recruiter (whose records the first rows are).
RECRUITER_ONLY = {page for page in PAGES if page.startswith("portal")}


def _own_claim(**filters: object) -> OutcomeClaim:
    """The first claim of the demo's recruiter login (with ``filters``)."""
    user = User.objects.get(username="recruiter")
    return OutcomeClaim.objects.visible_to(user).filter(**filters).order_by("pk").first()


def _worker_with_claims() -> int:
    return OutcomeClaim.objects.order_by("pk").values_list("worker_id", flat=True)[0]


def _cases() -> list[object]:
    cases = []
    for username in ("staff", "funder", "recruiter"):
        for page in PAGES:
            if (username == "recruiter") != (page in RECRUITER_ONLY):
                continue
            if username == "funder" and page in STAFF_ONLY:
                continue
            cases.append(pytest.param(username, page, id=f"{username}-{page}"))
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "page"), _cases())
def test_spanish_pages_have_no_english_left(demo, username, page):
    response = _client(username).get(PAGES[page]())
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert english_left(html, demo) == []


@pytest.mark.django_db
def test_refusals_and_missing_pages_are_spanish(demo, staff_user):
    """The 403 page a recruiter gets, the 404 page, a recruiter with no profile yet, and a refused decision."""
    forbidden = _client("recruiter").get("/pilots/")
    assert forbidden.status_code == 403
    assert "Esta página no está disponible para usted" in forbidden.content.decode()
    assert english_left(forbidden.content.decode(), demo) == []

    missing = _client("staff").get("/pilots/999999/")
    assert missing.status_code == 404
    assert "No encontrado" in missing.content.decode()
    assert english_left(missing.content.decode(), demo) == []

    no_profile = Client(HTTP_ACCEPT_LANGUAGE="es")
    no_profile.force_login(factories.RecruiterUserFactory(organisation=factories.OrganisationFactory(kind="recruiter")))
    page = no_profile.get("/recruiters/").content.decode()
    assert "Aún no hay ficha de desempeño" in page
    assert english_left(page, demo) == []

    claim = OutcomeClaim.objects.filter(status="claimed").order_by("pk").first()
    refused = _client("staff").post(f"/verification/{claim.pk}/reject/", {"reason": "  "})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Decidir una reclamación" in html
    assert "No se cambió nada. Indique por qué se rechaza la reclamación: el proveedor leerá el motivo." in html


def test_the_finder_finds_english_and_spares_spanish_and_data():
    """The check itself: English sentences are caught, Spanish ones and the data's names are not."""
    html = (
        '<p>Claims waiting for a decision</p><p title="Not signed.">Firmado</p>'
        "<p>No hay reclamaciones en revisión: el tramo de la cohorte está pagado.</p>"
        "<script>var the = 'and';</script><p>Harvest of the Valley</p>"
    )
    assert english_left(html, ["Harvest of the Valley"]) == ["Claims waiting for a decision", "Not signed."]


# --- Choosing the language ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_follows_accept_language(client):
    spanish = client.get("/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Iniciar sesión" in spanish
    assert '<html lang="es">' in spanish
    assert english_left(spanish, []) == []
    english = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Log in" in english
    assert '<html lang="en">' in english


@pytest.mark.django_db
def test_the_switch_remembers_the_choice(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    page = client.get("/pilots/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'action="/i18n/setlang/"' in page and 'value="es"' in page  # the switch is in the header
    token = client.cookies[settings.CSRF_COOKIE_NAME].value

    assert client.post("/i18n/setlang/", {"language": "es", "next": "/pilots/"}).status_code == 403  # no CSRF
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/pilots/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == "/pilots/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "es"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600  # remembered, not for the session only

    # The next page is Spanish even though the browser asks for English.
    overview = client.get("/pilots/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in overview
    assert "Resumen" in overview
    assert "Cerrar sesión" in overview
    staff_user.refresh_from_db()
    assert staff_user.language == "es"  # kept on the account: for emails, and for a login elsewhere

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/pilots/", "csrfmiddlewaretoken": token})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log out" in client.get("/pilots/").content.decode()


@pytest.mark.django_db
def test_logging_in_on_another_device_speaks_the_language_chosen_before(staff_user):
    staff_user.set_password("a-long-pass-phrase")
    staff_user.language = "es"
    staff_user.save()
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")  # a new device: no language cookie, an English browser
    response = browser.post("/login/", {"username": staff_user.username, "password": "a-long-pass-phrase"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert '<html lang="es">' in browser.get("/pilots/").content.decode()


@pytest.mark.django_db
def test_an_anonymous_switch_keeps_only_the_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/login/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert not User.objects.exclude(language="").exists()


@pytest.mark.django_db
def test_the_switch_refuses_a_foreign_next(staff_client):
    response = staff_client.post("/i18n/setlang/", {"language": "es", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


# --- The API's errors ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_errors_answer_in_spanish(staff_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(staff_user)

    unknown = client.get("/api/v1/no-such-endpoint/")
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("No hay ningún endpoint de la API")

    missing = client.get("/api/v1/contracts/999999/")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No hay ningún RbfContract que coincida con la consulta."

    bad_filter = client.get("/api/v1/claims/", {"contract": "abc"})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["errors"] == [{"field": "contract", "message": "Introduzca un número."}]  # Django's

    bad_cursor = client.get("/api/v1/claims/", {"cursor": "nonsense"})
    assert bad_cursor.status_code == 400
    body = bad_cursor.json()
    assert body["errors"] == [{"field": "cursor", "message": body["detail"]}]
    assert body["detail"].startswith("Este cursor no pertenece")

    anonymous = Client(HTTP_ACCEPT_LANGUAGE="es").get("/api/v1/claims/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "Token no válido."

    # The same in English, for a client that asks for it.
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(staff_user)
    assert english.get("/api/v1/no-such-endpoint/").json()["detail"].startswith("No API endpoint at this URL")
