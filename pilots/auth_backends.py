"""Authentication backend: Django's own, loading the user's organisation with the user.

Every dashboard page names the signed-in user's organisation in its header; loading it with the user
(one join in the query the session already makes) saves a query per page for partner users.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.base_user import AbstractBaseUser

from pilots.models import User


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id: int) -> AbstractBaseUser | None:
        try:
            user = User._default_manager.select_related("organisation").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
