"""The two hooks through which Confirm reaches the integration without importing it.

The domain knows nothing of Flourish (design.md §3, dependency direction). ``sync`` connects
receivers to these signals:

- ``confirm_validation``: ``send(sender=Order, order=order)``; each receiver returns a list of
  error sentences (empty when it has nothing to say). Confirm refuses when any list is non-empty.
- ``order_confirmed``: ``send(sender=Order, order=order, user=user)`` inside Confirm's
  transaction, with the order row locked; the receiver writes its outbox row there and enqueues its
  work with ``transaction.on_commit``. An exception rolls the whole Confirm back.
"""

from __future__ import annotations

from django.dispatch import Signal

confirm_validation = Signal()
order_confirmed = Signal()
