"""The live view stays true to the PBX: rebuild races, reloads, periodic member resync."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from callrouter.ami.errors import AMIError
from callrouter.ami.message import Message
from callrouter.clock import FakeClock
from callrouter.live.state import LiveState
from callrouter.live.sync import LiveSync

from .conftest import (
    agent_event,
    caller_join,
    configure,
    core_show_channel,
    hangup,
    hotline_queued,
    list_complete,
    member_status,
    newchannel,
    queue_entry,
    queue_member,
    queue_params,
)

Headers = Sequence[tuple[str, str]]

CHLOE = ("Chloe Bernard", "Local/agent3@agents")
DAVID = ("David Moreau", "Local/agent4@agents")
ANNE = ("Local/0611111111@hotline-00000000;2", "1.1", ("0611111111", "Anne Client"))
BERNARD = ("Local/0622222222@hotline-00000001;2", "1.3", ("0622222222", "Bernard VIP"))
XAVIER = ("Local/0633333333@hotline-00000002;2", "1.5", ("0633333333", "Xavier Talks"))
CHLOE_LEG = ("Local/agent3@agents-00000003;1", "1.7", ("0633333333", "Xavier Talks"))


class FakePBX:
    """The AMI client as the synchronisation sees it: actions are answered with a list start
    (ActionIDs a-1, a-2, ...); the test then plays the stream into `sync.on_event`."""

    def __init__(self) -> None:
        self.connected = True
        self.refuse = False
        self.sent: list[list[tuple[str, Headers]]] = []
        self.action_sent = asyncio.Event()
        self._ids = 0
        self.disconnected: Callable[[], None] = lambda: None

    def subscribe(self, handler: Callable[[Message], None]) -> Callable[[], None]:
        return lambda: None

    def on_connected(self, handler: Callable[[], Awaitable[None]]) -> Callable[[], None]:
        return lambda: None

    def on_disconnected(self, handler: Callable[[], None]) -> Callable[[], None]:
        self.disconnected = handler
        return lambda: None

    async def send_actions(
        self, actions: Sequence[tuple[str, Headers]], *, timeout: float | None = None
    ) -> list[Message | AMIError]:
        self.sent.append(list(actions))
        self.action_sent.set()
        answers: list[Message | AMIError] = []
        for _ in actions:
            self._ids += 1
            if self.refuse:
                answers.append(AMIError("Permission denied"))
                continue
            answers.append(
                Message.response(
                    "Success",
                    [
                        ("ActionID", f"a-{self._ids}"),
                        ("EventList", "start"),
                        ("Message", "will follow"),
                    ],
                )
            )
        return answers

    async def next_actions(self) -> list[tuple[str, Headers]]:
        await self.action_sent.wait()
        self.action_sent.clear()
        return self.sent[-1]


def queue_status(action_id: str, *, after: bool) -> list[Message]:
    """experts before and after the events of `EVENTS`: Chloe finishes with Xavier (3 calls
    taken, then 4; 5 completed, then 6), Bernard (priority 10) joins ahead of Anne."""
    entries = [queue_entry("experts", 1, ANNE[0], ANNE[1], ANNE[2], action_id, wait=30)]
    if after:
        bernard = queue_entry("experts", 1, *BERNARD, action_id, priority=10)
        anne = queue_entry("experts", 2, ANNE[0], ANNE[1], ANNE[2], action_id, wait=30)
        entries = [bernard, anne]
    items = [
        queue_params("experts", action_id, completed=6 if after else 5, abandoned=1),
        queue_member(
            "experts",
            CHLOE,
            action_id,
            status="1" if after else "2",
            in_call=not after,
            calls_taken=4 if after else 3,
        ),
        queue_member("experts", DAVID, action_id),
        *entries,
    ]
    return [*items, list_complete("QueueStatusComplete", action_id, len(items))]


def channels(action_id: str, *, after: bool) -> list[Message]:
    anne = core_show_channel(ANNE[0], ANNE[1], action_id, caller=ANNE[2], duration="00:00:30")
    if after:
        items = [anne, core_show_channel(*BERNARD[:2], action_id, caller=BERNARD[2])]
    else:
        items = [
            anne,
            core_show_channel(*XAVIER[:2], action_id, caller=XAVIER[2], bridge="b-1"),
            core_show_channel(*CHLOE_LEG[:2], action_id, caller=CHLOE_LEG[2], bridge="b-1"),
        ]
    return [*items, list_complete("CoreShowChannelsComplete", action_id, len(items))]


#: What happens on the PBX while it answers: Bernard calls in and joins at position 1; Chloe's
#: call with Xavier ends (AgentComplete, hang-ups, then her new total).
EVENTS = [
    newchannel(BERNARD[0], BERNARD[1], BERNARD[2]),
    hotline_queued(BERNARD[0], BERNARD[1], 10, "experts"),
    caller_join("experts", *BERNARD, 1),
    agent_event("AgentComplete", "experts", XAVIER[0], XAVIER[1], CHLOE),
    hangup(XAVIER[0], XAVIER[1]),
    hangup(CHLOE_LEG[0], CHLOE_LEG[1]),
    member_status("experts", CHLOE, "1", 4),
]

ANSWER_LENGTH = len(queue_status("a-1", after=False)) + len(channels("a-2", after=False))


def answers_with_events_at(at: int) -> list[Message]:
    """Both answers with `EVENTS` inserted before item `at`. A list taken after the events
    reflects them: so are QueueStatus when they come before its first item, CoreShowChannels
    when they come before its first item."""
    status = queue_status("a-1", after=at == 0)
    listed = channels("a-2", after=at <= len(status))
    stream = [*status, *listed]
    return [*stream[:at], *EVENTS, *stream[at:]]


def picture(live: LiveState, clock: FakeClock) -> dict[str, Any]:
    now = clock.now()
    return {
        "queues": [queue.to_dict(now) for queue in live.queues()],
        "calls": [call.to_dict(now) for call in live.calls().calls],
    }


def stale_state(clock: FakeClock) -> LiveState:
    """What the router remembered from before the reconnect: nothing true any more."""
    live = LiveState(clock)
    configure(live, {"experts": [CHLOE, DAVID], "gone": []})
    return live


@pytest.mark.parametrize("at", range(ANSWER_LENGTH + 1))
async def test_events_during_a_rebuild_are_applied_on_top_of_the_lists(
    at: int, clock: FakeClock
) -> None:
    expected = LiveState(clock)
    expected.rebuild(queue_status("x", after=True), channels("y", after=True))
    live = stale_state(clock)
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60)
    rebuilding = asyncio.create_task(sync.rebuild())
    assert [name for name, _ in await pbx.next_actions()] == ["QueueStatus", "CoreShowChannels"]
    for message in answers_with_events_at(at):
        sync.on_event(message)
    await rebuilding

    assert picture(live, clock) == picture(expected, clock)
    experts = live.queue("experts")
    assert experts is not None
    assert [(c.caller_name, c.position, c.priority) for c in experts.callers] == [
        ("Bernard VIP", 1, 10),
        ("Anne Client", 2, 0),
    ]
    assert (experts.completed, experts.members[0].calls_taken) == (6, 4)


async def test_events_before_the_rebuild_starts_are_not_applied_twice(clock: FakeClock) -> None:
    live = stale_state(clock)
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60)
    for event in EVENTS:
        sync.on_event(event)  # before the lists were asked: both will reflect them
    rebuilding = asyncio.create_task(sync.rebuild())
    await pbx.next_actions()
    for message in [*queue_status("a-1", after=True), *channels("a-2", after=True)]:
        sync.on_event(message)
    await rebuilding
    experts = live.queue("experts")
    assert experts is not None
    assert (experts.completed, experts.members[0].calls_taken, experts.waiting) == (6, 4, 2)


async def test_events_the_lists_already_reflect_change_nothing(clock: FakeClock) -> None:
    # Asterisk flushes events between actions: one raised just before a list was taken can
    # still arrive after it. Counting it again would count a call twice.
    expected = LiveState(clock)
    expected.rebuild(queue_status("x", after=True), channels("y", after=True))
    live = stale_state(clock)
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60)
    rebuilding = asyncio.create_task(sync.rebuild())
    await pbx.next_actions()
    for message in [*queue_status("a-1", after=True), *channels("a-2", after=True), *EVENTS]:
        sync.on_event(message)
    await rebuilding
    assert picture(live, clock) == picture(expected, clock)


async def test_a_link_lost_during_the_rebuild_keeps_the_events_seen(clock: FakeClock) -> None:
    live = stale_state(clock)
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60)
    sync.attach()
    rebuilding = asyncio.create_task(sync.rebuild())
    await pbx.next_actions()
    sync.on_event(newchannel(BERNARD[0], BERNARD[1], BERNARD[2]))
    sync.on_event(queue_params("experts", "a-1"))
    pbx.disconnected()
    await rebuilding
    # Not rebuilt (the old queues stay) but the channel that appeared meanwhile is there.
    assert live.queue_names() == ["experts", "gone"]
    assert [call.channel for call in live.calls().calls] == [BERNARD[0]]


async def test_lists_that_never_complete_time_out(clock: FakeClock) -> None:
    live = stale_state(clock)
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60, list_timeout=0.01)
    await sync.rebuild()
    assert live.queue_names() == ["experts", "gone"]


# -- reloads ----------------------------------------------------------------------------------

ALICE = ("Alice Martin", "Local/agent1@agents")
BRUNO = ("Bruno Petit", "Local/agent2@agents")


def reload_event(module: str) -> Message:
    return Message.event(
        "Reload", [("Privilege", "system,all"), ("Module", module), ("Status", "0")]
    )


def coordinators_status(action_id: str, members: list[tuple[str, str]]) -> list[Message]:
    items = [
        queue_params("coordinators", action_id, completed=7),
        *(queue_member("coordinators", member, action_id) for member in members),
    ]
    return [*items, list_complete("QueueStatusComplete", action_id, len(items))]


def members_of(live: LiveState, queue: str) -> list[str]:
    view = live.queue(queue)
    assert view is not None
    return [member.name for member in view.members]


@pytest.mark.parametrize("module", ["All", "app_queue.so", "app_queue"])
async def test_a_reload_of_the_queues_rebuilds_the_view(module: str, clock: FakeClock) -> None:
    live = LiveState(clock)
    configure(live, {"coordinators": [ALICE]})
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60)
    sync.on_event(reload_event(module))
    assert [name for name, _ in await pbx.next_actions()] == ["QueueStatus", "CoreShowChannels"]
    for message in [
        *coordinators_status("a-1", [BRUNO]),
        list_complete("CoreShowChannelsComplete", "a-2", 0),
    ]:
        sync.on_event(message)
    await sync.wait_idle()
    assert members_of(live, "coordinators") == ["Bruno Petit"]


async def test_other_reloads_change_nothing(clock: FakeClock) -> None:
    live = LiveState(clock)
    configure(live, {"coordinators": [ALICE]})
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60)
    sync.on_event(reload_event("res_pjsip.so"))
    await asyncio.sleep(0)
    await sync.close()
    assert pbx.sent == []


async def test_a_reload_during_a_rebuild_rebuilds_again(clock: FakeClock) -> None:
    live = LiveState(clock)
    configure(live, {"coordinators": [ALICE]})
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60)
    rebuilding = asyncio.create_task(sync.rebuild())
    await pbx.next_actions()
    sync.on_event(reload_event("All"))
    for message in [
        *coordinators_status("a-1", [ALICE]),
        list_complete("CoreShowChannelsComplete", "a-2", 0),
    ]:
        sync.on_event(message)
    await pbx.next_actions()
    for message in [
        *coordinators_status("a-3", [BRUNO]),
        list_complete("CoreShowChannelsComplete", "a-4", 0),
    ]:
        sync.on_event(message)
    await rebuilding
    assert members_of(live, "coordinators") == ["Bruno Petit"]


# -- periodic member resynchronisation ---------------------------------------------------------


class Sleeper:
    """An injected sleep: records each wait and returns when the test lets it."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.asleep = asyncio.Event()
        self._wake = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.asleep.set()
        await self._wake.wait()
        self._wake.clear()

    async def tick(self) -> None:
        await self.asleep.wait()
        self.asleep.clear()
        self._wake.set()


