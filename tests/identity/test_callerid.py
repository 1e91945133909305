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
        ("06/12/34/56/78", "0612345678"),
        ("+33612345678", "0612345678"),
        ("+33 6 12 34 56 78", "0612345678"),
        ("+33 (0)6 12 34 56 78", "0612345678"),
        ("0033612345678", "0612345678"),
        ("0033 6 12 34 56 78", "0612345678"),
        # French SIP trunks often present the country code without + or 00.
        ("33612345678", "0612345678"),
        ("33 6 12 34 56 78", "0612345678"),
        ("33.6.12.34.56.78", "0612345678"),
        # ... or the national number without its 0.
        ("612345678", "0612345678"),
        ("+33 1 23 45 67 89", "0123456789"),
        ("33123456789", "0123456789"),
        ("+44 20 7946 0000", "00442079460000"),
        ("00442079460000", "00442079460000"),
        ("+1 212 555 1234", "0012125551234"),
        (" 3900 ", "3900"),
        # The shortest and longest numbers a trunk may present.
        ("112", "112"),
        ("1" * 20, "1" * 20),
    ],
)
def test_numbers_take_one_canonical_form(raw: str, expected: str) -> None:
    assert normalise_caller_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("112", "112"),  # 3 digits: the shortest number kept
        ("1-1-2", "112"),
        ("1001", "1001"),  # a PBX extension is not a full phone number: its digits
        ("0612", "0612"),
        ("1" * 20, "1" * 20),  # 20 digits: the longest kept
        ("12345 67890.12345-67890", "12345678901234567890"),
    ],
)
def test_short_and_long_numbers_keep_their_digits(raw: str, expected: str) -> None:
    assert normalise_caller_id(raw) == expected


@pytest.mark.parametrize("raw", ["12", "1 2", "1" * 21, "+" + "1" * 21, "1234567890 1234567890 1"])
def test_outside_3_to_20_digits_is_refused(raw: str) -> None:
    with pytest.raises(InvalidCallerId, match="a phone number has 3 to 20 digits"):
        normalise_caller_id(raw)


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "anonymous", "<unknown>", "06 12 AB", "٠٦١٢٣٤", "06+12345678", "++33612345678"],
)
def test_what_is_not_a_phone_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidCallerId, match="only digits, spaces, dots, dashes and a leading"):
        normalise_caller_id(raw)


def test_the_refusal_names_the_number_as_presented() -> None:
    with pytest.raises(InvalidCallerId) as caught:
        normalise_caller_id(" anonymous ")
    assert caught.value.raw == " anonymous "


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "anonymous",
            "invalid caller id 'anonymous': "
            "only digits, spaces, dots, dashes and a leading + are allowed",
        ),
        ("12", "invalid caller id '12': a phone number has 3 to 20 digits"),
    ],
)
def test_the_refusal_says_what_is_wrong_with_the_number_as_presented(
    raw: str, message: str
) -> None:
    # Staff registering a beneficiary read this message as it is.
    with pytest.raises(InvalidCallerId) as caught:
        normalise_caller_id(raw)
    assert str(caught.value) == message
    assert caught.value.raw == raw
