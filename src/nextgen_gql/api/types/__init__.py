"""GraphQL object types, by domain."""
