"""Tortoise engines of this service: Tortoise's own, with every wait for a connection bounded
by the request's deadline (``db_backends.deadline``, ``NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS``).

``db.tortoise_config`` names them as the connections' engines."""
