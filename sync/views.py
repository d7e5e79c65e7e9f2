"""The Flourish webhook endpoint: authenticate, store, enqueue, answer (sync.webhooks.receive)."""

from __future__ import annotations

import uuid

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import webhooks


class FlourishWebhookView(APIView):
    """``POST /webhooks/flourish/<integration uuid>/``.

    No session authentication (so no CSRF check) and no permission: the caller is Flourish, and
    it authenticates with the custom headers and ``Auth-Signature`` checked in ``receive``. The
    raw body is read before anything parses it, because the signature covers the exact bytes
    (flourish-api.md §5.3).
    """

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def post(self, request: Request, integration_uuid: uuid.UUID) -> Response:
        django_request = request._request
        answer = webhooks.receive(
            integration_uuid,
            headers=django_request.headers,
            read_body=lambda: django_request.body,
        )
        return Response(answer.body, status=answer.status)
