"""Holder tokens: accepted while fresh and untouched, refused once expired, forged or mangled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrouter.accounts.tokens import HOLDER_ROLE, InvalidToken, TokenSigner

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SECRET = b"s" * 32


def test_a_fresh_token_names_its_account_role_and_expiry() -> None:
    issued = TokenSigner(SECRET).issue("12345678", HOLDER_ROLE, NOW)
    assert issued.expires_at == NOW + timedelta(hours=8)
    claims = TokenSigner(SECRET).verify(issued.token, NOW + timedelta(hours=7, minutes=59))
    assert (claims.account_number, claims.role, claims.expires_at) == (
        "12345678",
        HOLDER_ROLE,
        issued.expires_at,
    )


def test_an_expired_token_asks_to_sign_in_again() -> None:
    issued = TokenSigner(SECRET).issue("12345678", HOLDER_ROLE, NOW)
    with pytest.raises(InvalidToken, match="expired"):
        TokenSigner(SECRET).verify(issued.token, NOW + timedelta(hours=8))


def test_a_token_signed_with_another_secret_is_refused() -> None:
    issued = TokenSigner(b"o" * 32).issue("12345678", HOLDER_ROLE, NOW)
    with pytest.raises(InvalidToken, match="not valid"):
        TokenSigner(SECRET).verify(issued.token, NOW)


def test_changing_the_account_in_the_payload_breaks_the_signature() -> None:
    signer = TokenSigner(SECRET)
    mine = signer.issue("12345678", HOLDER_ROLE, NOW).token
    theirs = signer.issue("87654321", HOLDER_ROLE, NOW).token
    forged = theirs.split(".")[0] + "." + mine.split(".")[1]
    with pytest.raises(InvalidToken):
        signer.verify(forged, NOW)


@pytest.mark.parametrize("token", ["", "abc", "abc.", ".abc", "a.b.c", "!!!.???"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        TokenSigner(SECRET).verify(token, NOW)


def test_a_short_secret_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenSigner(b"short")
