"""Refunds paid today, read from the ledger in the calendar's day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from callrouter.clock import FakeClock
from callrouter.console.panel import PanelView
from callrouter.console.refunds_panel import RefundsPanel, start_of_day
from callrouter.db.engine import create_engine, session_factory
from callrouter.http.access import Role, visibility
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass

PARIS = ZoneInfo("Europe/Paris")


def test_the_day_starts_at_local_midnight() -> None:
    late = datetime(2026, 11, 24, 23, 30, tzinfo=ZoneInfo("UTC"))  # 00:30 in Paris
    assert start_of_day(late, PARIS) == datetime(2026, 11, 25, 0, 0, tzinfo=PARIS)


async def test_refunds_of_today_only_with_reasons_masked_for_supervisors(sqlite_url: str) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 16, 0, tzinfo=PARIS))
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    try:
        identity = IdentityService(sessions, clock)
        ledger = LedgerService(sessions, clock, LedgerConfig())
        account = await identity.create_account("Hôtel des Alpes", pin="118822")
        await ledger.credit(account.number, 500, reason="test", idempotency_key="c1")

        async def refunded(key: str, reason: str) -> int:
            opened = await ledger.open_incident(
                account.number,
                level=AssistanceLevel.STANDARD,
                pass_=Pass.FOUR_HOURS,
                idempotency_key=f"open-{key}",
            )
            await ledger.refund_incident(opened.incident_id, reason, f"refund-{key}")
            return opened.incident_id

        await refunded("yesterday", "late")
        clock.advance(timedelta(days=1))
        incident = await refunded("today", f"callback late for account {account.number}")
        panel = RefundsPanel()
        now = clock.now()
        assert await panel.refresh(sessions, start_of_day(now, PARIS)) is True
        assert await panel.refresh(sessions, start_of_day(now, PARIS)) is False
        view = PanelView(now=now, timezone=PARIS, seen=visibility(Role.SUPERVISOR))
        shown = panel.snapshot(view)
        assert shown["count"] == 1 and shown["points"] > 0
        [line] = shown["refunds"]
        assert line["incident"] == incident
        assert account.number not in line["reason"]
        admin = panel.snapshot(PanelView(now=now, timezone=PARIS, seen=visibility(Role.ADMIN)))
        assert account.number in admin["refunds"][0]["reason"]
    finally:
        await engine.dispose()


def test_before_the_first_reading_the_panel_says_so() -> None:
    view = PanelView(
        now=datetime(2026, 11, 24, 9, 0, tzinfo=PARIS),
        timezone=PARIS,
        seen=visibility(Role.SUPERVISOR),
    )
    assert RefundsPanel().snapshot(view)["read"] is False
