"""The guarantee kept by the dispatcher, on each database, with a fake clock (no sleeping):
deadlines in business hours, refunds exactly once, retries, the next expert, warnings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from callrouter.calendar import PARIS
from callrouter.callbacks.alerts import AlertKind
from callrouter.callbacks.opening import CallbackRequest, CallbackRequestError
from callrouter.callbacks.rules import Outcome
from callrouter.experts.rules import Expert
from callrouter.ledger.prices import AssistanceLevel
from callrouter.passes import Pass

from .conftest import HOURS, Desk, expert

DEADLINE = timedelta(hours=4)


async def test_a_callback_opened_at_17_is_due_at_11_the_next_business_day(desk: Desk) -> None:
    desk.clock.set(datetime(2026, 12, 1, 17, 0, tzinfo=PARIS))
    _, callback_id = await desk.open()
    row = await desk.callback(callback_id)
    assert row.due_at == datetime(2026, 12, 2, 11, 0, tzinfo=PARIS)
    assert row.number == "0612345678"


async def test_no_incident_is_opened_when_its_callback_cannot_be(desk: Desk) -> None:
    account = await desk.account(balance=100)
    assert desk.openings is not None
    with pytest.raises(CallbackRequestError) as refused:
        await desk.openings.open_incident(
            account,
            level=AssistanceLevel.STANDARD,
            pass_=Pass.FOUR_HOURS,
            idempotency_key="no-number",
            callback=CallbackRequest("knx"),
            call="1741000000.99",
        )
    assert refused.value.field == "callback_number"
    assert await desk.ledger.balance(account) == 100


async def test_met_at_3h59_is_not_refunded(desk: Desk) -> None:
    desk.busy = {"chloe", "david"}
    incident, callback_id = await desk.open()
    engine = desk.new_engine()
    desk.advance(DEADLINE - timedelta(minutes=1))
    desk.busy = set()
    await engine.run_once()
    [request] = desk.placer.placed
    await engine.on_result(desk.result(request, Outcome.CONNECTED))
    desk.advance(timedelta(hours=1))
    await engine.run_once()
    row = await desk.callback(callback_id)
    assert row.close_reason == "met" and row.breached_at is None
    assert await desk.refunds(incident) == 0


async def test_not_met_at_4h00_is_refunded_once_and_still_called_back(desk: Desk) -> None:
    desk.busy = {"chloe", "david"}
    account = await desk.account(balance=100)
    incident, callback_id = await desk.open(account)
    engine = desk.new_engine()
    desk.advance(DEADLINE)
    await engine.run_once()
    await engine.run_once()
    assert await desk.refunds(incident) == 1
    assert await desk.ledger.balance(account) == 100
    assert (await desk.callback(callback_id)).breached_at == desk.clock.now()
    assert [alert.kind for alert in desk.alerts].count(AlertKind.BREACHED) == 1
    desk.busy = set()
    await engine.run_once()
    [request] = desk.placer.placed
    assert request.callback_id == callback_id
    await engine.on_result(desk.result(request, Outcome.CONNECTED))
    assert await desk.refunds(incident) == 1


async def test_met_after_the_deadline_is_a_breach(desk: Desk) -> None:
    incident, callback_id = await desk.open()
    engine = desk.new_engine()
    desk.advance(DEADLINE - timedelta(minutes=2))
    await engine.run_once()
    [request] = desk.placer.placed
    connected_at = desk.clock.now() + timedelta(minutes=3)
    await engine.on_result(desk.result(request, Outcome.CONNECTED, at=connected_at))
    assert await desk.refunds(incident) == 1
    row = await desk.callback(callback_id)
    assert row.close_reason == "met" and row.breached_at is not None


async def test_a_deadline_passed_while_stopped_is_refunded_at_start_up_once(desk: Desk) -> None:
    desk.busy = {"chloe", "david"}
    incident, _ = await desk.open()
    desk.advance(timedelta(days=1))
    for run in ("first start", "second start"):
        dispatcher = desk.new_dispatcher(name=run)
        dispatcher.start()
        try:
            await dispatcher.leading.wait()
        finally:
            await dispatcher.close()
    assert await desk.refunds(incident) == 1


async def test_customer_no_answer_is_retried_after_the_delay(desk: Desk) -> None:
    _, callback_id = await desk.open()
    engine = desk.new_engine()
    await engine.run_once()
    [first] = desk.placer.placed
    await engine.on_result(desk.result(first, Outcome.CUSTOMER_NO_ANSWER))
    await engine.run_once()
    desk.advance(timedelta(minutes=9, seconds=59))
    await engine.run_once()
    assert len(desk.placer.placed) == 1
    desk.advance(timedelta(seconds=1))
    await engine.run_once()
    second = desk.placer.placed[1]
    assert second.callback_id == callback_id
    assert (await desk.callback(callback_id)).customer_tries == 1


async def test_expert_no_answer_rings_the_next_expert_at_once(desk: Desk) -> None:
    await desk.open()
    engine = desk.new_engine()
    await engine.run_once()
    [first] = desk.placer.placed
    await engine.on_result(desk.result(first, Outcome.EXPERT_NO_ANSWER))
    await engine.run_once()
    second = desk.placer.placed[1]
    assert {first.expert_interface, second.expert_interface} == {
        "Local/chloe@experts",
        "Local/david@experts",
    }


async def test_an_expert_whose_name_has_a_space_is_passed_over_too(desk: Desk) -> None:
    """Real names ("Chloé Bernard") were split into words, so the expert who did not
    answer was rung again at once instead of the next one."""
    desk.experts = [
        Expert("Chloé Bernard", "Local/agent3@agents", frozenset({"knx"}), HOURS),
        Expert("David Moreau", "Local/agent4@agents", frozenset({"knx"}), HOURS),
    ]
    await desk.open()
    engine = desk.new_engine()
    await engine.run_once()
    [first] = desk.placer.placed
    await engine.on_result(desk.result(first, Outcome.EXPERT_NO_ANSWER))
    await engine.run_once()
    second = desk.placer.placed[1]
    assert second.expert_interface != first.expert_interface


async def test_the_most_urgent_callback_goes_first(desk: Desk) -> None:
    desk.experts = [expert("chloe")]
    _, early = await desk.open()
    desk.advance(timedelta(minutes=5))
    _, late = await desk.open()
    engine = desk.new_engine()
    await engine.run_once()
    assert [request.callback_id for request in desk.placer.placed] == [early]
    assert late != early


async def test_no_expert_of_the_domain_on_duty_warns_then_breaches_and_refunds(
    desk: Desk,
) -> None:
    desk.experts = [expert("emma", "hvac")]
    incident, callback_id = await desk.open(domain="knx")
    engine = desk.new_engine()
    desk.advance(DEADLINE - timedelta(minutes=31))
    await engine.run_once()
    assert desk.alerts == []
    desk.advance(timedelta(minutes=1))
    await engine.run_once()
    await engine.run_once()
    assert [(alert.kind, alert.callback_id) for alert in desk.alerts] == [
        (AlertKind.AT_RISK, callback_id)
    ]
    desk.advance(timedelta(minutes=30))
    await engine.run_once()
    assert [alert.kind for alert in desk.alerts] == [AlertKind.AT_RISK, AlertKind.BREACHED]
    assert await desk.refunds(incident) == 1
    assert desk.placer.placed == []


async def test_a_refunded_incident_cancels_its_callback(desk: Desk) -> None:
    desk.busy = {"chloe", "david"}
    incident, callback_id = await desk.open()
    await desk.ledger.reclassify_non_attributable(incident, "not our product", "reclassify-1")
    engine = desk.new_engine()
    desk.busy = set()
    await engine.run_once()
    assert desk.placer.placed == []
    desk.advance(DEADLINE)
    await engine.run_once()
    assert await desk.refunds(incident) == 1
    row = await desk.callback(callback_id)
    assert row.close_reason == "incident-refunded" and row.breached_at is None
    assert desk.alerts == []


async def test_the_attempt_is_written_before_the_pbx_is_asked(desk: Desk) -> None:
    _, callback_id = await desk.open()
    engine = desk.new_engine()
    seen: list[int] = []
    place = desk.placer.place

    async def place_after_looking(request):  # type: ignore[no-untyped-def]
        seen.extend(row.id for row in await desk.attempts(callback_id) if row.outcome is None)
        await place(request)

    desk.placer.place = place_after_looking  # type: ignore[method-assign]
    await engine.run_once()
    [request] = desk.placer.placed
    assert seen == [request.attempt_id]
    [attempt] = await desk.attempts(callback_id)
    assert attempt.placed_at is not None and attempt.claimed_by == "test"


async def test_a_link_down_retries_later_without_passing_the_expert_over(desk: Desk) -> None:
    desk.experts = [expert("chloe")]
    _, callback_id = await desk.open()
    engine = desk.new_engine()
    desk.placer.link_down = True
    await engine.run_once()
    desk.placer.link_down = False
    await engine.run_once()
    assert desk.placer.placed == []
    desk.advance(desk.config.placement_retry)
    await engine.run_once()
    assert [request.expert_interface for request in desk.placer.placed] == ["Local/chloe@experts"]
    [failed, _] = await desk.attempts(callback_id)
    assert failed.outcome == "failed" and failed.note.startswith("not placed")


async def test_an_attempt_left_open_by_a_crash_is_reconciled_not_redialled(desk: Desk) -> None:
    _, callback_id = await desk.open()
    await desk.new_engine().run_once()
    [request] = desk.placer.placed
    # The process dies here. The next one asks the PBX: the call is still up.
    desk.placer.up = {request.attempt_id}
    after_restart = desk.new_engine(name="restarted")
    assert await after_restart.reconcile() == 0
    await after_restart.run_once()
    assert len(desk.placer.placed) == 1
    # It ends with nobody to report it: the PBX no longer shows it.
    desk.placer.up = set()
    assert await after_restart.reconcile() == 1
    [attempt] = await desk.attempts(callback_id)
    assert attempt.outcome == "failed" and attempt.note.startswith("reconciled")
    await after_restart.run_once()
    assert len(desk.placer.placed) == 2


async def test_a_repeated_result_changes_nothing(desk: Desk) -> None:
    _, callback_id = await desk.open()
    engine = desk.new_engine()
    await engine.run_once()
    [request] = desk.placer.placed
    result = desk.result(request, Outcome.CUSTOMER_BUSY)
    await engine.on_result(result)
    await engine.on_result(result)
    assert (await desk.callback(callback_id)).customer_tries == 1


async def test_after_the_last_try_a_person_takes_over_and_the_deadline_still_holds(
    desk: Desk,
) -> None:
    incident, callback_id = await desk.open()
    engine = desk.new_engine()
    for _ in range(desk.config.policy.max_customer_tries):
        await engine.run_once()
        await engine.on_result(desk.result(desk.placer.placed[-1], Outcome.CUSTOMER_NO_ANSWER))
        desk.advance(desk.config.policy.retry_delay)
    await engine.run_once()
    assert len(desk.placer.placed) == desk.config.policy.max_customer_tries
    assert (await desk.callback(callback_id)).close_reason == "gave-up"
    assert desk.alerts[-1].kind is AlertKind.GAVE_UP
    desk.clock.set((await desk.callback(callback_id)).due_at)
    await engine.run_once()
    assert len(desk.placer.placed) == desk.config.policy.max_customer_tries
    assert await desk.refunds(incident) == 1


async def test_an_attempt_is_claimed_ahead_and_placed_on_its_instant(desk: Desk) -> None:
    _, callback_id = await desk.open()
    engine = desk.new_engine()
    await engine.run_once()
    await engine.on_result(desk.result(desk.placer.placed[0], Outcome.CUSTOMER_BUSY))
    retry = desk.clock.now() + desk.config.policy.retry_delay
    desk.clock.set(retry - desk.config.claim_ahead - timedelta(milliseconds=1))
    await engine.run_once()
    assert len(desk.placer.placed) == 1
    desk.clock.set(retry - timedelta(milliseconds=100))
    await engine.run_once()
    assert len(desk.placer.placed) == 2
    [_, ahead] = await desk.attempts(callback_id)
    assert ahead.claimed_at == retry - timedelta(milliseconds=100)
    assert ahead.planned_at == retry
