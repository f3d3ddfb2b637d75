"""The OpenID Connect provider: Central Sign-On for other systems (issue 35).

``clients`` (relying parties and their secrets), ``signing`` (RS256 keys sealed at rest,
their rotation and the published JWKS), ``grants`` (what each person let each app do),
``tokens`` (codes and tokens: issued, redeemed once, rotated, revoked), ``claims`` (what the
scopes say about a person), ``server`` (Authlib's authorization server on those),
``authorize`` and ``pages`` (where a person signs in and consents), ``routes`` (discovery,
JWKS, authorize, token, userinfo; mounted by ``app.py``). Domain rules live in ``clients``,
``signing``, ``grants``, ``tokens`` and ``claims``: no GraphQL and no HTTP there.
"""
