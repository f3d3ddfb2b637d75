"""nextgen-gql: a GraphQL backend for NextGen CM/ECF accounts.

The package is layered so that each concept has one obvious home:

- ``tenancy/``  courts as tenants: their files, validation and request addressing
- ``models/``   Tortoise models, the data
- ``services/`` the domain rules; plain async functions that know nothing of GraphQL
- ``api/``      the Strawberry schema, a thin adapter over the services
- ``app.py``    the Starlette application; ``cli/`` the ``nextgen-gql`` command
"""

__version__ = "0.1.0"
