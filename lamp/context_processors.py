from __future__ import annotations

from django.http import HttpRequest

from lamp.access import tenancy_kind
from lamp.tenancy import tenancy_of


def dashboard(request: HttpRequest) -> dict[str, object]:
    """The viewer's tenancy kind, for the navigation: ``staff``, ``funder``, ``recruiter`` or ``None``.

    No query: the user is already loaded by the authentication middleware.
    """
    kind = getattr(request, "tenancy_kind", None)
    if kind is None and getattr(request, "user", None) is not None:
        kind = tenancy_kind(tenancy_of(request.user))
    return {"viewer_kind": kind}
