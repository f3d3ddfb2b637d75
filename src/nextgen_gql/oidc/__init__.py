"""The OpenID Connect provider: Central Sign-On for other systems (issue 35).

``clients`` (relying parties and their secrets), ``signing`` (RS256 keys sealed at rest,
their rotation and the published JWKS), ``grants`` (what each person let each app do),
``routes`` (discovery and JWKS, mounted by ``app.py``). Domain rules only here and in these
modules: no GraphQL imports.
"""
