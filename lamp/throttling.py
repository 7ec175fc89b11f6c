"""Request rate limits of the REST API, counted in the shared cache.

Each caller has its own budget: a token its own (two systems of one partner, each with its token, do not
starve each other), a browser session its user's, an anonymous caller its IP address. The counts live in
the default cache, which is Redis when ``REDIS_URL`` is set; a per-process memory cache would give every
server process a budget of its own and so multiply the limit by their number.

Rates are read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` at each request rather than once at
import (DRF's ``SimpleRateThrottle`` reads them once), so a settings override applies at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from pilots.models import ApiToken

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES) while it loads
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _RateFromSettings(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as error:
            message = f"REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] has no rate {self.scope!r}"
            raise ImproperlyConfigured(message) from error


class ClientRateThrottle(_RateFromSettings):
    """Signed-in callers: one budget per token, or per user for a browser session (rate ``client``)."""

    scope = "client"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None  # AnonRateThrottle's
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(_RateFromSettings):
    """Anonymous callers (the schema, the docs), one budget per IP address (rate ``anon``)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"ip:{self.get_ident(request)}"}