async def test_queue_members_are_resynchronised_periodically(clock: FakeClock) -> None:
    live = LiveState(clock)
    configure(live, {"coordinators": [ALICE], "experts": [CHLOE]})
    pbx = FakePBX()
    sleeper = Sleeper()
    sync = LiveSync(pbx, live, resync_interval=45, sleep=sleeper)
    sync.start()
    # `queue reload all` replaced Alice with Bruno: no event says so.
    await sleeper.tick()
    assert await pbx.next_actions() == [("QueueStatus", [("Queue", "coordinators")])]
    stream = coordinators_status("a-1", [BRUNO])
    # A member added while the PBX answers is kept, though the list (taken before) misses it.
    added = member_status("coordinators", ("Nina Roy", "Local/agent8@agents"), "1", 0)
    for message in [*stream[:-1], Message(["Event: QueueMemberAdded", *added.lines[1:]])]:
        sync.on_event(message)
    sync.on_event(stream[-1])
    assert await pbx.next_actions() == [("QueueStatus", [("Queue", "experts")])]
    for message in [
        queue_params("experts", "a-2"),
        queue_member("experts", CHLOE, "a-2", status="5"),
        list_complete("QueueStatusComplete", "a-2", 2),
    ]:
        sync.on_event(message)
    await sleeper.asleep.wait()
    assert sleeper.waits == [45, 45]
    assert members_of(live, "coordinators") == ["Bruno Petit", "Nina Roy"]
    coordinators = live.queue("coordinators")
    assert coordinators is not None and coordinators.completed == 7
    experts = live.queue("experts")
    assert experts is not None and experts.members[0].state == "unavailable"

    await sync.close()
    assert sync._resyncing is not None and sync._resyncing.cancelled()


