"""The security review of 2026-12-04 (docs/security.md), replayed as an attacker would: over
HTTP against the real app, each module asserting that a finding stays refused."""
