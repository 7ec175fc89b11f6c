"""What the API's erasure, subject-access and consent actions read and answer (``workers.api.views``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from workers.erasure import REASON_MAX
from workers.models import Consent, ConsentChannel, WorkerErasure

#: The refusals the schema shows as examples.
NO_REASON = "Say why the data is erased, in at least 10 characters."
NOT_STAFF_ERASE = "Only program staff erase a worker's data."
NOT_STAFF_EXPORT = "Only program staff export a worker's data."
CASE_OPEN = "A case about this worker is open: Claim 7 waits for staff review. Close it first."


class ErasureRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX, help_text="Why the worker's data is erased (at least 10 characters): kept on record."
    )


class ErasureSerializer(serializers.ModelSerializer):
    worker = serializers.IntegerField(source="worker_id", read_only=True)
    erased_by = serializers.IntegerField(source="erased_by_id", read_only=True, allow_null=True)

    class Meta:
        model = WorkerErasure
        fields = ["worker", "erased_at", "erased_by", "trigger", "reason", "counts"]
        read_only_fields = fields


class ConsentRecordSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ConsentChannel.choices)
    given_at = serializers.DateTimeField(required=False, help_text="When it was given; now by default.")
    text_version = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="The current text's by default."
    )


class ConsentWithdrawSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ConsentChannel.choices)


class ConsentSerializer(serializers.ModelSerializer):
    withdrawal_channel = serializers.ChoiceField(
        choices=ConsentChannel.choices, allow_blank=True, read_only=True, help_text="Empty while consent stands."
    )

    class Meta:
        model = Consent
        fields = ["id", "text_version", "channel", "given_at", "withdrawn_at", "withdrawal_channel"]
        read_only_fields = fields


# --- Examples for the schema: Ana María Xol Caal (worker 4812) of the cruise hospitality pilot -------------

ERASURE_REQUEST = {"reason": "The worker asked by letter of 3 March 2027 for her data to be erased."}
ERASURE = {
    "worker": 4812,
    "erased_at": "2027-03-05T10:12:00Z",
    "erased_by": 3,
    "trigger": "request",
    "reason": ERASURE_REQUEST["reason"],
    "counts": {
        "journey_events": 2,
        "employments": 1,
        "fee_reports": 0,
        "fee_declarations": 1,
        "journey_overrides": 0,
        "check_in_answers": 1,
        "evidence": 3,
        "files": 2,
        "check_ins": 1,
        "messages": 0,
        "text_mentions": 1,
    },
}
CONSENT_REQUEST = {"channel": "paper", "given_at": "2026-02-03T15:00:00Z", "text_version": "2026-01"}
CONSENT = {
    "id": 911,
    "text_version": "2026-01",
    "channel": "paper",
    "given_at": "2026-02-03T15:00:00Z",
    "withdrawn_at": None,
    "withdrawal_channel": "",
}
WITHDRAWAL_REQUEST = {"channel": "own_link"}
CONSENT_WITHDRAWN = {**CONSENT, "withdrawn_at": "2027-01-20T09:30:00Z", "withdrawal_channel": "own_link"}
EXPORT = {
    "language": "es",
    "exported_at": "2027-01-21T08:00:00+00:00",
    "worker": {"id": 4812, "given_names": "Ana María", "family_names": "Xol Caal", "nationality": "GT"},
    "consents": [
        {
            "text_version": "2026-01",
            "channel": "paper",
            "channel_display": "Firmado en papel",
            "given_at": "2026-02-03T15:00:00+00:00",
            "withdrawn_at": None,
            "withdrawal_channel": "",
        }
    ],
    "journey": [],
    "employments": [],
}
EXAMPLES = {
    "erase": [
        OpenApiExample("On the worker's request", value=ERASURE_REQUEST, request_only=True),
        OpenApiExample("Erased", value=ERASURE, response_only=True, status_codes=["201"]),
    ],
    "consent_get": [OpenApiExample("Given on paper", value=CONSENT, response_only=True)],
    "consent_post": [
        OpenApiExample("On paper", value=CONSENT_REQUEST, request_only=True),
        OpenApiExample("Recorded", value=CONSENT, response_only=True, status_codes=["201"]),
    ],
    "consent_withdraw": [
        OpenApiExample("Through the worker's link", value=WITHDRAWAL_REQUEST, request_only=True),
        OpenApiExample("Withdrawn", value=CONSENT_WITHDRAWN, response_only=True),
    ],
    "export": [
        OpenApiExample("Everything held, in Spanish (shortened here)", value=EXPORT, response_only=True),
    ],
}
