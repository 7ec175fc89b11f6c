"""``Idempotency-Key`` on API POSTs: a retried request returns the first answer instead of writing twice.

A client that may retry a ``POST`` (a timeout, a dropped connection) sends ``Idempotency-Key: <up to 255
characters>``, a value it makes up once per intended write (a UUID). The first request with that key runs
and its status and JSON body are kept in an ``IdempotencyRecord`` for that user and key. Then:

- the same user, same key, same body: the kept answer, with the same status and the header
  ``Idempotent-Replayed: true``; the view does not run again, so nothing is written twice;
- the same key with a different body (or for another endpoint): 422 naming the ``Idempotency-Key`` header;
- the same key while the first request is still running (two sends at once): they serialise on the
  record's unique (user, key) constraint; the second is answered 409, "in progress", and may retry;
- another user's identical key is a different key: keys are per user.

What is kept: every answer below 500, as Stripe does, so that a retried request that was refused (a 400
naming a field, a 409 duplicate) is refused the same way without being re-validated against data that may
have changed since. A 5xx is not kept, nor a request that raised: the record is dropped, and a retry runs
again. Records older than ``IDEMPOTENCY_TTL_HOURS`` (24 by default) no longer count: the key starts afresh,
replacing the old row.

Purge: ``idempotency_records_purge`` deletes the records that no longer count, once a day (the beat entry
``purge-idempotency-records``, 03:15 UTC, runs ``lamp.tasks.purge_idempotency_records_task``) or from the
shell (``manage.py purge_idempotency_records [--older-than HOURS]``). The retention is the TTL itself: a kept
answer may hold a worker's personal data in full, so it is not kept once it can no longer be replayed, and
never purged sooner, which would let a retry inside the window write twice. A longer retention may be asked
for; a shorter one is refused.

The body's fingerprint is the SHA-256 of the parsed body in a canonical form (JSON with sorted keys; an
uploaded file counts by its name, size and SHA-256), so a retry that re-encodes the same JSON differently
still matches. Requests without the header, and requests other than ``POST``, are untouched.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from lamp.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def ttl() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "IDEMPOTENCY_TTL_HOURS", 24))


#: Rows deleted per statement by the purge: each batch is its own short transaction.
PURGE_BATCH_SIZE = 5_000


def idempotency_records_purge(
    *, older_than: datetime.timedelta | None = None, now: datetime.datetime | None = None
) -> int:
    """Delete the ``IdempotencyRecord``s created more than ``older_than`` ago (the TTL by default, and never
    less: see the module's docstring); how many were deleted.

    Deletes in batches by primary key (``created_at`` is indexed), so that a backlog of millions of rows
    never holds one long transaction, and a request claiming a key meanwhile waits for one batch at most.
    A record whose request is still running is deleted like any other once it is that old: its request then
    finishes without keeping its answer, as one whose key had expired.
    """
    retention = ttl() if older_than is None else older_than
    if retention < ttl():
        hours = ttl().total_seconds() / 3600
        raise ValueError(
            f"Records younger than the Idempotency-Key lifetime ({hours:g} h) may still be replayed; "
            "purging them would let a retry write twice."
        )
    cutoff = (now or timezone.now()) - retention
    deleted = 0
    while True:
        batch = IdempotencyRecord.objects.filter(created_at__lt=cutoff).order_by("pk").values("pk")[:PURGE_BATCH_SIZE]
        count, _kinds = IdempotencyRecord.objects.filter(pk__in=batch).delete()
        deleted += count
        if count < PURGE_BATCH_SIZE:
            return deleted


class IdempotencyKeyInvalid(exceptions.ValidationError):
    """A 400 naming the header: an empty or over-long key."""


class IdempotencyKeyReused(exceptions.ValidationError):
    """A 422 naming the header: the key was first used with another request."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


class IdempotencyKeyInProgress(exceptions.ValidationError):
    """A 409 naming the header: the first request with this key has not finished yet."""

    status_code = status.HTTP_409_CONFLICT


class _Replay(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the view to answer from the record; turned into the response by ``handle_exception``."""

    def __init__(self, response: Response) -> None:
        super().__init__("replay")
        self.response = response


def _canonical(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if hasattr(value, "lists"):  # a QueryDict (form or multipart body): every value of every key
        return {key: [_canonical(item) for item in items] for key, items in value.lists()}
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def request_fingerprint(request: Request) -> str:
    """SHA-256 of the request's parsed body in a canonical form (see the module's docstring)."""
    canonical = json.dumps(_canonical(request.data), sort_keys=True, cls=JSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    body = json.loads(record.response_body) if record.response_body is not None else None
    return Response(body, status=record.status_code, headers={REPLAYED_HEADER: "true"})


def idempotency_begin(*, request: Request) -> IdempotencyRecord | None:
    """Claim the request's key, or raise ``_Replay`` / a 4xx when it was used before. ``None``: no key."""
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalid(
            {HEADER: [_("Send a key of 1 to %(most)d characters, e.g. a UUID.") % {"most": MAX_KEY_LENGTH}]}
        )
    user = request.user
    fingerprint = request_fingerprint(request)
    path = request.path
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user, key=key, method=request.method, path=path, request_fingerprint=fingerprint
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # deleted between our insert and our read (the first request failed): claim it again
        if existing.created_at < timezone.now() - ttl():
            # Expired: the key starts afresh. Delete only that old row, so two retries cannot both win.
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.request_fingerprint != fingerprint or existing.path != path or existing.method != request.method:
            raise IdempotencyKeyReused(
                {HEADER: [_("This key was already used with a different request; send a new key for a new request.")]}
            )
        if existing.status_code is None:
            raise IdempotencyKeyInProgress(
                {HEADER: [_("A request with this key is still in progress; retry once it has finished.")]}
            )
        raise _Replay(_replay(existing))
    raise IdempotencyKeyInProgress({HEADER: [_("A request with this key is still in progress; retry in a moment.")]})


def idempotency_finish(*, record: IdempotencyRecord, response: Response | None) -> None:
    """Keep the answer of the request that claimed ``record`` (below 500), or drop the record."""
    if response is None or response.status_code >= 500 or not hasattr(response, "data"):
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    # Kept as JSON text in an encrypted column: an answer may hold a worker's personal data in full.
    body = json.dumps(response.data, cls=JSONEncoder)
    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=response.status_code, response_body=body)


class IdempotentMixin:
    """For API views: honour ``Idempotency-Key`` on POST (see the module's docstring).

    The key is checked after authentication, permissions and throttling (``initial``), so that an anonymous
    or refused caller never reaches the records; the answer is kept once the view has answered.
    """

    _idempotency_record: IdempotencyRecord | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency_record = idempotency_begin(request=request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self._idempotency_record = None
        response = None
        try:
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            return response
        finally:
            record = self._idempotency_record
            if record is not None:
                self._idempotency_record = None
                idempotency_finish(record=record, response=response)
