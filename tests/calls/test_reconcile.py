"""The reconciliation rules, without a PBX or a database: where the PBX holds a call and
what its latest record says give the fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrouter.ami.message import Message
from callrouter.calls.reconcile import (
    ConfirmRedirect,
    CreateRecord,
    FlagFailsafe,
    HeldCall,
    PlacedChannel,
    held_call,
    needs_variables,
    placed_channel,
    plan,
)
from callrouter.calls.records import LatestRecord
from callrouter.routing.decision import RoutingPolicy

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
QUEUED = PlacedChannel(
    channel="PJSIP/trunk-0000002a",
    uniqueid="1795433938.7",
    linkedid="1795433938.6",
    caller_id="0612345678",
    queue="coordinators",
    seconds=42,
)
HEARING = PlacedChannel(
    channel="PJSIP/trunk-0000002b",
    uniqueid="1795433938.9",
    linkedid="1795433938.9",
    caller_id="0699999999",
    queue=None,
    seconds=12,
)


def show_channel(**headers: str) -> Message:
    base = {
        "Channel": "PJSIP/trunk-0000002a",
        "Uniqueid": "1795433938.7",
        "Linkedid": "1795433938.6",
        "CallerIDNum": "0612345678",
        "Context": "hotline-queue",
        "Exten": "s",
        "Application": "Queue",
        "ApplicationData": "coordinators,,,,600",
        "Duration": "00:00:42",
    }
    return Message.event("CoreShowChannel", {**base, **headers})


@pytest.mark.parametrize(
    ("headers", "queue"),
    [
        ({}, "coordinators"),  # the dialplan's [hotline-queue] running Queue()
        ({"Context": "queue-oncall", "Application": "Queue", "ApplicationData": ""}, "oncall"),
        ({"Context": "hotline-message", "Application": "Playback"}, None),
    ],
)
def test_channels_in_a_queue_or_hearing_a_message_are_placed(
    headers: dict[str, str], queue: str | None
) -> None:
    placed = placed_channel(show_channel(**headers))
    assert placed is not None
    assert (placed.queue, placed.seconds, placed.linkedid) == (queue, 42, "1795433938.6")


@pytest.mark.parametrize(
    "headers",
    [
        {"Context": "hotline-hold", "Application": "MusicOnHold"},  # still waiting for us
        {"Context": "hotline-answer", "Application": "Read"},
        {"Context": "agents", "Application": "Dial"},
        {"Uniqueid": ""},
        {"ApplicationData": ""},
        # [hotline-queue] before Queue(): Set's data is no queue name.
        {"Application": "Set", "ApplicationData": "CDR(userfield)=failsafe"},
    ],
)
def test_other_channels_are_not(headers: dict[str, str]) -> None:
    assert placed_channel(show_channel(**headers)) is None


def test_variables_are_read_in_order_and_garbage_is_harmless() -> None:
    call = held_call(QUEUED, ["coordinators-queue", "10", "40000001", "3"])
    assert (call.route, call.queue_priority, call.account, call.pass_digit) == (
        "coordinators-queue",
        10,
        "40000001",
        "3",
    )
    call = held_call(QUEUED, ["", "x", "", ""])
    assert (call.queue_priority, call.account) == (None, None)


def fixes(call: HeldCall, latest: LatestRecord | None = None) -> list[object]:
    records = {} if latest is None else {call.placed.uniqueid: latest}
    return list(plan([call], records, now=NOW, window="coordinators", policy=RoutingPolicy()))


@pytest.mark.parametrize("route", ["", "failsafe"])
def test_a_caller_the_failsafe_queued_without_a_record_gets_a_failsafe_record(route: str) -> None:
    [fix] = fixes(HeldCall(QUEUED, route, 0, None, ""))
    assert isinstance(fix, CreateRecord)
    record = fix.record
    assert record.failsafe and not record.redirected
    assert (record.target, record.queue, record.caller_status) == (
        "coordinators-queue",
        "coordinators",
        "failsafe",
    )
    assert record.arrived_at == NOW - timedelta(seconds=42)
    assert record.reconciled_at == NOW


def test_a_decision_carried_out_without_a_record_is_recovered_from_the_variables() -> None:
    [fix] = fixes(HeldCall(QUEUED, "coordinators-queue", 10, "40000001", "3"))
    assert isinstance(fix, CreateRecord)
    record = fix.record
    assert (record.target, record.queue_priority, record.account_number) == (
        "coordinators-queue",
        10,
        "40000001",
    )
    assert record.chosen_pass == "prioritaire"
    assert record.redirected and not record.failsafe
    assert record.caller_status == "recovered"


def test_a_message_decision_is_recovered_without_a_queue() -> None:
    [fix] = fixes(HeldCall(HEARING, "closed-message", None, None, "1"))
    assert isinstance(fix, CreateRecord)
    assert (fix.record.target, fix.record.queue, fix.record.queue_priority) == (
        "closed-message",
        None,
        None,
    )


def test_a_dialplan_refusal_or_an_unknown_route_is_left_alone() -> None:
    assert fixes(HeldCall(HEARING, "refused", None, None, "")) == []
    # The fail-safe only ever queues: no route on a caller hearing a message is not one.
    assert fixes(HeldCall(HEARING, "", None, None, "")) == []


def test_a_redirect_whose_answer_was_lost_is_confirmed_where_it_sent_the_caller() -> None:
    failed = LatestRecord(5, "coordinators-queue", "coordinators", redirected=False, failsafe=False)
    assert fixes(HeldCall(QUEUED, "coordinators-queue", 0, None, "1"), failed) == [
        ConfirmRedirect(5)
    ]
    # Elsewhere than the decision said: not confirmed.
    oncall = LatestRecord(6, "oncall-queue", "oncall", redirected=False, failsafe=False)
    assert fixes(HeldCall(QUEUED, "oncall-queue", 10, None, "3"), oncall) == []


def test_a_failed_redirect_then_the_failsafe_flags_the_decision() -> None:
    failed = LatestRecord(7, "oncall-queue", "oncall", redirected=False, failsafe=False)
    assert fixes(HeldCall(QUEUED, "failsafe", 0, None, ""), failed) == [FlagFailsafe(7)]
    flagged = LatestRecord(7, "oncall-queue", "oncall", redirected=False, failsafe=True)
    assert fixes(HeldCall(QUEUED, "failsafe", 0, None, ""), flagged) == []


def test_a_settled_record_needs_nothing_but_a_pin_retry_may_hide_a_lost_decision() -> None:
    settled = LatestRecord(8, "coordinators-queue", "coordinators", redirected=True, failsafe=False)
    assert not needs_variables(settled)
    assert fixes(HeldCall(QUEUED, "coordinators-queue", 0, None, "1"), settled) == []

    retry = LatestRecord(9, "pin-retry", None, redirected=True, failsafe=False)
    assert needs_variables(retry) and needs_variables(None)
    [fix] = fixes(HeldCall(QUEUED, "coordinators-queue", 0, "40000001", "1"), retry)
    assert isinstance(fix, CreateRecord) and fix.record.target == "coordinators-queue"


def test_a_caller_queued_after_a_pin_retry_with_no_decision_since_was_queued_by_the_failsafe() -> (
    None
):
    retry = LatestRecord(9, "pin-retry", None, redirected=True, failsafe=False)
    # The retry's Redirect took effect; the new attempt went to the fail-safe.
    for latest in (retry, None):
        [fix] = fixes(HeldCall(QUEUED, "pin-retry", 0, None, "1"), latest)
        assert isinstance(fix, CreateRecord) and fix.record.failsafe
    done = LatestRecord(10, "coordinators-queue", "coordinators", redirected=False, failsafe=True)
    assert fixes(HeldCall(QUEUED, "pin-retry", 0, None, "1"), done) == []
    assert not needs_variables(done)
