"""A PIN-retry Redirect that took effect while the AMI link dropped before its answer.

Seen on Asterisk 22.10.1 (docs/real-asterisk.md, item 12): the caller was asking for the PIN
again, the record said the Redirect failed, and the reconciliation after the reconnect left
it so, because a channel in [hotline-pin-retry] was not one it looked at.
"""

from __future__ import annotations

from datetime import UTC, datetime

from callrouter.ami.message import Message
from callrouter.calls.reconcile import ConfirmRedirect, held_call, placed_channel, plan
from callrouter.calls.records import LatestRecord
from callrouter.routing.decision import RoutingPolicy

NOW = datetime(2026, 12, 1, 16, 34, tzinfo=UTC)


def retrying() -> Message:
    """The CoreShowChannel item of the caller, 0.6 s after the Redirect (real capture)."""
    return Message.event(
        "CoreShowChannel",
        {
            "Channel": "Local/0800100200@from-trunk-000000c9;2",
            "Uniqueid": "1796142867.402",
            "Linkedid": "1796142867.401",
            "CallerIDNum": "0700000603",
            "Context": "hotline-pin-retry",
            "Exten": "s",
            "Priority": "4",
            "Application": "Playback",
            "ApplicationData": "callrouter/code-incorrect",
            "Duration": "00:00:10",
        },
    )


def test_a_caller_asked_for_the_pin_again_is_placed_hearing_the_retry() -> None:
    placed = placed_channel(retrying())
    assert placed is not None
    assert (placed.uniqueid, placed.queue) == ("1796142867.402", None)


def test_the_lost_answer_of_a_pin_retry_redirect_is_confirmed() -> None:
    placed = placed_channel(retrying())
    assert placed is not None
    call = held_call(placed, ["pin-retry", "", "57959386", "1"])
    failed = LatestRecord(83, "pin-retry", None, redirected=False, failsafe=False)
    fixes = plan(
        [call], {placed.uniqueid: failed}, now=NOW, window="coordinators", policy=RoutingPolicy()
    )
    assert fixes == [ConfirmRedirect(83)]
