"""Request rate limits of the REST API, counted in the shared cache.

Each caller has its own budget: a token its own (two systems of one partner, each with its token, do not
starve each other), a browser session its user's, an anonymous caller its IP address. The counts live in
the default cache, which is Redis when ``REDIS_URL`` is set; a per-process memory cache would give every
server process a budget of its own and so multiply the limit by their number.

The count is a sliding window estimated from two fixed windows (the current one and the one before,
weighted by how much of it still lies within the last period), as rate limiters at scale do: two integer
counters per caller, whatever the rate. A refused request is taken back off the count, as DRF does not
count it either. DRF's ``SimpleRateThrottle`` instead keeps the timestamp of every
request of the period in one cached list, read and rewritten whole on each request: at 1,200 a minute
that is a 10 KiB value per request, and it was the largest fixed cost of an API read. On Redis the
increment and the read are one pipelined round trip, atomic per counter, so concurrent requests of
several server processes are all counted.

Rates are read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` at each request rather than once at
import (DRF's ``SimpleRateThrottle`` reads them once), so a settings override applies at once.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from lamp.models import ApiToken

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES) while it loads
    from rest_framework.request import Request
    from rest_framework.views import APIView


def window_counts(key: str, *, window: int, duration: int) -> tuple[int, int]:
    """Count one request in the current window of ``key``; return (previous window's, current window's) counts.

    Each window's counter expires two periods after it opens, once nothing can read it any more.
    """
    current, previous = f"{key}:{window}", f"{key}:{window - 1}"
    if isinstance(cache, RedisCache):
        current_key, previous_key = cache.make_and_validate_key(current), cache.make_and_validate_key(previous)
        client = cache._cache.get_client(current_key, write=True)
        pipe = client.pipeline()
        pipe.incr(current_key)
        pipe.expire(current_key, 2 * duration)
        pipe.get(previous_key)
        count, _, before = pipe.execute()
        # A counter is stored by INCR as a plain integer, which the cache's own reads would not unpickle.
        return int(before or 0), int(count)
    # Any other cache (the per-process memory cache of development and tests): add-then-incr is atomic
    # within the cache's own locking, which is all a single process needs.
    cache.add(current, 0, timeout=2 * duration)
    try:
        count = cache.incr(current)
    except ValueError:  # expired between the two calls
        cache.set(current, 1, timeout=2 * duration)
        count = 1
    return int(cache.get(previous) or 0), count


def window_uncount(key: str, *, window: int) -> None:
    """Take back the request just counted in the current window (a refused request uses no budget)."""
    current = f"{key}:{window}"
    if isinstance(cache, RedisCache):
        current_key = cache.make_and_validate_key(current)
        cache._cache.get_client(current_key, write=True).decr(current_key)
        return
    try:
        cache.decr(current)
    except ValueError:  # already expired: nothing to take back
        pass


def sliding_window_wait(key: str, *, allowed: int, duration: int) -> float | None:
    """Count one request of ``key`` against ``allowed`` per ``duration`` seconds: ``None`` when it may go on,
    else the seconds to wait (and the request is not counted: a refused request uses no budget)."""
    now = time.time()
    window, into = divmod(now, duration)
    before, current = window_counts(key, window=int(window), duration=duration)
    # The previous window's requests still inside the last ``duration`` seconds, assumed spread evenly.
    estimate = before * (1 - into / duration) + current
    if estimate <= allowed:
        return None
    window_uncount(key, window=int(window))
    # Wait until the estimate falls back under the limit: the current window's count stays, the previous
    # one's weight shrinks; failing that (the current window alone is over), its end.
    if before and current <= allowed:
        return max(1.0, (before * (1 - into / duration) + current - allowed) * duration / before)
    return max(1.0, duration - into)


class _SlidingWindowThrottle(BaseThrottle):
    scope: str

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as error:
            message = f"REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] has no rate {self.scope!r}"
            raise ImproperlyConfigured(message) from error

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: APIView) -> bool:
        rate = self.get_rate()
        key = self.get_cache_key(request, view)
        if rate is None or key is None:
            return True
        allowed, duration = SimpleRateThrottle.parse_rate(None, rate)  # a pure parser despite being a method
        self.retry_after = sliding_window_wait(key, allowed=allowed, duration=duration)
        return self.retry_after is None

    def wait(self) -> float | None:
        return None if self.retry_after is None else float(math.ceil(self.retry_after))


class ClientRateThrottle(_SlidingWindowThrottle):
    """Signed-in callers: one budget per token, or per user for a browser session (rate ``client``)."""

    scope = "client"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None  # AnonRateThrottle's
        return f"throttle:{self.scope}:{ident}"


class AnonRateThrottle(_SlidingWindowThrottle):
    """Anonymous callers (the schema, the docs), one budget per IP address (rate ``anon``)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return f"throttle:{self.scope}:ip:{self.get_ident(request)}"
