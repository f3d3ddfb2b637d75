"""Live updates over the network: GraphQL subscriptions on WebSockets (``graphql-transport-ws``)
and as server-sent events, the connections they run on, and their limits.

The subscription fields themselves are ``api.subscriptions``; the events come from
``services.event_hub``.
"""
