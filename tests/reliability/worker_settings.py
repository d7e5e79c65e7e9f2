"""Settings for the workers the reliability stories start: production settings, with the order
push's backoff shortened so that "Flourish down for a while" fits in a test (the base is read
through ``ORDER_PUSH_BACKOFF_BASE_SECONDS``, sync/orders.py)."""

import os

from ordo_integration.settings import *  # noqa: F403

ORDER_PUSH_BACKOFF_BASE_SECONDS = float(os.environ.get("ORDER_PUSH_BACKOFF_BASE_SECONDS", "0.5"))
