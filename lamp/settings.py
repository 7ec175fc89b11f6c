"""Settings for the LaMP pilot platform, read from the environment.

Two modes, chosen by ``LAMP_ENV``:

- ``development`` (the default): runs on a fresh machine with nothing configured. Without
  ``DATABASE_URL`` an embedded PostgreSQL starts under ``.lamp/pgdata``; without ``REDIS_URL``
  Celery tasks run in-process and the cache is per process. Secrets are generated once into
  ``.lamp/secrets/``.
- ``production``: refuses to start without ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL``,
  ``FIELD_ENCRYPTION_SALT`` and ``IDENTITY_HASH_KEY``, with a weak one of them, with ``*`` in
  ``ALLOWED_HOSTS`` or with ``DEBUG`` on (lamp/secrets_policy.py), and turns on every HTTPS protection that
  ``manage.py check --deploy`` asks for. ``LAMP_BUILD=1`` is the image build's ``collectstatic`` alone.

``DEBUG`` is off in both unless ``DEBUG=true`` is set. The README lists every variable.
"""

from __future__ import annotations

import datetime
import secrets
import sys
from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab
from csp import constants as csp_constants
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured

# Also registers the deploy checks of the same rules (manage.py check --deploy).
from lamp.secrets_policy import require_strong_production_settings

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(environ.Env().str("LAMP_STATE_DIR", default=str(BASE_DIR / ".lamp")))

env = environ.Env()
# Variables may also come from a file named by LAMP_ENV_FILE (the environment wins). Not a default
# .env: that name usually holds a deployment's secrets (docker compose reads it), not a developer's.
if environ.Env().str("LAMP_ENV_FILE", default=""):
    environ.Env.read_env(environ.Env().str("LAMP_ENV_FILE"), overwrite=False)

LAMP_ENV = env.str("LAMP_ENV", default="development")
if LAMP_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"LAMP_ENV must be 'development' or 'production', not {LAMP_ENV!r}")
PRODUCTION = LAMP_ENV == "production"
# The image build (Dockerfile) runs `LAMP_BUILD=1 python manage.py collectstatic` with no secrets and no database.
# The flag allows that command alone: the secrets are throwaway values made for the process, no host is allowed
# (every request would be refused) and the database does not exist, so a build setting cannot serve anything.
LAMP_BUILD = env.bool("LAMP_BUILD", default=False)
if LAMP_BUILD and (not PRODUCTION or sys.argv[1:2] != ["collectstatic"]):
    raise ImproperlyConfigured(
        "LAMP_BUILD=1 is for the image build's `manage.py collectstatic` with LAMP_ENV=production only; "
        "unset it to run anything else"
    )

DEBUG = env.bool("DEBUG", default=False)


def _secret(name: str, *, length: int = 50) -> str:
    """A secret from the environment; in development, one generated once and kept under ``.lamp``."""
    if LAMP_BUILD:
        return secrets.token_urlsafe(length)  # the build's throwaway value, never stored
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when LAMP_ENV=production")
    path = STATE_DIR / "secrets" / name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(length))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY")
# Identity document numbers are encrypted with keys derived from SECRET_KEY and this salt
# (django-fernet-encrypted-fields); rotating SECRET_KEY needs the old one in SECRET_KEY_FALLBACKS.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
SALT_KEY = _secret("FIELD_ENCRYPTION_SALT", length=24)
# Former salts, still accepted for decryption while values are rewritten under the current one (which encrypts).
if _salt_fallbacks := env.list("FIELD_ENCRYPTION_SALT_FALLBACKS", default=[]):
    SALT_KEY = [SALT_KEY, *_salt_fallbacks]
# Key of the HMAC that lets duplicate identity documents be found without decrypting every row.
IDENTITY_HASH_KEY = _secret("IDENTITY_HASH_KEY")

_LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
ALLOWED_HOSTS = [] if LAMP_BUILD else env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else _LOCAL_HOSTS)
if PRODUCTION and not LAMP_BUILD and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when LAMP_ENV=production")
if PRODUCTION and not LAMP_BUILD:
    # Weak secrets, '*' in ALLOWED_HOSTS and DEBUG: one error naming every variable at fault.
    require_strong_production_settings(
        secret_key=SECRET_KEY,
        salt=SALT_KEY,
        identity_hash_key=IDENTITY_HASH_KEY,
        allowed_hosts=ALLOWED_HOSTS,
        debug=DEBUG,
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before django.contrib.admin: its admin templates add the "Events" (history) button to every page.
    "pghistory.admin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django_countries",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    # Failed logins counted and locked out (lamp.accounts); a second factor for staff and admins.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "pgtrigger",
    "pghistory",
    "pilots",
    "recruitment",
    "workers",
    "financing",
    # The top layer: pages, API answers and the demo world that combine the apps above.
    "programme",
    # The project package itself: the dashboard's layout helpers, template tags and vendored assets.
    "lamp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header (CONTENT_SECURITY_POLICY below), early so that the pages other
    # middleware answer with (a refused body, a lockout) carry it too.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (Django's order), before CommonMiddleware: the language of a page is the switch's
    # cookie, else the browser's Accept-Language, else LANGUAGE_CODE; the API's errors follow it too.
    "django.middleware.locale.LocaleMiddleware",
    # Bodies over their endpoint's limit, unreadable forms and NUL characters: refused before any view (or the
    # CSRF check) reads them, in the API's error shape under /api/ and as a page elsewhere.
    "lamp.middleware.RequestLimitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.user.is_verified(): whether this session passed its second factor (django-otp). Then the
    # staff's shorter sessions and the second-factor gate (lamp.accounts).
    "django_otp.middleware.OTPMiddleware",
    "lamp.accounts.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Every write in a request carries the acting user into the history tables.
    "pghistory.middleware.HistoryMiddleware",
    # Last, as django-axes asks: turns a locked-out login into lamp.accounts' lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lamp.urls"
WSGI_APPLICATION = "lamp.wsgi.application"
AUTH_USER_MODEL = "pilots.User"
# Django's backend, with the user's organisation loaded in the same query (every page names it).
# First, django-axes' check of failed logins (lamp.accounts.LoginAttemptBackend): a locked-out login is refused
# before any password is tried.
AUTHENTICATION_BACKENDS = ["lamp.accounts.LoginAttemptBackend", "pilots.auth_backends.ModelBackend"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lamp.context_processors.dashboard",
            ],
        },
    },
]

# --- Database: PostgreSQL only -------------------------------------------------------------------

if LAMP_BUILD:
    DATABASES = {"default": environ.Env.db_url_config("postgres://lamp-build.invalid/none")}  # never connected
elif env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    # A Unix socket folder given as a percent-encoded host (postgres://user@%2Fvar%2Frun%2Fpostgresql/db).
    DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST") or "")
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL must be set when LAMP_ENV=production")
else:
    from lamp.embedded_postgres import embedded_database

    DATABASES = {"default": embedded_database(STATE_DIR / "pgdata")}

