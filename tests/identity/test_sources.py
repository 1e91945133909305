"""The keys failures are counted under: a line, an address (IPv6: its /64), an entry."""

from __future__ import annotations

import pytest

from callrouter.identity.sources import address_source, entry_key, line_source


@pytest.mark.parametrize(
    ("caller_id", "source"),
    [
        ("33612345678", "tel:0612345678"),
        ("+33 6 12 34 56 78", "tel:0612345678"),
        ("112", "tel:112"),
        ("12", "tel:anonymous"),
        ("anonymous", "tel:anonymous"),
        ("", "tel:anonymous"),
        (None, "tel:anonymous"),
    ],
)
def test_a_line_is_its_canonical_caller_id(caller_id: str | None, source: str) -> None:
    assert line_source(caller_id) == source


@pytest.mark.parametrize(
    ("address", "source"),
    [
        ("198.51.100.7", "ip:198.51.100.7"),
        (" 198.51.100.7 ", "ip:198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "ip:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "ip:2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "ip:198.51.100.7"),
        ("not an address", "ip:unknown"),
        ("", "ip:unknown"),
        (None, "ip:unknown"),
    ],
)
def test_an_address_is_a_client(address: str | None, source: str) -> None:
    assert address_source(address) == source


def test_an_entry_is_kept_as_typed_up_to_32_characters() -> None:
    assert entry_key(" 12345678 ") == "12345678"
    assert entry_key("9" * 32) == "9" * 32
    assert entry_key("9" * 33) == "9" * 32
