"""An SMS backend for django-sms that hands each message to an HTTP gateway (``SMS_GATEWAY_URL``).

Many SMS gateways a programme runs or rents (a Kannel or playSMS server, an aggregator's REST endpoint)
take a message as an HTTP POST; this backend sends ``{"to": ..., "from": ..., "text": ...}`` as JSON, with
``Authorization: Bearer SMS_GATEWAY_TOKEN`` when one is set, and counts a 2xx answer as accepted. Anything
else raises, and the outbox keeps the message to try again.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from django.conf import settings
from sms.backends.base import BaseSmsBackend
from sms.message import Message


class GatewayError(Exception):
    """The gateway did not accept a message."""


class HttpGatewaySmsBackend(BaseSmsBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.url = kwargs.get("url") or settings.SMS_GATEWAY_URL
        self.token = kwargs.get("token", settings.SMS_GATEWAY_TOKEN)
        self.timeout = kwargs.get("timeout", 10)

    def send_messages(self, messages: list[Message]) -> int:
        sent = 0
        for message in messages:
            for recipient in message.recipients:
                try:
                    self._post({"to": recipient, "from": message.originator, "text": message.body})
                except Exception:
                    if not self.fail_silently:
                        raise
                    continue
                sent += 1
        return sent

    def _post(self, payload: dict[str, str]) -> None:
        if not self.url:
            raise GatewayError("SMS_GATEWAY_URL is not set")
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=json.dumps(payload).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - a configured URL
            if not 200 <= response.status < 300:
                raise GatewayError(f"the gateway answered {response.status}")
