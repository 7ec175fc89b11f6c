"""A worker's consent: recorded with the version of the text they agreed to and how, and withdrawn.

``consent_record`` and ``consent_withdraw`` are the only writers of ``Consent`` rows and of the worker's
``consent_given_at`` / ``consent_withdrawn_at``. A withdrawal stops the worker's check-ins: open links refuse
(``workers.services.check_in_open``), no new one is made (``check_in_create``, the daily job), and messages
waiting in the outbox are cancelled here, in the same transaction.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from lamp.history import acting_as
from pilots.models import User
from workers.models import CheckIn, Consent, ConsentChannel, OutboxMessage, OutboxStatus, Worker

#: The longest text version name kept (the model's column).
VERSION_MAX = 40


def consent_text_version() -> str:
    """The version of the consent text workers agree to now (``CONSENT_TEXT_VERSION``)."""
    return settings.CONSENT_TEXT_VERSION


#: The columns of the latest consent that ``latest_consent_annotations`` reads along with the worker.
_LATEST_FIELDS = ("id", "text_version", "channel", "given_at", "withdrawn_at", "withdrawal_channel")


def latest_consent_annotations() -> dict[str, Subquery]:
    """Annotations for a ``Worker`` queryset that read the worker's latest consent in the same query, for
    ``consent_current`` (a page that shows it then spends no query of its own on it)."""
    latest = Consent.objects.filter(worker=OuterRef("pk")).order_by("-given_at", "-id")
    return {f"latest_consent_{name}": Subquery(latest.values(name)[:1]) for name in _LATEST_FIELDS}


def consent_current(worker: Worker) -> Consent | None:
    """The worker's latest consent (given, or given then withdrawn); ``None`` if none was recorded. Read from
    the worker's ``latest_consent_annotations`` when it was loaded with them, else with one query."""
    if hasattr(worker, "latest_consent_id"):
        if worker.latest_consent_id is None:
            return None
        values = {name: getattr(worker, f"latest_consent_{name}") for name in _LATEST_FIELDS}
        return Consent(worker=worker, **values)
    return Consent.objects.filter(worker=worker).order_by("-given_at", "-id").first()


def _check_channel(channel: str, field: str) -> None:
    if channel not in ConsentChannel.values:
        raise ValidationError(
            {
                field: gettext("“%(channel)s” is not a channel of consent; choose among: %(choices)s.")
                % {"channel": str(channel)[:40], "choices": ", ".join(ConsentChannel.values)}
            }
        )


@transaction.atomic
def consent_record(
    *,
    worker: Worker,
    channel: str,
    recorded_by: User | None,
    given_at: datetime.datetime | None = None,
    text_version: str = "",
) -> Consent:
    """Record that ``worker`` consented, through ``channel``, to ``text_version`` (the current text by default),
    at ``given_at`` (now by default: never in the future). A consent given after a withdrawal lifts it."""
    locked = Worker.objects.select_for_update().get(pk=worker.pk)
    now = timezone.now()
    given_at = given_at or now
    version = " ".join(str(text_version or consent_text_version()).split())
    _check_channel(channel, "channel")
    if locked.erased_at is not None:
        raise ValidationError({"worker": gettext("This worker's personal data was erased: nothing more is recorded.")})
    if given_at > now:
        raise ValidationError({"given_at": gettext("Consent cannot be given in the future.")})
    if not version or len(version) > VERSION_MAX or "\x00" in version:
        raise ValidationError(
            {"text_version": gettext("Name the version of the text in 1 to %(n)d characters.") % {"n": VERSION_MAX}}
        )
    with acting_as(recorded_by, action="consent_record"):
        consent = Consent(
            worker=locked, text_version=version, channel=channel, given_at=given_at, recorded_by=recorded_by
        )
        consent.full_clean()
        consent.save()
        Worker.objects.filter(pk=locked.pk).update(consent_given_at=given_at, consent_withdrawn_at=None, updated_at=now)
    worker.consent_given_at, worker.consent_withdrawn_at = given_at, None
    return consent


@transaction.atomic
def consent_withdraw(*, worker: Worker, channel: str, withdrawn_by: User | None) -> Consent:
    """Record that ``worker`` withdrew their consent, through ``channel``: their open check-in links close and
    the messages waiting to carry them are cancelled. Refused (``ValidationError`` naming ``worker``) when no
    consent is in force."""
    locked = Worker.objects.select_for_update().get(pk=worker.pk)
    _check_channel(channel, "channel")
    if locked.consent_withdrawn_at is not None:
        raise ValidationError({"worker": gettext("This worker's consent is already withdrawn.")})
    now = timezone.now()
    consent = consent_current(locked)
    with acting_as(withdrawn_by, action="consent_withdraw"):
        if consent is None:
            # Consent recorded before versions and channels were (only the worker's date): that consent withdrawn.
            if locked.consent_given_at is None:
                raise ValidationError({"worker": gettext("No consent of this worker is recorded.")})
            consent = Consent.objects.create(
                worker=locked,
                text_version="unrecorded",
                channel=ConsentChannel.UNRECORDED,
                given_at=min(locked.consent_given_at, now),
                recorded_by=withdrawn_by,
            )
        consent.withdrawn_at, consent.withdrawal_channel, consent.withdrawn_by = now, channel, withdrawn_by
        consent.save(update_fields=["withdrawn_at", "withdrawal_channel", "withdrawn_by"])
        Worker.objects.filter(pk=locked.pk).update(consent_withdrawn_at=now, updated_at=now)
        check_ins_stop(worker=locked, now=now)
    worker.consent_withdrawn_at = now
    return consent


def check_ins_stop(*, worker: Worker, now: datetime.datetime | None = None) -> dict[str, int]:
    """Close the worker's open check-in links and cancel the messages waiting to carry any; the counts."""
    now = now or timezone.now()
    open_links = CheckIn.objects.filter(worker=worker, answered_at__isnull=True, expires_at__gt=now)
    closed = 0
    for check_in in open_links.only("pk", "created_at"):
        # A link made this very instant still ends after it was made (the model's constraint).
        ends = max(now, check_in.created_at + datetime.timedelta(microseconds=1))
        closed += CheckIn.objects.filter(pk=check_in.pk).update(expires_at=ends)
    cancelled = OutboxMessage.objects.filter(check_in__worker=worker, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.CANCELLED
    )
    return {"check_ins_closed": closed, "messages_cancelled": cancelled}


def may_contact(worker: Worker) -> bool:
    """Whether the platform may still write to the worker (their consent not withdrawn, their data not erased);
    ``contactable`` is the same rule as a filter."""
    return worker.consent_withdrawn_at is None and worker.erased_at is None


def contactable(prefix: str = "") -> Q:
    """``may_contact`` as a filter of workers (or, with ``prefix`` such as ``"worker__"``, of their records)."""
    return Q(**{f"{prefix}consent_withdrawn_at__isnull": True, f"{prefix}erased_at__isnull": True})
