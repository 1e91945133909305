"""The demo's screen: one line per emergency, with its step and wait (issue 10, item 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callrouter.oncall.roster import Layer
from callrouter.oncall.tracking import Escalation, EscalationState
from callrouter.server.view import render_escalations

T0 = datetime(2025, 3, 4, 21, 0, tzinfo=UTC)


def test_each_emergency_shows_its_layer_pass_wait_and_who_took_it() -> None:
    waiting = Escalation("1.1", "0612345678", "Local/a;2", T0, T0, layer=Layer.SECONDARY)
    taken = Escalation(
        "2.2",
        "0698765432",
        "Local/b;2",
        T0,
        T0 + timedelta(seconds=90),
        pass_number=2,
        layer=Layer.PRIMARY,
        state=EscalationState.CONNECTED,
        technician="Alice",
    )

    lines = render_escalations([waiting, taken], T0 + timedelta(seconds=95))

    assert lines == [
        "    emergency 0612345678     waiting    ringing up to secondary pass 1  waiting    95s",
        "    emergency 0698765432     connected  ringing up to primary   pass 2  waiting    95s"
        "  Alice",
    ]