if DATABASES["default"]["ENGINE"] not in {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}:
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…): it is the only engine")
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# PostgreSQL's JIT compiles a query's expressions before running it; for the dashboard's short aggregate reads
# it costs more than it saves (seconds, not milliseconds, on some sorted lists at 100,000 workers). Off for this
# application's connections only; DATABASE_JIT=on restores the server's default.
if not env.bool("DATABASE_JIT", default=False):
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and shared cache -------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: JSON only; a task is acknowledged after it ran, so a worker lost mid-task leaves it to be
# redelivered (every task is safe to run twice); hard time limit below the broker's visibility
# timeout so a running task is never handed to a second worker.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="lamp")
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Without Redis there is no worker: tasks run in-process, at the moment they are sent.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE = {
    # The safety net: re-verify and recompute every active contract once a night, in case an event
    # was missed. Day-to-day, each change enqueues its own contract's recompute.
    "nightly-verify-and-recompute": {
        "task": "financing.tasks.nightly_safety_net_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # The kept answers of Idempotency-Key requests, once they no longer count (IDEMPOTENCY_TTL_HOURS, 24 by
    # default): they may hold personal data. See lamp.idempotency.
    "purge-idempotency-records": {
        "task": "lamp.tasks.purge_idempotency_records_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # Each pilot's staff are told, every morning, of its tranches past their due date and not paid in full.
    "overdue-tranches-digest": {
        "task": "financing.tasks.overdue_digest_task",
        "schedule": crontab(hour=7, minute=0),
    },
    # The workers' check-ins due by each pilot's moments, reminders of the unanswered, and the outbox.
    "check-ins-due": {
        "task": "workers.tasks.check_ins_due_task",
        "schedule": crontab(hour=6, minute=0),
    },
    # Retention: erase the workers a report announced RETENTION_NOTICE_DAYS ago, then report who is next.
    "retention-erasure": {
        "task": "workers.tasks.retention_task",
        "schedule": crontab(hour=4, minute=0),
    },
}

# --- Messages to workers: their check-in links by email and SMS -------------------------------------

# Where the links sent to workers point: the platform's public address (in production, by default, the first
# of ALLOWED_HOSTS over HTTPS).
LAMP_PUBLIC_URL = env.str("LAMP_PUBLIC_URL", default="") or (
    f"https://{ALLOWED_HOSTS[0]}" if PRODUCTION and ALLOWED_HOSTS else "http://127.0.0.1:8000"
)
# Email through Django's mail backends: EMAIL_URL=smtp://user:password@host:587/?tls=True in production;
# the console (the message printed) by default.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LaMP pilot platform <no-reply@lamp.example>")
# SMS through django-sms: its console backend by default; workers.sms.HttpGatewaySmsBackend hands each message
# to an HTTP gateway (SMS_GATEWAY_URL, with SMS_GATEWAY_TOKEN as a bearer token).
SMS_BACKEND = env.str("SMS_BACKEND", default="sms.backends.console.SmsBackend")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_ORIGINATOR = env.str("SMS_ORIGINATOR", default="LaMP")
# The check-in page: requests from one address a minute, and answers sent to one link in ten minutes.
CHECK_IN_RATE_PER_ADDRESS = env.int("CHECK_IN_RATE_PER_ADDRESS", default=60)
CHECK_IN_POSTS_PER_LINK = env.int("CHECK_IN_POSTS_PER_LINK", default=10)
# How long a staff member may reopen their own verification or rejection of a claim (financing.services.claim_reopen).
DECISION_UNDO_MINUTES = env.int("DECISION_UNDO_MINUTES", default=10)
# How long a reveal of a worker's personal data shows the values (workers.services.personal_data_reveal).
PERSONAL_DATA_REVEAL_MINUTES = env.int("PERSONAL_DATA_REVEAL_MINUTES", default=5)
# The version of the consent text workers agree to now, kept with each consent (workers.consent).
CONSENT_TEXT_VERSION = env.str("CONSENT_TEXT_VERSION", default="2026-01")
# Personal data of workers of a pilot closed more than this many years ago is erased (workers.retention), each
# worker announced by a retention report at least RETENTION_NOTICE_DAYS days before.
RETENTION_YEARS_AFTER_PILOT_CLOSE = env.int("RETENTION_YEARS_AFTER_PILOT_CLOSE", default=5)
RETENTION_NOTICE_DAYS = env.int("RETENTION_NOTICE_DAYS", default=14)

# --- Auth, i18n, static ---------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins (django-axes, in every mode): after LOGIN_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is locked out for LOGIN_COOLOFF_MINUTES (every further try restarts the wait); a
# success clears the count. By username *and* address: one address cannot guess a password, yet nobody can
# lock a staff member out from elsewhere just by knowing their username. LOGIN_LOCKOUT_BY changes it: a comma
# between alternatives, "+" inside a combination ("username", "ip_address", "username+ip_address").
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
_lockout_by = env.list("LOGIN_LOCKOUT_BY", default=["username+ip_address"])
AXES_LOCKOUT_PARAMETERS = [part.split("+") if "+" in part else part for part in _lockout_by]
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME <= datetime.timedelta(0):
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be at least 1")
if not _lockout_by or {name for part in _lockout_by for name in part.split("+")} - {"username", "ip_address"}:
    raise ImproperlyConfigured("LOGIN_LOCKOUT_BY must name 'username' and/or 'ip_address', e.g. username+ip_address")
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_LOCKOUT_CALLABLE = "lamp.accounts.lockout_response"
# The caller's address: REMOTE_ADDR, or behind LOGIN_PROXY_COUNT proxies of our own, the address the outermost
# of them saw in X-Forwarded-For (never trusted without such proxies: a client could write any address there).
AXES_CLIENT_IP_CALLABLE = "lamp.accounts.client_ip"
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0)
AXES_VERBOSE = False

# A second factor (a TOTP app, django-otp) for program staff and admin users: required when LAMP_REQUIRE_2FA
# (in production by default; off in development, where the demo logins work with their password alone).
# Anyone who enrols a device is asked for its code at every login, whatever this says.
LAMP_REQUIRE_2FA = env.bool("LAMP_REQUIRE_2FA", default=PRODUCTION)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="LaMP pilot platform")
# Sessions: partners keep Django's two weeks; program staff and admin users are logged out after
# STAFF_SESSION_HOURS from their login, or STAFF_SESSION_IDLE_MINUTES without a request.
STAFF_SESSION_HOURS = env.int("STAFF_SESSION_HOURS", default=8)
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)

