"""The escalation chain's pure rules: members by layer, the difference to apply, the queue
rule, the step a wait reaches (issue 10, item 2)."""

from __future__ import annotations

import pytest

from callrouter.oncall.escalation import (
    EscalationPolicy,
    member_changes,
    member_interface,
    queue_rules,
    wanted_members,
)
from callrouter.oncall.roster import Layer, OnCallTeam, Technician

ALICE = Technician("Alice", "0611223344")
BRUNO = Technician("Bruno", "PJSIP/bruno")
MANON = Technician("Manon", "+33622334455")


def test_contacts_become_members_that_ask_for_the_confirmation_key() -> None:
    assert member_interface("0611223344") == "Local/0611223344@oncall-technician"
    assert member_interface("+33622334455") == "Local/+33622334455@oncall-technician"
    assert member_interface("PJSIP/bruno") == "Local/pjsip-bruno@oncall-technician"
    # dialled as is, these would ring without asking for the key, or not at all
    assert member_interface("SIP/bruno") is None
    assert member_interface("Local/agent5@agents") is None
    assert member_interface("06 11") is None


def test_penalties_follow_the_layers() -> None:
    wanted, unreachable = wanted_members(OnCallTeam(ALICE, BRUNO, MANON))

    assert {m.name: (m.penalty, m.layer) for m in wanted.values()} == {
        "Alice": (0, Layer.PRIMARY),
        "Bruno": (1, Layer.SECONDARY),
        "Manon": (2, Layer.MANAGER),
    }
    assert unreachable == []


def test_someone_on_two_layers_rings_from_the_first_and_undialable_ones_are_named() -> None:
    odd = Technician("Odd", "SIP/odd")
    wanted, unreachable = wanted_members(OnCallTeam(ALICE, odd, ALICE))

    assert [(m.name, m.penalty) for m in wanted.values()] == [("Alice", 0)]
    assert unreachable == ["Odd"]


def test_the_difference_adds_removes_and_repenalises_then_nothing() -> None:
    wanted, _ = wanted_members(OnCallTeam(ALICE, BRUNO, None))
    current = {
        "Local/pjsip-bruno@oncall-technician": 0,  # yesterday's primary, secondary today
        "Local/0699999999@oncall-technician": 1,  # off duty
    }

    changes = member_changes(current, wanted)

    assert [m.name for m in changes.add] == ["Alice"]
    assert changes.remove == ("Local/0699999999@oncall-technician",)
    assert [(m.name, m.penalty) for m in changes.penalty] == [("Bruno", 1)]
    after = {m.interface: m.penalty for m in wanted.values()}
    assert not member_changes(after, wanted)


def test_an_empty_team_empties_the_queue() -> None:
    changes = member_changes({"Local/1@oncall-technician": 0}, wanted_members(OnCallTeam())[0])

    assert changes.remove == ("Local/1@oncall-technician",) and not changes.add


@pytest.mark.parametrize(
    ("waited", "layer"),
    [(0, Layer.PRIMARY), (30, Layer.PRIMARY), (31, Layer.SECONDARY), (61, Layer.MANAGER)],
)
def test_a_wait_reaches_the_layer_the_rule_allows(waited: float, layer: Layer) -> None:
    # app_queue applies a rule once more than its time has passed
    assert EscalationPolicy().layer_after(waited) is layer


def test_the_queue_rule_widens_one_layer_per_delay() -> None:
    rules = queue_rules(EscalationPolicy(delays=(20, 45), pass_seconds=60))

    # each step also raises the layers before it: ringall rings the lowest penalty first
    # and the next only once those legs are gone
    assert "[oncall-escalation]\npenaltychange => 20,1,,1\npenaltychange => 45,2,,2\n" in rules


@pytest.mark.parametrize(
    "policy",
    [
        {"delays": (30,)},
        {"delays": (60, 30)},
        {"delays": (30, 30)},
        {"delays": (0, 30)},
        {"passes": 0},
        {"pass_seconds": 60},
    ],
)
def test_impossible_escalations_are_refused(policy: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EscalationPolicy(**policy)  # type: ignore[arg-type]
