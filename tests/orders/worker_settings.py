"""Settings of the Celery workers the order tests start (tests/live.py runs them as subprocesses,
so pytest's ``settings`` fixture cannot reach them): production settings, with the wait after an
ambiguous push shortened from about a minute to one second."""

from ordo_integration.settings import *  # noqa: F403

ORDER_PUSH_AMBIGUOUS_SETTLE_SECONDS = 1
