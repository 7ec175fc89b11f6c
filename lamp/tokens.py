"""API tokens: issue, revoke, and recognise a presented secret.

A token's secret is ``lamp_`` followed by 43 URL-safe characters (``secrets.token_urlsafe(32)``: 256
random bits). Only its SHA-256 is stored. A slow password hash is not needed: the secret is random and
long, so no dictionary or brute-force attack on a stolen hash is possible, and a fast hash lets every
request be authenticated with one indexed lookup. The secret is returned once, by ``api_token_create``;
nothing can show it again, and a lost secret is replaced by revoking the token and issuing another.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lamp.models import ApiToken

SECRET_PREFIX = ApiToken.SECRET_PREFIX
PREFIX_LENGTH = 8  # characters of the random part kept in clear, to tell tokens apart in lists
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)  # last_used_at is written at most this often per token


class TokenRefused(Exception):
    """A presented secret that does not authenticate; the message says why, for the caller to read."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: AbstractUser, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Issue a token to ``user``; return it with its secret, which is never available again."""
    if expires_in_days is not None and expires_in_days < 1:
        raise ValidationError(
            {"expires_in_days": _("A token must last at least one day; leave it empty for no expiry.")}
        )
    random_part = secrets.token_urlsafe(32)
    secret = f"{SECRET_PREFIX}{random_part}"
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=name.strip(),
        prefix=random_part[:PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        expires_at=None if expires_in_days is None else now + datetime.timedelta(days=expires_in_days),
    )
    token.full_clean()
    token.save()
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: AbstractUser | None) -> ApiToken:
    """Revoke ``token`` from now on. Revoking twice keeps the first revocation's time and author."""
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=by)
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return token


def api_token_authenticate(*, secret: str, now: datetime.datetime | None = None) -> ApiToken:
    """The live token whose secret this is (with its user loaded), or ``TokenRefused`` saying why not.

    Records the use (see ``api_token_record_use``), so that an unused token can be found and revoked.
    """
    now = now or timezone.now()
    try:
        # ``key_hash`` is unique: a plain ``get`` needs no ORDER BY.
        token = ApiToken.objects.select_related("user").get(key_hash=hash_secret(secret))
    except ApiToken.DoesNotExist:
        raise TokenRefused(_("Invalid token.")) from None
    if token.revoked_at is not None:
        raise TokenRefused(_("This token has been revoked; ask the platform staff for a new one."))
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused(
            _("This token expired at %(moment)s UTC; ask the platform staff for a new one.")
            % {"moment": f"{token.expires_at:%Y-%m-%d %H:%M}"}
        )
    if not token.user.is_active:
        raise TokenRefused(_("The user of this token is inactive."))
    api_token_record_use(token=token, now=now)
    return token


def api_token_record_use(*, token: ApiToken, now: datetime.datetime | None = None) -> None:
    """Set ``last_used_at``, at most once a minute per token.

    A write on every request would turn each read of the API into a write of one hot row. The check in
    Python skips the query altogether; the condition in the ``UPDATE`` keeps concurrent requests of the
    same minute from writing it again.
    """
    now = now or timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk).update(
        last_used_at=now
    )
    token.last_used_at = now
