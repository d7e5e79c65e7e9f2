"""WSGI entry point (gunicorn ordo_integration.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordo_integration.settings")

application = get_wsgi_application()
