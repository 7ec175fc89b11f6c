"""The REST API's own records: the tokens partners call it with, and the answers kept for retries.

API plumbing, shared by every app's endpoints: they name the user model by setting, never by import, so
that this module stays below every app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from encrypted_fields.fields import EncryptedTextField


class ApiToken(models.Model):
    """A bearer token for the REST API, issued to one user (a partner recruiter's system, say).

    Only the SHA-256 of the secret is kept: the secret itself is shown once, when the token is issued
    (``lamp.tokens.api_token_create``), so a copy of the database lets no one call the API. The
    ``prefix`` is the first 8 characters after ``lamp_``, far too few to guess the rest, so that staff can
    tell tokens apart in lists and match one against a partner's configuration. A revoked token is kept, not deleted:
    its rows say who used the API and until when.
    """

    SECRET_PREFIX = "lamp_"  # every secret starts so: a leaked LaMP token is recognisable (and scannable)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “Agency CRM sync”.")
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(condition=Q(key_hash__regex=r"^[0-9a-f]{64}$"), name="api_token_key_hash_is_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.SECRET_PREFIX}{self.prefix}… {self.name} ({self.user})"


class IdempotencyRecord(models.Model):
    """The first answer to an API ``POST`` sent with an ``Idempotency-Key`` header (``lamp.idempotency``).

    A retry with the same key (by the same user) is answered from here instead of running the view again.
    ``status_code`` is null while the first request is still running. Records older than
    ``IDEMPOTENCY_TTL_HOURS`` no longer count: the key may be reused, and the row may be purged.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in progress.")
    # The answer as JSON text, encrypted at rest: a worker's registration answer holds personal data in full.
    response_body = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_record_created_at")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}] → {self.status_code or 'in progress'}"
