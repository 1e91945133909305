"""Each emergency's escalation, followed from the events Asterisk sends (issue 10, item 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callrouter.ami.message import Message
from callrouter.oncall.escalation import EscalationPolicy
from callrouter.oncall.roster import Layer
from callrouter.oncall.tracking import EscalationState, EscalationTracker, StepKind

T0 = datetime(2025, 3, 4, 21, 0, tzinfo=UTC)
CALLER = "1741122000.10"
PRIMARY, SECONDARY, MANAGER = (
    "Local/0611111111@oncall-technician",
    "Local/pjsip-bruno@oncall-technician",
    "Local/0633333333@oncall-technician",
)


def event(name: str, **headers: str) -> Message:
    return Message([f"Event: {name}", *(f"{key}: {value}" for key, value in headers.items())])


def user_event(kind: str, **headers: str) -> Message:
    return event("UserEvent", UserEvent=kind, **headers)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tracker_with_members() -> EscalationTracker:
    tracker = EscalationTracker("oncall", EscalationPolicy())
    for interface, penalty, name in (
        (PRIMARY, 0, "Alice"),
        (SECONDARY, 1, "Bruno"),
        (MANAGER, 2, "Manon"),
    ):
        tracker.on_event(
            event(
                "QueueMemberAdded",
                Queue="oncall",
                Interface=interface,
                MemberName=name,
                Penalty=str(penalty),
            ),
            T0,
        )
    return tracker


def join(tracker: EscalationTracker, seconds: float = 0) -> list[StepKind]:
    joined = event(
        "QueueCallerJoin",
        Queue="oncall",
        Uniqueid=CALLER,
        CallerIDNum="0612345678",
        Channel="Local/x;2",
    )
    return [step.kind for step in tracker.on_event(joined, at(seconds))]


def called(tracker: EscalationTracker, interface: str, name: str, seconds: float) -> list[StepKind]:
    ring = event(
        "AgentCalled", Queue="oncall", Uniqueid=CALLER, Interface=interface, MemberName=name
    )
    return [step.kind for step in tracker.on_event(ring, at(seconds))]


def test_an_unanswered_primary_escalates_to_the_secondary_then_the_manager() -> None:
    tracker = tracker_with_members()

    assert join(tracker) == [StepKind.JOINED]
    assert called(tracker, PRIMARY, "Alice", 0) == [StepKind.RINGING]
    assert called(tracker, PRIMARY, "Alice", 17) == []  # the next ring round: nothing new
    assert called(tracker, SECONDARY, "Bruno", 34) == [StepKind.RINGING, StepKind.ESCALATED]
    assert tracker.live()[0].layer is Layer.SECONDARY
    assert called(tracker, MANAGER, "Manon", 68) == [StepKind.RINGING, StepKind.ESCALATED]

    (live,) = tracker.live()
    assert (live.layer, live.state, live.caller_id) == (
        Layer.MANAGER,
        EscalationState.WAITING,
        "0612345678",
    )
    assert live.waited(at(70)) == 70


def test_a_voicemail_declines_and_the_escalation_goes_on_until_someone_confirms() -> None:
    tracker = tracker_with_members()
    join(tracker)
    called(tracker, PRIMARY, "Alice", 0)

    declined = tracker.on_event(
        user_event("OnCallDeclined", CallerUniqueid=CALLER, Technician=PRIMARY), at(8)
    )
    assert [(s.kind, s.technician) for s in declined] == [(StepKind.DECLINED, PRIMARY)]
    assert tracker.live()[0].state is EscalationState.WAITING

    assert called(tracker, SECONDARY, "Bruno", 34) == [StepKind.RINGING, StepKind.ESCALATED]
    confirmed = tracker.on_event(
        user_event("OnCallConfirmed", CallerUniqueid=CALLER, Hold="7", Technician=SECONDARY),
        at(40),
    )
    assert confirmed[0].kind is StepKind.CONFIRMED
    connect = event(
        "AgentConnect", Queue="oncall", Uniqueid=CALLER, Interface=SECONDARY, MemberName="Bruno"
    )
    (connected,) = tracker.on_event(connect, at(41))
    assert (connected.kind, connected.escalation.state, connected.escalation.technician) == (
        StepKind.CONNECTED,
        EscalationState.CONNECTED,
        "Bruno",
    )
    (ended,) = tracker.on_event(event("Hangup", Uniqueid=CALLER), at(300))
    assert ended.kind is StepKind.ENDED and tracker.live() == []


def test_the_next_pass_starts_again_from_the_primary() -> None:
    tracker = tracker_with_members()
    join(tracker)
    called(tracker, MANAGER, "Manon", 68)

    passed = tracker.on_event(user_event("OnCallPass", CallerUniqueid=CALLER, Pass="2"), at(90))
    assert [s.kind for s in passed] == [StepKind.PASS]
    assert join(tracker, 90) == []
    (live,) = tracker.live()
    assert (live.pass_number, live.layer, live.started_at) == (2, Layer.PRIMARY, T0)
    # the primary rings again in the new pass: a step again
    assert called(tracker, PRIMARY, "Alice", 90) == [StepKind.RINGING]


def test_the_last_pass_unanswered_is_owed_a_callback() -> None:
    tracker = tracker_with_members()
    join(tracker)

    (step,) = tracker.on_event(
        user_event("OnCallUnanswered", CallerUniqueid=CALLER, Caller="0612345678"), at(180)
    )
    assert (step.kind, step.escalation.state) == (StepKind.UNANSWERED, EscalationState.UNANSWERED)


def test_an_empty_rota_is_unanswered_without_ever_being_queued() -> None:
    tracker = EscalationTracker("oncall", EscalationPolicy())

    (step,) = tracker.on_event(
        user_event(
            "OnCallUnanswered", CallerUniqueid=CALLER, Caller="0612345678", Status="JOINEMPTY"
        ),
        T0,
    )
    assert (step.kind, step.escalation.caller_id) == (StepKind.UNANSWERED, "0612345678")


def test_a_caller_who_hangs_up_in_the_queue_abandons() -> None:
    tracker = tracker_with_members()
    join(tracker)

    (step,) = tracker.on_event(event("QueueCallerAbandon", Queue="oncall", Uniqueid=CALLER), at(12))
    assert step.escalation.state is EscalationState.ABANDONED


def test_other_queues_and_unknown_callers_are_not_emergencies() -> None:
    tracker = tracker_with_members()

    other = event("QueueCallerJoin", Queue="coordinators", Uniqueid="1.1", CallerIDNum="06")
    assert tracker.on_event(other, T0) == []
    assert tracker.on_event(user_event("OnCallConfirmed", CallerUniqueid="nobody"), T0) == []
    assert tracker.on_event(event("Hangup", Uniqueid="1.1"), T0) == []
    assert tracker.live() == []


def test_after_a_login_callers_waiting_are_found_at_the_step_their_wait_reached() -> None:
    tracker = EscalationTracker("oncall", EscalationPolicy())
    status = [
        event("QueueMember", Queue="oncall", Location=SECONDARY, Penalty="1"),
        event("QueueEntry", Queue="oncall", Uniqueid=CALLER, CallerIDNum="0612345678", Wait="45"),
        event("QueueEntry", Queue="coordinators", Uniqueid="2.2", Wait="5"),
    ]

    (found,) = tracker.resync(status, at(45))
    assert (found.kind, found.escalation.layer, found.escalation.started_at) == (
        StepKind.FOUND,
        Layer.SECONDARY,
        T0,
    )
    # the penalty read from QueueStatus names the layer of the next ring
    assert called(tracker, SECONDARY, "Bruno", 50) == [StepKind.RINGING]


def test_emergencies_that_ended_while_the_link_was_down_end() -> None:
    tracker = tracker_with_members()
    join(tracker)

    (ended,) = tracker.resync([], at(100))
    assert ended.kind is StepKind.ENDED and tracker.live() == []
