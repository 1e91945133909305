"""The actions in flight know how many list actions wait, without scanning them per event."""

from __future__ import annotations

import asyncio

from callrouter.ami.client import _Pending, _PendingAction, _PendingList


async def test_list_actions_are_counted_as_they_come_and_go() -> None:
    loop = asyncio.get_running_loop()
    pending = _Pending()
    for n in range(300):
        pending[f"redirect-{n}"] = _PendingAction(loop)
    assert pending.lists == 0
    pending["status-1"] = _PendingList(loop)
    pending["status-2"] = _PendingList(loop)
    assert pending.lists == 2
    # An ActionID reused for another kind of action replaces the first one.
    pending["status-2"] = _PendingAction(loop)
    pending["redirect-0"] = _PendingList(loop)
    assert pending.lists == 2
    del pending["status-1"]
    del pending["redirect-0"]
    del pending["redirect-1"]
    assert pending.lists == 0
    assert len(pending) == 299