async def test_a_queue_that_vanished_triggers_a_rebuild(clock: FakeClock) -> None:
    live = LiveState(clock)
    configure(live, {"coordinators": [ALICE]})
    pbx = FakePBX()
    sync = LiveSync(pbx, live, resync_interval=60)
    resyncing = asyncio.create_task(sync.resync_queue("coordinators"))
    await pbx.next_actions()
    sync.on_event(list_complete("QueueStatusComplete", "a-1", 0))
    await resyncing
    assert [name for name, _ in await pbx.next_actions()] == ["QueueStatus", "CoreShowChannels"]
    await sync.close()
    assert members_of(live, "coordinators") == ["Alice Martin"]


async def test_no_resync_while_the_link_is_down(clock: FakeClock) -> None:
    live = LiveState(clock)
    configure(live, {"coordinators": [ALICE]})
    pbx = FakePBX()
    pbx.connected = False
    sleeper = Sleeper()
    sync = LiveSync(pbx, live, resync_interval=60, sleep=sleeper)
    sync.start()
    await sleeper.tick()
    await sleeper.asleep.wait()
    await sync.close()
    assert pbx.sent == []


def test_the_resync_interval_is_configured(tmp_path: Any) -> None:
    from callrouter.config import Config, ConfigError, load_config

    assert Config().ami.queue_resync_interval == 60.0
    path = tmp_path / "callrouter.toml"
    path.write_text("[ami]\nqueue_resync_interval = 15\n")
    assert load_config(path).ami.queue_resync_interval == 15.0
    path.write_text("[ami]\nqueue_resync_interval = 0\n")
    with pytest.raises(ConfigError, match=r"ami\.queue_resync_interval"):
        load_config(path)


async def test_a_failed_rebuild_is_retried_at_the_next_resync(clock: FakeClock) -> None:
    live = LiveState(clock)
    pbx = FakePBX()
    sleeper = Sleeper()
    sync = LiveSync(pbx, live, resync_interval=30, sleep=sleeper)
    pbx.refuse = True
    await sync.rebuild()
    await pbx.next_actions()
    assert live.queue_names() == []
    pbx.refuse = False
    sync.start()
    await sleeper.tick()
    assert [name for name, _ in await pbx.next_actions()] == ["QueueStatus", "CoreShowChannels"]
    for message in [
        *coordinators_status("a-3", [ALICE]),
        list_complete("CoreShowChannelsComplete", "a-4", 0),
    ]:
        sync.on_event(message)
    await sleeper.asleep.wait()
    assert members_of(live, "coordinators") == ["Alice Martin"]
    await sync.close()
