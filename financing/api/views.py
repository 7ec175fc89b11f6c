from __future__ import annotations

from rest_framework import exceptions, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from financing.scenario import ScenarioError, simulate


class ContractViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated]

    @action(detail=False, methods=["post"])
    def simulate(self, request: Request) -> Response:
        """Run the payment rules on a contract scenario (docs/rbf-scenario.md) and return its schedule."""
        try:
            return Response(simulate(request.data))
        except ScenarioError as error:
            raise exceptions.ValidationError({error.field: [error.message]}) from error
