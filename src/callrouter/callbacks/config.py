"""The [callbacks] settings: the guarantee's policy and how the dispatcher runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from callrouter.callbacks.rules import CallbackPolicy


@dataclass(frozen=True)
class CallbacksConfig:
    policy: CallbackPolicy = field(default_factory=CallbackPolicy)
    #: The calendar window the business hours of the guarantee are counted in.
    window: str = "coordinators"
    expert_ring_timeout: timedelta = timedelta(seconds=30)
    customer_ring_timeout: timedelta = timedelta(seconds=45)
    #: An attempt planned for an instant is claimed this much earlier, so that its
    #: Originate leaves on time even when a thousand are planned for the same instant.
    claim_ahead: timedelta = timedelta(milliseconds=500)
    #: The link to the PBX was down: the callback is tried again this much later.
    placement_retry: timedelta = timedelta(seconds=15)
    #: Timers are kept in memory for what falls due within this horizon only...
    timer_horizon: timedelta = timedelta(minutes=15)
    #: ...and the dispatcher looks at its tables at least this often (and loads the next
    #: horizon's timers then): a safety net under the timers.
    sweep_interval: timedelta = timedelta(seconds=30)
    #: A standby dispatcher (another process on the same PostgreSQL) tries to take over
    #: this often.
    takeover_interval: timedelta = timedelta(seconds=5)
