"""The Flourish webhook endpoint: authenticate, store, enqueue, answer (sync.webhooks.receive)."""

from __future__ import annotations

import uuid
from typing import NoReturn

from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import webhooks
from .throttling import PerIntegrationThrottle


class FlourishWebhookView(APIView):
    """``POST /webhooks/flourish/<integration uuid>/``.

    No session authentication (so no CSRF check) and no permission: the caller is Flourish, and
    it authenticates with the custom headers and ``Auth-Signature`` checked in ``receive``. The
    raw body is read before anything parses it, because the signature covers the exact bytes
    (flourish-api.md §5.3).
    """

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [PerIntegrationThrottle]

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        # A refused delivery is recorded like every other rejection, without reading its body.
        webhooks.record_rate_limited(self.kwargs["integration_uuid"], request._request.headers)
        raise exceptions.Throttled(
            wait, detail="Too many deliveries for this integration; retry after the wait."
        )

    def post(self, request: Request, integration_uuid: uuid.UUID) -> Response:
        django_request = request._request
        answer = webhooks.receive(
            integration_uuid,
            headers=django_request.headers,
            read_body=lambda: django_request.body,
        )
        return Response(answer.body, status=answer.status)
