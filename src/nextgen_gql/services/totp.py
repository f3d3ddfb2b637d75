"""Time-based one-time passwords (RFC 6238) as authenticator apps make them: 6 digits,
30-second steps, HMAC-SHA1 (what every app supports), with pyotp; and the QR code that
carries the ``otpauth://`` URI to the app (segno).

A code is accepted for the current step and one step either way (clock drift), and only
for a step later than the last one accepted (``after``), so no code works twice.
"""

from __future__ import annotations

import datetime as dt
import hmac
import io

import pyotp

__all__ = [
    "DIGITS",
    "DRIFT_STEPS",
    "ISSUER",
    "STEP_SECONDS",
    "matching_step",
    "new_secret",
    "normalize",
    "otpauth_uri",
    "qr_svg",
]

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
ISSUER = "PACER NextGen"


def new_secret() -> str:
    """A new random secret, base32 (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def otpauth_uri(secret: str, username: str) -> str:
    """The ``otpauth://totp/...`` URI an app reads from the QR code."""
    return _totp(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as a standalone SVG document (black on white, quiet zone kept)."""
    import segno  # here: every command imports this module, few draw a QR code (~30 ms)

    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out, kind="svg", scale=4, light="#fff", xmldecl=False, svgns=True, title="QR code"
    )
    return out.getvalue().decode("utf-8")


def normalize(code: str) -> str:
    """A typed code without blanks (apps show ``123 456``)."""
    return "".join(code.split())


def matching_step(secret: str, code: str, at: dt.datetime, *, after: int = 0) -> int | None:
    """The step (``at``'s, or one either side) whose code ``code`` is, if later than ``after``."""
    code = normalize(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = _totp(secret)
    current = int(at.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
