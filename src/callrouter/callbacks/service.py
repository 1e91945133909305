"""The running dispatcher: leads (or stands by), keeps its timers, runs the engine.

A single task owns it all: it waits for the lead, then reconciles the attempts a previous
run left open, loads the timers, and runs a cycle each time it is woken (a timer, a result,
an expert becoming free, the periodic sweep). `close()` cancels the task and lets go of the
lead; a standby process takes over within its takeover interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.engine import CallbackEngine
from callrouter.callbacks.leader import Leadership
from callrouter.callbacks.placing import AttemptResult
from callrouter.callbacks.timers import CallbackTimers
from callrouter.clock import Clock

log = structlog.get_logger(__name__)

_NUDGE_DELAY_S = 1.0


class CallbackDispatcher:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        config: CallbacksConfig,
        callbacks: CallbackEngine,
        *,
        exclusive: bool = True,
    ) -> None:
        """`exclusive=False` skips the lead (tests of what the claims alone guarantee)."""
        self._config = config
        self.engine = callbacks
        self._leadership = Leadership(engine) if exclusive else None
        self._wakeup = asyncio.Event()
        self.timers = CallbackTimers(engine, clock, config, self.wake)
        callbacks.replan = self.timers.mark
        callbacks.wake = self.wake
        self._task: asyncio.Task[None] | None = None
        self._nudge: asyncio.TimerHandle | None = None
        self.leading = asyncio.Event()
        #: Seconds the last start-up took (reconciliation, timers, first cycle).
        self.startup_seconds: float | None = None

    def wake(self) -> None:
        self._wakeup.set()

    def nudge(self) -> None:
        """Something on the PBX changed (an expert may be free): look within a second.
        Called on every live event, so wake-ups are gathered, not run one by one."""
        if self._nudge is None:
            self._nudge = asyncio.get_running_loop().call_later(_NUDGE_DELAY_S, self._nudged)

    def _nudged(self) -> None:
        self._nudge = None
        self.wake()

    def opened(self, callback_id: int) -> None:
        """A callback was just created in this process: plan it and look now."""
        self.timers.mark(callback_id)
        self.wake()

    async def on_result(self, result: AttemptResult) -> None:
        await self.engine.on_result(result)

    async def reconnected(self) -> None:
        """The PBX link is back: what became of the attempts under way is asked, not
        guessed (those whose call ended while the link was down are settled)."""
        if self.leading.is_set():
            await self.engine.reconcile()
            self.wake()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="callback-dispatcher")

    async def close(self) -> None:
        task, self._task = self._task, None
        if self._nudge is not None:
            self._nudge.cancel()
            self._nudge = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.timers.shutdown()
        if self._leadership is not None:
            await self._leadership.release()

    async def _run(self) -> None:
        while True:
            try:
                await self._lead()
                await self._dispatch_while_leading()
                # The lead was lost (its connection died): a standby that has been asking
                # all along gets it first, rather than this process grabbing it back.
                await asyncio.sleep(self._config.takeover_interval.total_seconds())
            except Exception:
                # The database went away under us, say: let another process lead meanwhile.
                log.exception("callbacks.dispatcher_failed")
                if self._leadership is not None:
                    await self._leadership.release()
                await asyncio.sleep(self._config.takeover_interval.total_seconds())
            finally:
                self.leading.clear()
                self.timers.shutdown()

    async def _lead(self) -> None:
        if self._leadership is None:
            return
        waited = False
        while not await self._leadership.try_acquire():
            if not waited:
                log.info("callbacks.standing_by")
                waited = True
            await asyncio.sleep(self._config.takeover_interval.total_seconds())

    async def _dispatch_while_leading(self) -> None:
        started = time.perf_counter()
        settled = await self.engine.reconcile()
        self.timers.start()
        planned = await self.timers.load()
        await self._cycle()
        self.startup_seconds = time.perf_counter() - started
        log.info(
            "callbacks.dispatching",
            dispatcher=self.engine.name,
            timers=planned,
            reconciled=settled,
            seconds=round(self.startup_seconds, 3),
        )
        self.leading.set()
        sweep = self._config.sweep_interval.total_seconds()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(sweep):
                    await self._wakeup.wait()
            if self._leadership is not None and not await self._leadership.still_held():
                return
            await self._cycle()

    async def _cycle(self) -> None:
        self._wakeup.clear()
        try:
            await self.engine.run_once()
            await self.engine.reconcile(stale_only=True)
            await self.timers.plan_marked()
        except Exception:
            # The next wake-up or sweep tries again from the tables; nothing is lost.
            log.exception("callbacks.cycle_failed")
