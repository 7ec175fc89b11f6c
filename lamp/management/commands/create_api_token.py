"""``manage.py create_api_token USERNAME [--expires DAYS] [--name NAME]``: issue an API token from the shell.

The token alone goes to standard output, so that a script can capture it
(``TOKEN=$(python manage.py create_api_token agency-bot)``); what it is and that it will not be shown
again go to standard error. Thin on purpose: ``lamp.tokens.api_token_create`` does the work.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lamp.tokens import api_token_create


class Command(BaseCommand):
    help = "Issue an API token to a user and print it, once. Only its hash is kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the user the token acts for")
        parser.add_argument("--expires", type=int, default=None, metavar="DAYS", help="days until it expires")
        parser.add_argument("--name", default="", help="what the token is for (default: 'issued from the shell')")

    def handle(self, *args: Any, username: str, expires: int | None, name: str, **options: Any) -> None:
        User = get_user_model()  # noqa: N806 - the user model, named as Django's documentation names it
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as error:
            raise CommandError(f"No user named {username!r}.") from error
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: a token of theirs would be refused.")
        try:
            token, secret = api_token_create(user=user, name=name or "issued from the shell", expires_in_days=expires)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "does not expire"
        self.stderr.write(
            f"API token {token.SECRET_PREFIX}{token.prefix}… “{token.name}” for {user.username} ({expiry}). "
            "It is printed below once and will not be shown again: only its hash is kept."
        )
        self.stdout.write(secret)
