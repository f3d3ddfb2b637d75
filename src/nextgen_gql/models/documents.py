"""Persisted GraphQL documents, shared by every worker and machine.

A document is known by its key: the SHA-256 of its text (what Apollo's automatic
persisted queries and GraphQL Code Generator send), or the id a relay-compiler manifest
gave it. Trusted documents were registered by an operator (``nextgen-gql operations add``,
or the reference SPA's own operations at start); the others were registered by clients
through automatic persisted queries and may be pruned when unused.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["PersistedDocument"]


class PersistedDocument(Model):
    """A GraphQL document clients may name by its key instead of sending its text."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=128, unique=True)  # sha256 hex, or a manifest's own id
    sha256 = fields.CharField(max_length=64, db_index=True)  # of the text as stored
    canonical_sha256 = fields.CharField(max_length=64, db_index=True)  # of the printed document
    document = fields.TextField()
    operation_names = fields.CharField(max_length=400, default="")  # space-separated
    trusted = fields.BooleanField(default=False)
    source = fields.CharField(max_length=200, default="")  # file, "apq" or "spa"
    created_at = fields.DatetimeField(auto_now_add=True)
    used_on = fields.DateField(null=True)  # the last day a request named it (at most a write a day)

    class Meta:
        table = "persisted_documents"
