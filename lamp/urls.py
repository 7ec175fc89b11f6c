from csp import constants as csp_constants
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from lamp import accounts, views
from programme import views as programme_views
from workers import views as workers_views

admin.site.site_header = "LaMP pilot platform"
admin.site.site_title = "LaMP admin"
admin.site.index_title = "Pilots, partners, workers and results-based financing"

#: Swagger UI sets style attributes as it draws; its page alone (which shows no data) allows them. Scripts
#: stay this site's files only.
_INLINE_STYLES = {"style-src": [csp_constants.UNSAFE_INLINE]}
api_docs = csp_update(_INLINE_STYLES)(
    csp_update(_INLINE_STYLES, REPORT_ONLY=True)(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))
)

urlpatterns = [
    path("", programme_views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", accounts.two_factor_exempt(auth_views.LogoutView.as_view()), name="logout"),
    # The second factor: enrol an authenticator app, and give its code after the password (lamp.accounts).
    path("account/two-factor/", accounts.two_factor_enrol, name="account-enrol"),
    path("account/verify/", accounts.two_factor_verify, name="account-verify"),
    # The language switch: Django's set_language (POST, CSRF) keeps the choice in the language cookie, and
    # on the signed-in user's account.
    path("i18n/setlang/", views.set_language, name="set_language"),
    # Pages that combine the apps: the overview, pilot pages, a worker's page, the scorecards and the recruiter portal.
    path("", include("programme.urls")),
    path("workers/", include("workers.urls")),
    # A worker's check-in, by the link sent to them: short, for an SMS.
    path("c/<str:secret>/", workers_views.check_in, name="check-in"),
    path("", include("financing.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("lamp.api")),
    # The OpenAPI 3 schema and its Swagger UI, public: they describe the endpoints, not any data.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script), so the page needs no inline script.
    path("api/docs/", api_docs, name="api-docs"),
]

# An unknown URL under /api/ answers in the API's JSON error shape; elsewhere, the usual page.
handler404 = "lamp.api.not_found"
