"""Masking callers' personal data for the roles that do not need it (pure)."""

from __future__ import annotations

import pytest

from callrouter.http.access import (
    Role,
    mask_account_numbers,
    mask_caller_id,
    mask_numbers_in,
    visibility,
)


@pytest.mark.parametrize(
    ("caller_id", "masked"),
    [
        ("0612345578", "06 •• •• •5 78"),
        ("+33612345578", "+3 3• •• •• •5 78"),
        ("06 12 34 55 78", "06 •• •• •5 78"),
        ("1001", "•• 01"),
        ("112", "• 12"),
        ("7", "•"),
        ("anonymous", "•••"),
        ("Claire Lefèvre", "•••"),
        ("", ""),
    ],
)
def test_caller_ids_are_masked(caller_id: str, masked: str) -> None:
    assert mask_caller_id(caller_id) == masked


def test_account_numbers_in_a_reason_are_masked() -> None:
    reason = "account 55501234 has 0 points, 35 are needed"
    assert mask_account_numbers(reason) == "account •••••••• has 0 points, 35 are needed"


def test_only_admins_see_callers_whole() -> None:
    assert visibility(Role.ADMIN).full_caller_ids
    for role in (Role.COORDINATOR, Role.SUPERVISOR, Role.HOLDER):
        seen = visibility(role)
        assert not (seen.full_caller_ids or seen.caller_names or seen.account_numbers)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Local/0733333333@hotline-00000000;1", "Local/07 •• •• •3 33@hotline-00000000;1"),
        ("0733333333", "07 •• •• •3 33"),
        ("SIP/+33612345578-0000001a", "SIP/+3 3• •• •• •5 78-0000001a"),
        ("PJSIP/trunk-00000007", "PJSIP/trunk-00000007"),
        ("Local/agent1@agents-00000002;2", "Local/agent1@agents-00000002;2"),
        ("coordinators-queue", "coordinators-queue"),
    ],
)
def test_numbers_inside_channel_names_are_masked(text: str, masked: str) -> None:
    assert mask_numbers_in(text) == masked
