"""Celery application: syncs, order pushes and webhook processing run here.

Reliability settings (acks_late, reject on worker loss, prefetch 1) live in settings.py under the
CELERY_ namespace so that they are read from one place; tasks are found in each app's tasks.py.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordo_integration.settings")

app = Celery("ordo_integration")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
