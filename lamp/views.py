from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import i18n

from lamp import accounts


@accounts.two_factor_exempt
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and Compose health checks: answers only when the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class LoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: auth_views.AuthenticationForm) -> HttpResponse:
        """Log in, then speak the language the user chose before, on this device too."""
        response = super().form_valid(form)
        language = getattr(form.get_user(), "language", "")
        if language:
            _language_cookie(response, language)
        return response

    def get_success_url(self) -> str:
        """Where the login leads; first, for a user who owes a second factor, the page that asks for it."""
        url = super().get_success_url()
        if accounts.verification_pending(self.request):
            return accounts.verify_url(next_url=url)
        return url


@accounts.two_factor_exempt
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch: Django's ``set_language`` (POST, CSRF, the cookie, a safe ``next``), and for a
    signed-in user the choice kept on their account, for their emails and their next login elsewhere."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    user_model = get_user_model()
    kept = dict(user_model._meta.get_field("language").choices or ())
    if request.user.is_authenticated and language in kept and response.status_code == 302:
        user_model.objects.filter(pk=request.user.pk).update(language=language)
    return response


def _language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
