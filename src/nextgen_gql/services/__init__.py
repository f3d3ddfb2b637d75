"""Domain services: the rules of DOMAIN.md as plain async functions.

Nothing here imports GraphQL. Every court-scoped function takes the ``Court`` it works
in as an explicit argument; every refusal is a ``DomainError``; every state change
writes an audit event in the same transaction.
"""
