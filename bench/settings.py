"""Settings for the web processes of ``bench/webhooks.py``: production settings with a URLconf
that adds a bare 200 view next to the real ones. Never used by the portal itself."""

from ordo_integration.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
