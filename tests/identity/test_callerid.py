"""Caller IDs: the number the PBX presents matches the one the holder typed."""

from __future__ import annotations

import pytest

from callrouter.identity.callerid import normalise_caller_id
from callrouter.identity.errors import InvalidCallerId


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0612345678", "0612345678"),
        ("06 12 34 56 78", "0612345678"),
        ("06.12.34.56.78", "0612345678"),
        ("06-12-34-56-78", "0612345678"),
        ("+33612345678", "0612345678"),
        ("+33 6 12 34 56 78", "0612345678"),
        ("+33 (0)6 12 34 56 78", "0612345678"),
        ("0033612345678", "0612345678"),
        ("+44 20 7946 0000", "00442079460000"),
        ("00442079460000", "00442079460000"),
        (" 3900 ", "3900"),
        # The shortest and longest numbers a trunk may present.
        ("112", "112"),
        ("1" * 20, "1" * 20),
    ],
)
def test_numbers_take_one_canonical_form(raw: str, expected: str) -> None:
    assert normalise_caller_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "anonymous", "<unknown>", "06 12 AB", "12", "1" * 21, "٠٦١٢"])
def test_what_is_not_a_phone_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidCallerId, match="invalid caller id"):
        normalise_caller_id(raw)
