"""The leg tracker picking an attempt up again after a reconnection or a restart, and the
ActionID tag that names an attempt across processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callrouter.ami import Message
from callrouter.callbacks.legs import LegTracker, action_id_tag, attempt_of_action
from callrouter.callbacks.rules import Outcome

from .test_legs_traces import Replay, _attempt_of, replay

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
EXPERT = "Local/agent1@agents-00000000;1"
CUSTOMER = "Local/0612345678@customers-00000001;1"


def success_events() -> Replay:
    return replay(LegTracker(attempt_of=lambda _: None))


def test_the_tag_names_the_attempt_at_the_end_of_any_action_id() -> None:
    assert attempt_of_action(f"cr-1a2b3c4d-17-{action_id_tag(42)}") == 42
    assert attempt_of_action(action_id_tag(7)) == 7
    assert attempt_of_action("cr-1a2b3c4d-17") is None
    assert attempt_of_action("cr-1-callback-") is None
    assert attempt_of_action("cr-1-callback-12-x") is None


def test_resumed_after_missing_the_dial_it_is_connected_at_the_bridge() -> None:
    """Everything up to the customer's DialEnd happened while the link was down."""
    events = success_events()
    tracker = LegTracker(attempt_of=_attempt_of)
    assert tracker.resume(2, EXPERT, bridged=False, at=NOW) == []
    start = events.index("DialEnd", Channel=EXPERT, DestChannel=CUSTOMER)
    results = [r for at, m in events.events[start + 1 :] for r in tracker.feed(m, at)]

    [result] = results
    assert result.outcome is Outcome.CONNECTED
    assert result.connected_at == events.when("BridgeEnter", Channel=EXPERT)
    assert tracker.in_flight() == []


def test_resumed_while_both_are_bridged_it_is_connected_as_seen_then_once() -> None:
    events = success_events()
    tracker = LegTracker(attempt_of=_attempt_of)
    [result] = tracker.resume(2, EXPERT, bridged=True, at=NOW)
    assert (result.outcome, result.connected_at, result.ended_at) == (
        Outcome.CONNECTED,
        NOW,
        None,
    )
    start = events.index("BridgeEnter", Channel=EXPERT)
    assert [r for at, m in events.events[start + 1 :] for r in tracker.feed(m, at)] == []
    assert tracker.in_flight() == []


def test_an_expert_who_hangs_up_during_the_announcement_is_a_failed_attempt() -> None:
    tracker = LegTracker()
    tracker.expect(9)
    answered = Message.event(
        "OriginateResponse",
        [
            ("ActionID", f"cr-1-{action_id_tag(9)}"),
            ("Response", "Success"),
            ("Channel", "PJSIP/expert7-00000001"),
            ("Reason", "4"),
        ],
    )
    assert tracker.feed(answered, NOW) == []
    hangup = Message.event(
        "Hangup", [("Channel", "PJSIP/expert7-00000001"), ("Context", "callback")]
    )
    [result] = tracker.feed(hangup, NOW + timedelta(seconds=3))
    assert result.outcome is Outcome.FAILED
    assert result.expert_answered_at == NOW
    assert result.ended_at == NOW + timedelta(seconds=3)
