"""The pages the authorization endpoint shows a person: sign in, the second factor, enrolment
of an authenticator app (when the account must have one), consent, and errors that must not go
back to a client. Plain HTML, every value escaped; each form
carries the request it continues (``q``) and a CSRF token of its own (``csrf``, matched with
a ``SameSite=Strict`` cookie); no page may be framed.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

__all__ = [
    "HEADERS",
    "SCOPE_WORDS",
    "backup_codes",
    "confirm_sign_out",
    "consent",
    "done",
    "enrol_confirm",
    "enrol_start",
    "error",
    "second_factor",
    "sign_in",
]

HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
}

#: What each scope lets an app do, in plain words (the consent page lists them).
SCOPE_WORDS = {
    "openid": "Know who you are (an id for your PACER account that stays the same)",
    "profile": "See your name and PACER username",
    "email": "See your email address",
    "pacer": "See your PACER account number and whether the account is upgraded",
    "cmecf": "See your filing privilege at this court",
    "api": "Act as you at this court (everything but your password, email, authenticators, sessions and apps)",
    "api.read": "Read what you can read at the courts, without changing anything",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}"
    "label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem}"
    "button{margin:1rem .5rem 0 0;padding:.5rem 1rem}.error{color:#b50909}li{margin:.3rem 0}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{_STYLE}</style></head>'
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _hidden(q: str, csrf: str) -> str:
    return f'<input type="hidden" name="q" value="{escape(q)}"><input type="hidden" name="csrf" value="{escape(csrf)}">'


def _message(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def sign_in(
    client_name: str, q: str, csrf: str, message: str | None = None, username: str = ""
) -> HTMLResponse:
    body = (
        f"<p>Sign in with your PACER account to continue to <strong>{escape(client_name)}</strong>.</p>"
        f'{_message(message)}<form method="post" action="/oauth/authorize">{_hidden(q, csrf)}'
        '<input type="hidden" name="action" value="sign_in">'
        f'<label for="username">Username</label><input type="text" id="username" name="username" '
        f'autocomplete="username" required value="{escape(username)}">'
        '<label for="password">Password</label><input type="password" id="password" name="password" '
        'autocomplete="current-password" required>'
        '<label for="client_code">Client code (optional)</label><input type="text" id="client_code" name="client_code">'
        '<label><input type="checkbox" name="redaction" value="1"> I will redact filings as the Federal '
        "Rules require (personal identifiers, dates of birth, minors' names, account numbers)</label>"
        '<button type="submit">Sign in</button></form>'
    )
    return _page("Sign in: PACER", body, 401 if message else 200)


def second_factor(
    client_name: str, q: str, csrf: str, challenge: str, message: str | None = None
) -> HTMLResponse:
    body = (
        f"<p>Enter the code your authenticator app shows (or one of your backup codes) to continue to "
        f"<strong>{escape(client_name)}</strong>.</p>"
        f'{_message(message)}<form method="post" action="/oauth/authorize">{_hidden(q, csrf)}'
        '<input type="hidden" name="action" value="second_factor">'
        f'<input type="hidden" name="challenge" value="{escape(challenge)}">'
        '<label for="code">Code</label><input type="text" id="code" name="code" autocomplete="one-time-code" '
        'inputmode="numeric" required><button type="submit">Continue</button></form>'
    )
    return _page("Second factor: PACER", body, 401 if message else 200)


def consent(client_name: str, scopes: list[str], q: str, csrf: str) -> HTMLResponse:
    items = "".join(f"<li>{escape(SCOPE_WORDS.get(s, s))}</li>" for s in scopes)
    body = (
        f"<p><strong>{escape(client_name)}</strong> asks to:</p><ul>{items}</ul>"
        "<p>You can end this at any time under Connected apps.</p>"
        f'<form method="post" action="/oauth/authorize">{_hidden(q, csrf)}'
        '<button type="submit" name="action" value="allow">Allow</button>'
        '<button type="submit" name="action" value="deny">Deny</button></form>'
    )
    return _page("Allow access?", body)


def error(message: str, status: int = 400) -> HTMLResponse:
    body = f'<p class="error" role="alert">{escape(message)}</p><p>Go back to the app and try again.</p>'
    return _page("This sign-in cannot go on", body, status)


def confirm_sign_out(client_name: str, kept: dict[str, str], csrf: str) -> HTMLResponse:
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in kept.items())
    body = (
        f"<p><strong>{escape(client_name)}</strong> asks to sign you out of PACER, at every court and "
        "in every app.</p>"
        f'<form method="post" action="/oauth/end-session">{hidden}'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}"><input type="hidden" name="confirm" value="yes">'
        '<button type="submit">Sign out</button></form>'
    )
    return _page("Sign out?", body)


def done(message: str) -> HTMLResponse:
    return _page("Signed out", f"<p>{escape(message)}</p>")


def enrol_start(client_name: str, q: str, csrf: str, message: str | None = None) -> HTMLResponse:
    body = (
        "<p>Your account must have an authenticator app before it signs in to "
        f"<strong>{escape(client_name)}</strong> or anything else: you used the three sign-ins "
        "allowed without one. Add one now: we mail a security code to the email on file, then you "
        "scan a QR code with the app.</p>"
        f'{_message(message)}<form method="post" action="/oauth/authorize">{_hidden(q, csrf)}'
        '<input type="hidden" name="action" value="enrol_start">'
        '<label for="name">Name of the app (to tell it apart later)</label>'
        '<input type="text" id="name" name="name" required maxlength="64" value="Authenticator app">'
        '<button type="submit">Mail me a security code</button></form>'
    )
    return _page("Add an authenticator app", body, 400 if message else 200)


def enrol_confirm(
    client_name: str,
    q: str,
    csrf: str,
    enrollment_id: int,
    qr_svg: str | None,
    secret: str | None,
    message: str | None = None,
) -> HTMLResponse:
    shown = ""
    if qr_svg is not None and secret is not None:
        # The SVG is the service's own (segno), never a client's text.
        shown = (
            f"<p>Scan this code with your authenticator app:</p><div>{qr_svg}</div>"
            f"<p>Or type this key into it: <code>{escape(secret)}</code></p>"
        )
    body = (
        f"{shown}<p>Then enter the security code we mailed you and the code the app shows, to "
        f"continue to <strong>{escape(client_name)}</strong>.</p>"
        f'{_message(message)}<form method="post" action="/oauth/authorize">{_hidden(q, csrf)}'
        '<input type="hidden" name="action" value="enrol_confirm">'
        f'<input type="hidden" name="enrollment" value="{enrollment_id}">'
        '<label for="security_code">Security code (from the email)</label>'
        '<input type="text" id="security_code" name="security_code" autocomplete="off" inputmode="numeric" required>'
        '<label for="code">Code the app shows</label><input type="text" id="code" name="code" '
        'autocomplete="one-time-code" inputmode="numeric" required>'
        '<button type="submit">Add the app</button></form>'
    )
    return _page("Add an authenticator app", body, 400 if message else 200)


def backup_codes(client_name: str, codes: list[str], q: str, csrf: str) -> HTMLResponse:
    items = "".join(f"<li><code>{escape(c)}</code></li>" for c in codes)
    body = (
        "<p>The app is added. Keep these backup codes somewhere safe: each signs you in once if "
        "you lose the app. They are shown only now.</p>"
        f"<ul>{items}</ul>"
        f'<form method="post" action="/oauth/authorize">{_hidden(q, csrf)}'
        f'<button type="submit" name="action" value="continue">Continue to {escape(client_name)}</button></form>'
    )
    return _page("Your backup codes", body)
