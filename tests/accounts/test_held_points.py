"""Points held for an emergency under way are shown apart: owned, but not spendable."""

from __future__ import annotations

from callrouter.calendar import HotlineCalendar
from callrouter.http.access import Role
from callrouter.ledger.hold_rules import AttachRule

from .conftest import World


async def test_the_holder_and_the_staff_see_held_points_apart(any_db_world: World) -> None:
    world = any_db_world
    number, web_code = await world.new_holder("Durand SA")
    await world.ledger.credit(number, 150, reason="pack", idempotency_key="seed")
    await world.ledger.holds.place(
        number, "1764620000.42", amount=100, attach=AttachRule(HotlineCalendar.default().on_call)
    )

    holder = await world.sign_in(number, web_code)
    status, account = await world.json("GET", "/api/account", holder)
    assert status == 200
    assert (account["balance"], account["held"], account["available"]) == (150, 100, 50)

    admin = await world.staff(Role.ADMIN)
    status, staff_view = await world.json("GET", f"/api/accounts/{number}", admin)
    assert status == 200, staff_view
    assert (staff_view["balance"], staff_view["held"], staff_view["available"]) == (150, 100, 50)

    await world.ledger.holds.void("1764620000.42", reason="caller hung up")
    status, account = await world.json("GET", "/api/account", holder)
    assert (account["balance"], account["held"], account["available"]) == (150, 0, 150)
