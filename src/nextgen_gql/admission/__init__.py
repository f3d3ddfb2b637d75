"""Admission: which requests a worker takes on, and when (``queue``, ``stage``, ``exports``).

- ``queue``: the running cap per worker and a queue bounded by the delay it imposes;
- ``stage``: the ASGI stage that puts it in front of the GraphQL routes over HTTP;
- ``exports``: CSV exports' own cap per worker and their price in points.
"""

from __future__ import annotations

from nextgen_gql.admission.exports import ExportSlots
from nextgen_gql.admission.queue import Decision, Queue
from nextgen_gql.admission.stage import Admission

__all__ = ["Admission", "Decision", "ExportSlots", "Queue"]
