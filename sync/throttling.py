"""Per-integration rate limit of the webhook endpoint.

A fixed one-minute window counted in the shared cache: one ``incr`` per delivery, whatever the
limit, unlike DRF's sliding-window throttles, which keep (and re-save) every request's timestamp.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

WINDOW_SECONDS = 60


class PerIntegrationThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.retry_after_seconds: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        limit = settings.WEBHOOK_RATE_LIMIT_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"webhook-rate:{view.kwargs.get('integration_uuid')}:{window}"
        try:
            count = cache.incr(key)  # one round trip for every delivery but a window's first
        except ValueError:  # no counter yet: this delivery opens the window (unless another
            # process opened it meanwhile)
            count = 1 if cache.add(key, 1, timeout=WINDOW_SECONDS * 2) else cache.incr(key)
        if count <= limit:
            return True
        self.retry_after_seconds = (window + 1) * WINDOW_SECONDS - now
        return False

    def wait(self) -> float | None:
        return self.retry_after_seconds
