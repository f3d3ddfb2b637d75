"""Central Sign-On for systems outside this service's own GraphQL endpoints.

- ``pacer_api``: PACER's authentication API (``POST /services/cso-auth``,
  ``/services/cso-logout``), so that tools written for PACER sign in unchanged.
"""
