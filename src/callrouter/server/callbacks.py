"""The callbacks' cleanup context: the dispatcher, after the PBX link it places calls
through, stopped before it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from callrouter.appointments.slotcalls import AppointmentStates
from callrouter.callbacks.engine import CallbackEngine
from callrouter.callbacks.gauges import CallbackGauges
from callrouter.callbacks.pbx import AMIPlacer
from callrouter.callbacks.placing import AttemptResult
from callrouter.callbacks.queries import CallbackQueries
from callrouter.callbacks.service import CallbackDispatcher
from callrouter.experts.presence import free_experts
from callrouter.server.hotline import ENGINE, HOTLINE


async def callbacks_context(app: web.Application) -> AsyncIterator[None]:
    """The callbacks' dispatcher: after the PBX link, which it places calls through."""
    hotline, engine = app[HOTLINE], app[ENGINE]
    live, openings, directory = hotline.live, hotline.callback_openings, hotline.experts
    assert live is not None and openings is not None and directory is not None
    # The experts are the members of their queue; presence comes from the PBX's view.
    queue = hotline.config.experts.queue
    config, clock = hotline.config.callbacks, hotline.clock
    dispatcher: CallbackDispatcher | None = None

    async def on_result(result: AttemptResult) -> None:
        assert dispatcher is not None
        await dispatcher.on_result(result)

    placer = None
    if hotline.callback_placer is not None and hotline.ami is not None:
        placer = hotline.callback_placer(hotline.ami, on_result)
    callback_engine = CallbackEngine(
        engine,
        clock,
        config,
        placer,
        experts=directory.all,
        free_experts=lambda experts, now: free_experts(experts, live, now, queue),
        alerts=hotline.callback_alerts,
        follower=AppointmentStates(),
    )
    dispatcher = CallbackDispatcher(engine, clock, config, callback_engine)
    hotline.callbacks = dispatcher
    openings.opened = dispatcher.opened
    undo = [live.on_change(dispatcher.nudge)]
    if hotline.ami is not None:
        undo.append(hotline.ami.on_connected(dispatcher.reconnected))
    gauges = None
    if hotline.metrics is not None:
        queries = CallbackQueries(engine, clock, config.policy)
        gauges = CallbackGauges(queries, hotline.metrics)
        gauges.start()
    dispatcher.start()
    try:
        yield
    finally:
        for unsubscribe in undo:
            unsubscribe()
        openings.opened = lambda callback_id: None
        await dispatcher.close()
        if isinstance(placer, AMIPlacer):
            await placer.close()  # its results still being delivered
        if gauges is not None:
            await gauges.close()
