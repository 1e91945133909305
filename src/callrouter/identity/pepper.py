"""The PIN pepper: a server-side secret mixed into every PIN hash (identity/codes.py).

It lives in the environment, never in the database or the config file, so that a stolen
database alone does not give the PINs back. Changing it makes every peppered PIN wrong:
keep it with the deployment's other secrets.
"""

from __future__ import annotations

from collections.abc import Mapping

from callrouter.errors import CallrouterError

PIN_PEPPER_ENV = "CALLROUTER_PIN_PEPPER"
PIN_PEPPER_MIN_LENGTH = 32
#: The demo's own database only: its accounts are throwaway, and `make demo` must work
#: without any setup. Never used by `serve` or the account commands.
DEMO_PIN_PEPPER = b"callrouter-demo-pepper-not-a-secret"


class MissingPinPepper(CallrouterError):
    """The pepper is absent or too short to be a secret."""


def pin_pepper(environ: Mapping[str, str]) -> bytes:
    """The pepper from $CALLROUTER_PIN_PEPPER, or a clear refusal to start without it."""
    text = environ.get(PIN_PEPPER_ENV, "")
    if not text:
        raise MissingPinPepper(
            f"{PIN_PEPPER_ENV} is not set: PINs are hashed with this server-side secret "
            f"(32+ characters, e.g. from `python3 -c 'import secrets; "
            f"print(secrets.token_urlsafe(32))'`); keep it, changing it invalidates every PIN"
        )
    if len(text) < PIN_PEPPER_MIN_LENGTH:
        raise MissingPinPepper(
            f"{PIN_PEPPER_ENV} must be at least {PIN_PEPPER_MIN_LENGTH} characters long"
        )
    return text.encode("utf-8")


def demo_pin_pepper(environ: Mapping[str, str]) -> bytes:
    """The demo's pepper: $CALLROUTER_PIN_PEPPER when set, else the demo constant."""
    if environ.get(PIN_PEPPER_ENV):
        return pin_pepper(environ)
    return DEMO_PIN_PEPPER
