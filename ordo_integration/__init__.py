"""The Ordo side of the Ordo ↔ Flourish integration: Django project and domain apps."""

from .celery import app as celery_app

__all__ = ["celery_app"]
