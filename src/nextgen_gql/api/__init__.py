"""The GraphQL layer: a thin Strawberry adapter over the services.

``types/`` holds the object types, ``queries.py`` and ``mutations/`` the root fields,
``loaders.py`` the per-request DataLoaders, ``context.py`` what every resolver receives,
and ``schema.py`` puts them together.
"""
