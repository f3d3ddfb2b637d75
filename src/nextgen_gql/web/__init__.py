"""Pages for browsers: the self-hosted GraphiQL (works with no internet access)."""

from __future__ import annotations

import html
import json
from pathlib import Path

__all__ = ["APP_CSP", "GRAPHIQL_CSP", "OPERATIONS_BUNDLE", "STATIC_DIR", "app_page", "graphiql_page"]

STATIC_DIR = Path(__file__).parent / "static"
#: The reference SPA's operations, bundled from schema/operations/*.graphql by export-schema.
OPERATIONS_BUNDLE = STATIC_DIR / "app" / "operations.json"
_APP = (Path(__file__).parent / "app.html").read_text(encoding="utf-8")

#: The SPA loads and runs only the service's own files, and talks only to it.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_TEMPLATE = (Path(__file__).parent / "graphiql.html").read_text(encoding="utf-8")

#: The page may load and run only what the service itself serves.
GRAPHIQL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

_DEFAULT_TAB = """# nextgen-gql: GraphQL for NextGen CM/ECF accounts.
# This endpoint: {endpoint}{court_line}
#
{sign_in_lines}# Signing in sets the NextGenCSO cookie, so what you run next is yours. Or put
# {{"Authorization": "Bearer <token>"}} in Headers below. The Docs pane (top left) describes
# every type, field and argument. Press the run button and choose an operation.

mutation SignIn {{
  signIn(input: {{username: "{username}", password: "{password}"}}) {{
    token
    account {{ username isLegacy }}
    errors {{ code message field }}
  }}
}}

query Me {{
  me {{
    username
    isLegacy
    privileges {{ court {{ code name }} role source }}
  }}
}}

query Courts {{
  courts {{ code name kind isNextgen acceptedRoles }}
}}
"""
#: Only a service started with ``--demo`` holds these accounts: anywhere else the first tab
#: names no account and no password.
_DEMO_LINES = """# This service runs the demo (README, "Demo accounts"): sign in as
#   lp1234 / Boston2011!                 a legacy PACER account: upgrade it, then link
#                                        its D. Mass. login lperez at /courts/mad/graphql
#   jmorgan2019 / Granite-Falcon-Morning-88   an upgraded filer
#   madclerk01 / Court-Docket-Review-2026!    the clerk of mad
"""
_PLAIN_LINES = """# Sign in with your PACER account: put your username and password in SignIn below.
"""


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: no "<", ">" or "&" that HTML could act on."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def graphiql_page(endpoint: str, court: str | None, *, demo: bool = False) -> str:
    """The GraphiQL page for one endpoint, with a first tab that shows how to begin: with the
    demo's accounts when the service runs the demo (``demo``), with none otherwise."""
    court_line = f" (addressed to the court {court})" if court else " (national: accounts, firms, sign-in)"
    default = _DEFAULT_TAB.format(
        endpoint=endpoint,
        court_line=court_line,
        sign_in_lines=_DEMO_LINES if demo else _PLAIN_LINES,
        username="lp1234" if demo else "your-username",
        password="Boston2011!" if demo else "your-password",
    )
    return (
        _TEMPLATE.replace("{{endpoint}}", html.escape(endpoint, quote=True))
        .replace("{{title}}", html.escape(f"nextgen-gql GraphiQL: {court or 'national'}"))
        .replace("{{default_query}}", _script_json(default))
    )


def app_page() -> str:
    """The reference single-page app's shell."""
    return _APP
