"""What staff read: each callback's standing, the same whether the database filters or not."""

from __future__ import annotations

from datetime import timedelta

from callrouter.callbacks.opening import CallbackRequest
from callrouter.callbacks.queries import CallbackQueries
from callrouter.callbacks.rules import Outcome, Standing
from callrouter.ledger.prices import AssistanceLevel
from callrouter.passes import Pass

from .conftest import Desk, a_day_of_callbacks, expert


async def test_every_standing_is_filtered_as_it_is_shown(desk: Desk) -> None:
    day = await a_day_of_callbacks(desk)

    queries = CallbackQueries(desk.engine, desk.clock, desk.config.policy)
    everything = await queries.page(limit=100)
    shown = {view.id: view.standing for view in everything}
    assert sorted(shown.values()) == sorted(Standing)
    assert (shown[day.met], shown[day.dialling], shown[day.at_risk], shown[day.pending]) == (
        Standing.MET,
        Standing.DIALLING,
        Standing.AT_RISK,
        Standing.PENDING,
    )
    for standing in Standing:
        filtered = await queries.page(standing=standing, limit=100)
        assert [view.id for view in filtered] == [
            view.id for view in everything if view.standing is standing
        ], standing


async def test_pages_follow_the_deadlines(desk: Desk) -> None:
    ids = []
    for _ in range(5):
        ids.append((await desk.open())[1])
        desk.advance(timedelta(minutes=1))
    queries = CallbackQueries(desk.engine, desk.clock, desk.config.policy)
    first = await queries.page(limit=2)
    second = await queries.page(limit=2, after=first[-1].id)
    third = await queries.page(limit=2, after=second[-1].id)
    assert [view.id for view in first + second + third] == ids


async def test_an_opening_replayed_finds_its_callback_and_opens_no_other(desk: Desk) -> None:
    account = await desk.account()
    assert desk.openings is not None
    opened = [
        await desk.openings.open_incident(
            account,
            level=AssistanceLevel.STANDARD,
            pass_=Pass.FOUR_HOURS,
            idempotency_key="same-call",
            callback=CallbackRequest("knx", "0612345678"),
        )
        for _ in range(2)
    ]
    assert opened[1].opened.replayed
    assert opened[0].callback_id == opened[1].callback_id is not None
    assert opened[0].due_at == opened[1].due_at
    queries = CallbackQueries(desk.engine, desk.clock, desk.config.policy)
    assert len(await queries.page()) == 1


async def test_the_gauges_count_the_callbacks_still_to_make(desk: Desk) -> None:
    from callrouter.callbacks.gauges import CallbackGauges
    from callrouter.metrics.registry import HotlineMetrics

    desk.experts = []
    await desk.open()  # 10:00, due 14:00
    desk.advance(timedelta(minutes=30))
    await desk.open()  # due 14:30
    desk.advance(timedelta(minutes=30))
    await desk.open()  # due 15:00
    desk.clock.set(desk.clock.now() + timedelta(hours=3, minutes=10))  # 14:10
    metrics = HotlineMetrics()
    gauges = CallbackGauges(CallbackQueries(desk.engine, desk.clock, desk.config.policy), metrics)
    await gauges.refresh()
    assert (gauges.counts.pending, gauges.counts.at_risk, gauges.counts.breached) == (1, 1, 1)
    sample = metrics.registry.get_sample_value("callrouter_callbacks", {"state": "breached"})
    assert sample == 1


async def test_the_latest_are_those_owed_and_those_settled_since(desk: Desk) -> None:
    engine = desk.new_engine()
    await desk.open()  # met long ago: left out
    await engine.run_once()
    await engine.on_result(desk.result(desk.placer.placed[-1], Outcome.CONNECTED))
    desk.experts = []
    _, owed_long_ago = await desk.open(domain="hvac")
    desk.advance(timedelta(hours=1))
    since = desk.clock.now()
    desk.experts = [expert("chloe")]
    _, met_lately = await desk.open()
    await engine.run_once()
    await engine.on_result(desk.result(desk.placer.placed[-1], Outcome.CONNECTED))

    queries = CallbackQueries(desk.engine, desk.clock, desk.config.policy)
    latest = await queries.latest(since, 10)
    # By deadline; what was settled before `since` is left out, what is owed is not.
    assert [view.id for view in latest] == [owed_long_ago, met_lately]
    assert [view.id for view in await queries.latest(since, 1)] == [owed_long_ago]
