"""Calls the service makes to other systems' URLs: court webhooks, and the OpenID provider's
back-channel logout after them.

A URL a court gives the service must not become a way into the service's own network (a
server-side request forgery): ``outbound.addresses`` decides which addresses may be called,
and ``outbound.client`` calls only those, connecting to the very address it checked.
"""

from nextgen_gql.outbound.addresses import (
    BLOCKED_NETWORKS,
    AddressRefused,
    Reach,
    Resolver,
    check_address,
    check_url,
    parse_networks,
    resolve_and_check,
    system_resolver,
)
from nextgen_gql.outbound.client import GuardedBackend, guarded_pool

__all__ = [
    "BLOCKED_NETWORKS",
    "AddressRefused",
    "GuardedBackend",
    "Reach",
    "Resolver",
    "check_address",
    "check_url",
    "guarded_pool",
    "parse_networks",
    "resolve_and_check",
    "system_resolver",
]