LANGUAGE_CODE = "en"
# Tagalog, for the workers of the Philippine corridor: Django ships no Tagalog of its own, so its name is
# given here; the platform's own words are in locale/tl/.
LANG_INFO.setdefault("tl", {"bidi": False, "code": "tl", "name": "Tagalog", "name_local": "Tagalog"})
LANGUAGES = [("en", "English"), ("es", "Español"), ("tl", "Tagalog")]
# The dashboard's language switch (templates/dashboard/base.html) offers English and Spanish and keeps the
# choice a year in this cookie; Tagalog is translated only where a worker reads (check-ins), so it is not offered.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(STATE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production WhiteNoise serves straight from the apps' static folders: no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- Request bodies -------------------------------------------------------------------------------
# The most bytes a request body may hold: REQUEST_BODY_MAX_BYTES for every endpoint and form, and more for
# those named here by URL name (the bulk imports take 10,000 rows, about 3.3 MB of JSON; an evidence upload
# a file of up to 10 MiB). Over it, a 413 (lamp/middleware.py, lamp/parsers.py).
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)
REQUEST_BODY_MAX_BYTES_BY_URL = {
    "worker-import": 16 * 1024 * 1024,
    "payroll-import": 16 * 1024 * 1024,
    "contract-simulate": 16 * 1024 * 1024,
    "worker-evidence": 11 * 1024 * 1024,
    "programme:worker-evidence": 11 * 1024 * 1024,
    "admin:workers_evidence_add": 11 * 1024 * 1024,
    "admin:workers_evidence_change": 11 * 1024 * 1024,
}
# Django's own bound on what it reads into memory (the largest limit above; files go to disk past
# FILE_UPLOAD_MAX_MEMORY_SIZE), and on the fields and files of one form (Django's defaults).
DATA_UPLOAD_MAX_MEMORY_SIZE = max(REQUEST_BODY_MAX_BYTES, *REQUEST_BODY_MAX_BYTES_BY_URL.values())
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 100

# --- REST API -------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Partners' systems send a token; staff in the browser use their session. The token class is first:
    # its "Bearer" challenge makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "lamp.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Counted per token (per user for a session, per IP when anonymous) in the default cache: Redis when
    # REDIS_URL is set, so every server process shares one count.
    "DEFAULT_THROTTLE_CLASSES": ["lamp.throttling.ClientRateThrottle", "lamp.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "client": env.str("API_THROTTLE_RATE", default="1200/min"),
        "anon": env.str("API_ANON_THROTTLE_RATE", default="60/min"),
        # The contract simulator's own budget, besides the client's (``financing.api.views.SimulateThrottle``).
        "simulate": env.str("API_SIMULATE_THROTTLE_RATE", default="30/min"),
    },
    "EXCEPTION_HANDLER": "lamp.api.exception_handler",
    # DRF's parsers bounded (lamp/parsers.py): the endpoint's body size, JSON at most 32 deep, no NUL character.
    "DEFAULT_PARSER_CLASSES": [
        "lamp.parsers.JSONParser",
        "lamp.parsers.FormParser",
        "lamp.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "LaMP pilot platform API",
    "DESCRIPTION": (
        "The REST API of the LaMP pilot platform: labor-mobility pilots paid by results-based financing. "
        "Partner systems authenticate with a bearer token issued by the platform staff "
        "(`Authorization: Bearer lamp_…`); staff may also use their browser session. "
        'Every error answers `{"detail": "<summary>", "errors": [{"field": "<path or null>", "message": "<text>"}]}`; '
        "a 429 carries a `Retry-After` header."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",  # operations are tagged by resource (contracts, workers…), not "v1"
    "SERVE_INCLUDE_SCHEMA": False,
    # One enum for every currency field (wage, contract, fee…), rather than one per field.
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "lamp.currencies.CURRENCY_CHOICES",
        "SourceEnum": "workers.models.Source",
        "FeeSourceEnum": "workers.models.FeeSource",
        "TrancheStatusEnum": "financing.models.TrancheStatus",
        "ConsentChannelEnum": "workers.models.ConsentChannel",
        "AccessChannelEnum": "workers.models.AccessChannel",
        "OutboxChannelEnum": "workers.models.OutboxChannel",
    },
    # The schema documents endpoints, not data: anyone may read it, as the docs page must.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: no CDN, nothing fetched elsewhere.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- History (django-pghistory): database triggers, so update() and bulk writes are kept too ------

PGHISTORY_APPEND_ONLY = True
# The events pages show who made each change and from which page.
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"
# The middleware attaches the user and URL to the writes of a request. Reads write nothing tracked, so
# GET and HEAD are left out: wrapping them cost every query of every API read a context check.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# --- Security -------------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles and everything else from this site only, no inline
# script, style attribute or <style> block (tests/test_csp.py scans the templates for them), no plug-ins, no
# framing. CSP_REPORT_ONLY sends it as Content-Security-Policy-Report-Only instead (browsers report, block
# nothing), for trying a change of policy; CSP_REPORT_URI is where browsers send their reports.
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF],
        "img-src": [csp_constants.SELF, "data:"],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.NONE],
        "frame-ancestors": [csp_constants.NONE],
        "form-action": [csp_constants.SELF],
        "report-uri": env.str("CSP_REPORT_URI", default="") or None,
    },
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
    CONTENT_SECURITY_POLICY = None
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers check health over plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "pgserver": {"level": "WARNING"}},
}
