"""Webhooks for court systems: a court's endpoints hear of what happens at the court, in
signed deliveries that survive restarts, retried on a schedule, through a client that calls
public addresses only.

- ``endpoints``: what a court's clerks and its ``MANAGE_WEBHOOKS`` keys do (make, change,
  rotate, remove, test, send again);
- ``deliveries``: ``announce``, called by the domain services in the transaction of a change,
  writes what is owed; the delivery log;
- ``worker``: claims due deliveries (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends them with
  no transaction held, records each attempt;
- ``signing``: the Standard Webhooks ``v1`` signature (the ``standardwebhooks`` package).

The address guard and the retry schedule are ``nextgen_gql.outbound``'s, shared with the
OpenID provider's back-channel logout. docs/integrators.md ("Webhooks") is the receivers' side.
"""
