"""How the REST API knows who is calling: a bearer token (partners' systems), or a browser session (staff).

``TokenAuthentication`` comes first in ``DEFAULT_AUTHENTICATION_CLASSES``: DRF asks the first class for the
``WWW-Authenticate`` challenge, and only a challenge turns "not signed in" into a 401 instead of a 403.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from lamp.models import ApiToken
from lamp.tokens import TokenRefused, api_token_authenticate

KEYWORDS = (b"bearer", b"token")  # "Token" too: what DRF's own token scheme and many clients send


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` (or ``Token <token>``) → the token's user; ``request.auth`` is the token.

    A request without such a header is left to the next class (the session). A header that names the
    scheme but carries no valid live token is refused outright with a 401 saying why, rather than
    falling back to the session: a client that sends a token means to be that token.
    """

    def authenticate(self, request: Request) -> tuple[AbstractUser, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Malformed Authorization header: send 'Authorization: Bearer <token>', the token without spaces.")
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("Invalid token: it must be plain ASCII.")) from error
        try:
            token = api_token_authenticate(secret=secret)
        except TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from refused
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents ``TokenAuthentication`` in the OpenAPI schema as an HTTP bearer scheme."""

    target_class = "lamp.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API token issued by the platform staff (admin or `manage.py create_api_token`): "
                "`Authorization: Bearer lamp_…`. It is shown once, when issued."
            ),
        }
