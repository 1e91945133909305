"""The live call state: channels, callers waiting per queue, queue members.

Fed by AMI events as they arrive (`apply`, the hot path: about half of all events are VarSet,
so an event is dispatched on its name before any header is read) and rebuilt from the PBX's
status lists after a reconnect or a reload (`rebuild`, driven by sync.py), never from memory
(SPEC.md, "How callrouter meets the PBX").

What the AMI traces of Asterisk 22 show, and how it is handled here:
- QueueCallerJoin carries `Position` and `Count` but no queue priority: its `Priority:` header
  is the dialplan priority of the channel snapshot. The queue priority is the channel variable
  QUEUE_PRIO, read by Queue() when the caller joins, so the last `VarSet QUEUE_PRIO` (or
  `UserEvent HotlineQueued`) seen on that channel is the caller's priority.
- app_queue places a caller after every caller of the same or a higher priority: callers are
  kept sorted by (priority, arrival) and a position is a rank (records.py).
- QueueChangePriorityCaller emits no event at all: the new order is only seen by a rebuild.
- QueueWithdrawCaller shows as QueueCallerAbandon (counted as abandoned) + QueueCallerLeave.
- Members are `MemberName`/`Interface` in member events but `Name`/`Location` in QueueMember
  list items. Member events keep `InCall: 0` while the member is busy, so being in a call is
  taken from AgentConnect/AgentComplete (and from `InCall:` in a rebuild); a member whose
  device goes idle after the connect is no longer in the call (a Redirect took the caller out
  of the bridge: Asterisk defers that AgentComplete until the caller hangs up).
- QueueMemberStatus carries the member's new `CallsTaken` total and may come before or after
  AgentComplete: the total is taken as told, and AgentComplete only makes sure the call is
  counted once.
- Asterisk 22 has no `QueueMemberPaused` event (Asterisk 11 called it so); pausing shows as
  `QueueMemberPause`.
- Only what exists is tracked: queues the PBX listed in a rebuild, members that a rebuild or
  QueueMemberAdded named, channels from Newchannel or the rebuild, callers and priorities of
  channels that exist. Events about anything else change nothing, so mangled events cannot
  grow the state.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from sortedcontainers import SortedKeyList

from callrouter.ami.message import Message, MessageKind
from callrouter.clock import Clock
from callrouter.live.records import (
    UNSEEN_CALLER,
    Caller,
    Channel,
    Member,
    Queue,
    caller_id_of,
    cursor_of,
    interface_of,
    order_of_cursor,
)
from callrouter.live.snapshot import (
    channel_rows,
    counters_row,
    link_agents,
    member_row,
    member_status,
    queues_of,
    restore_callers,
    to_int,
)
from callrouter.live.views import (
    CallerCard,
    CallsPage,
    LiveCall,
    QueueHead,
    QueueMember,
    QueueView,
    WaitingCaller,
)

__all__ = [
    "CHANNEL_EVENTS",
    "DEFAULT_PAGE",
    "CallerCard",
    "CallsPage",
    "LiveCall",
    "LiveState",
    "QueueHead",
    "QueueMember",
    "QueueView",
    "WaitingCaller",
    "interface_of",
]

log = structlog.get_logger(__name__)

#: Callers or calls listed per page when the reader does not say.
DEFAULT_PAGE = 50

#: Events that change channels only: a CoreShowChannels answer already reflects those that
#: came before it (sync.py).
CHANNEL_EVENTS = frozenset({"Newchannel", "Newstate", "NewCallerid", "Newexten", "Hangup"})

#: The exact line a VarSet of the queue priority carries; testing list membership for it is
#: much cheaper than indexing the headers of every VarSet.
_QUEUE_PRIO_LINE = "Variable: QUEUE_PRIO"

_IDLE = "idle"


def _seq_of(channel: Channel) -> int:
    return channel.seq


def _members_of(queue: Queue) -> tuple[QueueMember, ...]:
    return tuple(
        member.view()
        for member in sorted(queue.members.values(), key=lambda m: (m.name, m.interface))
    )


class LiveState:
    """Live calls, callers waiting per queue and queue members, as the PBX reports them."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._queues: dict[str, Queue] = {}
        self._channels: dict[str, Channel] = {}
        self._channel_names: dict[str, Channel] = {}
        self._ordered: SortedKeyList[Channel, int] = SortedKeyList(key=_seq_of)
        # The channels connected to a queue member (`agent` set): a few among thousands,
        # found without walking the others.
        self._connected: dict[str, Channel] = {}
        self._seqs = itertools.count(1)
        self._subscribers: list[Callable[[], None]] = []
        member_event = self._on_member
        self._handlers: dict[str, Callable[[Message], bool]] = {
            "VarSet": self._on_var_set,
            "UserEvent": self._on_user_event,
            "Newexten": self._on_newexten,
            "Newchannel": self._on_newchannel,
            "Newstate": self._on_newstate,
            "NewCallerid": self._on_newstate,
            "Hangup": self._on_hangup,
            "QueueCallerJoin": self._on_caller_join,
            "QueueCallerLeave": self._on_caller_leave,
            "QueueCallerAbandon": self._on_caller_abandon,
            "AgentCalled": self._on_agent_called,
            "AgentRingNoAnswer": self._on_agent_ring_no_answer,
            "AgentConnect": self._on_agent_connect,
            "AgentComplete": self._on_agent_complete,
            "QueueMemberStatus": member_event,
            "QueueMemberPause": member_event,
            "QueueMemberAdded": self._on_member_added,
            "QueueMemberPenalty": member_event,
            "QueueMemberRinginuse": member_event,
            "QueueMemberRemoved": self._on_member_removed,
        }

    # -- feeding -------------------------------------------------------------------------

    def apply(self, event: Message) -> None:
        """Take one AMI event into account; anything irrelevant or malformed is ignored."""
        handler = self._handlers.get(event.name)
        if handler is None or event.kind is not MessageKind.EVENT:
            return
        if handler(event):
            self._notify()

    def rebuild(self, queue_status: Sequence[Message], channels: Sequence[Message]) -> None:
        """Replace everything with what the PBX says now: the items of a QueueStatus list
        (QueueParams, QueueMember, QueueEntry) and of a CoreShowChannels list
        (CoreShowChannel). Other messages in the sequences (responses, `...Complete`) are
        skipped. The queues listed are the configured queues from then on."""
        now = self._clock.now()
        queues, entries = queues_of(queue_status)
        self._channels, self._channel_names = {}, {}
        self._ordered = SortedKeyList(key=_seq_of)
        bridges: dict[str, list[Channel]] = {}
        for started_at, item in channel_rows(channels, now):
            uniqueid = item.get("Uniqueid") or ""
            if uniqueid in self._channels:
                continue
            call = self._add_channel(item, uniqueid, started_at)
            bridge = item.get("BridgeId")
            if bridge:
                bridges.setdefault(bridge, []).append(call)
        restore_callers(queues, entries, self._channels, now)
        link_agents(queues, bridges.values())
        self._connected = {
            uniqueid: call for uniqueid, call in self._channels.items() if call.agent is not None
        }
        self._queues = queues
        log.info(
            "live.rebuilt",
            queues=len(queues),
            waiting=sum(len(queue) for queue in queues.values()),
            calls=len(self._channels),
        )
        self._notify()

    def _add_channel(self, event: Message, uniqueid: str, started_at: datetime) -> Channel:
        call = Channel(event, uniqueid, started_at, next(self._seqs))
        self._channels[uniqueid] = call
        self._channel_names[call.channel] = call
        self._ordered.add(call)
        return call

    def _drop_channel(self, call: Channel) -> None:
        del self._channels[call.uniqueid]
        self._connected.pop(call.uniqueid, None)
        if self._channel_names.get(call.channel) is call:
            del self._channel_names[call.channel]
        self._ordered.remove(call)
        queue = self._queues.get(call.queue or "")
        if queue is not None:
            # Asterisk sends QueueCallerLeave before the Hangup; this only matters if it was lost.
            queue.leave(call.uniqueid)

    # -- periodic member resynchronisation (sync.py) ---------------------------------------

    def queue_names(self) -> list[str]:
        return sorted(self._queues)

    def resync_item(self, item: Message) -> str | None:
        """Take one item of a per-queue QueueStatus answer as the truth at its place in the
        stream: counters and members (callers keep following events). Returns the interface
        of a QueueMember item, so that members it did not list can be dropped at the end."""
        queue = self._queues.get(item.get("Queue") or "")
        if queue is None:
            return None
        if item.name == "QueueParams":
            counters_row(queue, item)
            self._notify()
        elif item.name == "QueueMember":
            member = member_row(queue, item)
            self._notify()
            return None if member is None else member.interface
        return None

    def keep_members(self, name: str, interfaces: set[str]) -> None:
        """Drop the members of queue `name` that a complete QueueStatus did not list."""
        queue = self._queues.get(name)
        if queue is None:
            return
        gone = [interface for interface in queue.members if interface not in interfaces]
        for interface in gone:
            del queue.members[interface]
        if gone:
            log.info("live.members_dropped", queue=name, interfaces=gone)
            self._notify()

    # -- reading -------------------------------------------------------------------------

    def queues(self, *, limit: int = DEFAULT_PAGE) -> list[QueueView]:
        """Every queue with its first `limit` callers."""
        return [self._view(self._queues[name], None, limit) for name in sorted(self._queues)]

    def queue(
        self, name: str, *, after: str | None = None, limit: int = DEFAULT_PAGE
    ) -> QueueView | None:
        """One queue with `limit` callers after the cursor `after` (ValueError when it is not
        a cursor of this API)."""
        queue = self._queues.get(name)
        if queue is None:
            return None
        return self._view(queue, None if after is None else order_of_cursor(after), limit)

    def _view(self, queue: Queue, after: tuple[int, int] | None, limit: int) -> QueueView:
        first, page = queue.page(after, limit)
        callers = list(page)
        last = first - 1 + len(callers)
        longest = queue.longest_waiting()
        return QueueView(
            name=queue.name,
            members=_members_of(queue),
            callers=tuple(
                caller.view(queue.name, position)
                for position, caller in enumerate(callers, start=first)
            ),
            completed=queue.completed,
            abandoned=queue.abandoned,
            waiting=len(queue),
            longest_waiting_since=None if longest is None else longest.joined_at,
            next_after=cursor_of(callers[-1].order) if callers and last < len(queue) else None,
        )

    def queue_heads(self) -> list[QueueHead]:
        """Every queue by name, without its callers (`waiting_cards`): a console pushing five
        times a second reads a queue's callers again only when its `changes` moved."""
        return [
            QueueHead(
                name=name,
                changes=queue.changes,
                waiting=len(queue),
                members=_members_of(queue),
            )
            for name, queue in sorted(self._queues.items())
        ]

    def waiting_cards(self, name: str, *, limit: int) -> tuple[CallerCard, ...]:
        """The first `limit` callers of a queue, in position order (the first is at position
        1); empty when the queue is unknown."""
        queue = self._queues.get(name)
        if queue is None:
            return ()
        return tuple([caller.card() for caller in queue.page(None, limit)[1]])

    def calls(self, *, after: str | None = None, limit: int = DEFAULT_PAGE) -> CallsPage:
        """`limit` live calls after the cursor `after` (ValueError when it is not one)."""
        ordered = self._ordered
        start = 0 if after is None else ordered.bisect_key_right(int(after))
        page = list(ordered.islice(start, start + limit))
        more = start + len(page) < len(ordered)
        return CallsPage(
            calls=tuple(call.view() for call in page),
            total=len(ordered),
            next_after=str(page[-1].seq) if page and more else None,
        )

    def connected_calls(self, *, limit: int, scan: int) -> list[LiveCall]:
        """The first `limit` live calls connected to a queue member, in the order of `calls`,
        among the first `scan` channels. Only those get a view, and the others are not even
        walked through (the connected ones are kept apart): a console pushing five times a
        second must not go through every channel the PBX carries to find them."""
        ordered = self._ordered
        connected = sorted(self._connected.values(), key=_seq_of)
        # A channel's rank grows with its seq: those within `scan` come first.
        return [
            call.view() for call in connected[:limit] if ordered.bisect_key_left(call.seq) < scan
        ]

    def knows_queue(self, name: str) -> bool:
        return name in self._queues

    def queue_load(self, name: str) -> tuple[int, int, int]:
        """(members, available members, waiting callers) of a queue; zeros if unknown."""
        queue = self._queues.get(name)
        if queue is None:
            return (0, 0, 0)
        return (len(queue.members), queue.available_members(), len(queue))

    def on_change(self, handler: Callable[[], None]) -> Callable[[], None]:
        """Call `handler` after each change a supervisor would see; returns the unsubscribe."""
        self._subscribers.append(handler)

        def unsubscribe() -> None:
            if handler in self._subscribers:
                self._subscribers.remove(handler)

        return unsubscribe

    def _notify(self) -> None:
        for handler in tuple(self._subscribers):
            try:
                handler()
            except Exception:
                # A broken subscriber must not stop the state from following the PBX.
                log.exception("live.subscriber_failed", handler=repr(handler))

    # -- channels ------------------------------------------------------------------------

    def _on_var_set(self, event: Message) -> bool:
        if _QUEUE_PRIO_LINE not in event.lines:
            return False
        self._remember_priority(event, "Value")
        # Queue() reads QUEUE_PRIO when the caller joins: nothing visible changes now.
        return False

    def _on_user_event(self, event: Message) -> bool:
        # The production AMI user does not read the `dialplan` class (no VarSet): the
        # dialplan announces the priority with UserEvent(HotlineQueued) just before Queue().
        if event.get("UserEvent") == "HotlineQueued":
            # Not `Priority:`: the channel snapshot already carries the dialplan priority.
            self._remember_priority(event, "QueuePriority")
        return False

    def _remember_priority(self, event: Message, key: str) -> None:
        call = self._channels.get(event.get("Uniqueid") or "")
        priority = to_int(event.get(key))
        if call is not None and priority is not None:
            call.priority = priority

    def _on_newexten(self, event: Message) -> bool:
        call = self._channels.get(event.get("Uniqueid") or "")
        if call is None:
            return False
        context = event.get("Context") or ""
        exten = event.get("Exten") or ""
        if context == call.context and exten == call.exten:
            return False
        call.context = context
        call.exten = exten
        return True

    def _on_newchannel(self, event: Message) -> bool:
        uniqueid = event.get("Uniqueid")
        if not uniqueid or uniqueid in self._channels:
            return False
        # A channel name is unique among live channels: one that is reused belongs to a
        # channel whose Hangup was lost or mangled.
        stale = self._channel_names.get(event.get("Channel") or "")
        if stale is not None:
            self._drop_channel(stale)
        self._add_channel(event, uniqueid, self._clock.now())
        return True

    def _on_newstate(self, event: Message) -> bool:
        call = self._channels.get(event.get("Uniqueid") or "")
        if call is None:
            return False
        call.state = event.get("ChannelStateDesc") or call.state
        call.caller_id = caller_id_of(event.get("CallerIDNum")) or call.caller_id
        call.caller_name = caller_id_of(event.get("CallerIDName")) or call.caller_name
        return True

    def _on_hangup(self, event: Message) -> bool:
        call = self._channels.get(event.get("Uniqueid") or "")
        if call is None:
            call = self._channel_names.get(event.get("Channel") or "")
        if call is None:
            return False
        self._drop_channel(call)
        return True

    # -- callers -------------------------------------------------------------------------

    def _queue_of(self, event: Message, key: str) -> tuple[Queue, str] | None:
        """The configured queue an event is about and the value of `key`, or None when
        either is missing or unknown: an event must not invent a queue."""
        queue = self._queues.get(event.get("Queue") or "")
        value = event.get(key)
        if queue is None or not value:
            return None
        return queue, value

    def _on_caller_join(self, event: Message) -> bool:
        found = self._queue_of(event, "Uniqueid")
        if found is None:
            return False
        queue, uniqueid = found
        call = self._channels.get(uniqueid)
        if call is None or queue.caller(uniqueid) is not None:
            return False
        caller = Caller(
            uniqueid=uniqueid,
            channel=event.get("Channel") or call.channel,
            caller_id=caller_id_of(event.get("CallerIDNum")) or call.caller_id,
            caller_name=caller_id_of(event.get("CallerIDName")) or call.caller_name,
            priority=call.priority,
            joined_at=self._clock.now(),
        )
        queue.join(caller, to_int(event.get("Position")))
        call.queue = queue.name
        # An escalated caller (Redirect out of an agent's bridge) waits again: no agent.
        call.agent = None
        self._connected.pop(uniqueid, None)
        return True

    def _on_caller_leave(self, event: Message) -> bool:
        found = self._queue_of(event, "Uniqueid")
        if found is None:
            return False
        queue, uniqueid = found
        left = queue.leave(uniqueid) is not None
        call = self._channels.get(uniqueid)
        if call is not None and call.queue == queue.name:
            call.queue = None
            left = True
        return left

    def _on_caller_abandon(self, event: Message) -> bool:
        found = self._queue_of(event, "Uniqueid")
        # Asterisk sends it before QueueCallerLeave: only a caller still waiting is news.
        if found is None or found[0].caller(found[1]) is None:
            return False
        found[0].abandoned += 1
        return True

    def _offered(self, event: Message) -> tuple[Caller, str] | None:
        found = self._queue_of(event, "Uniqueid")
        agent = event.get("MemberName") or event.get("Interface")
        if found is None or not agent:
            return None
        caller = found[0].caller(found[1])
        return None if caller is None else (caller, agent)

    def _on_agent_called(self, event: Message) -> bool:
        offered = self._offered(event)
        if offered is None or offered[1] in offered[0].offered_to:
            return False
        offered[0].offered_to.append(offered[1])
        return True

    def _on_agent_ring_no_answer(self, event: Message) -> bool:
        offered = self._offered(event)
        if offered is None or offered[1] not in offered[0].offered_to:
            return False
        offered[0].offered_to.remove(offered[1])
        return True

    def _known_member(self, event: Message) -> tuple[Queue, Member] | None:
        found = self._queue_of(event, "Interface")
        if found is None:
            return None
        member = found[0].members.get(found[1])
        return None if member is None else (found[0], member)

    def _on_agent_connect(self, event: Message) -> bool:
        found = self._known_member(event)
        if found is None:
            return False
        queue, member = found
        uniqueid = event.get("Uniqueid") or UNSEEN_CALLER
        member.calls[uniqueid] = member.calls_taken
        member.released = False
        queue.leave(uniqueid)
        call = self._channels.get(uniqueid)
        if call is not None:
            call.agent = member.name
            call.queue = None
            self._connected[uniqueid] = call
        return True

    def _on_agent_complete(self, event: Message) -> bool:
        found = self._known_member(event)
        if found is None:
            return False
        queue, member = found
        uniqueid = event.get("Uniqueid") or UNSEEN_CALLER
        taken_before = member.calls.pop(uniqueid, None)
        if taken_before is None:
            taken_before = member.calls.pop(UNSEEN_CALLER, None)
        call = self._channels.get(uniqueid)
        changed = call is not None and call.agent == member.name
        if call is not None and changed:
            call.agent = None
            self._connected.pop(uniqueid, None)
        if taken_before is None:
            # Not a call we saw connected, or one already counted: by a rebuild, or by the
            # member event that brought the new total (`Member.close_counted_calls`).
            return changed
        # QueueMemberStatus may have brought the new total first.
        member.calls_taken = max(member.calls_taken, taken_before + 1)
        queue.completed += 1
        return True

    # -- members -------------------------------------------------------------------------

    def _on_member(self, event: Message) -> bool:
        found = self._known_member(event)
        if found is None:
            return False
        queue, member = found
        if event.get("MemberName"):
            member.name = event["MemberName"]
        member_status(member, event)
        queue.completed += member.close_counted_calls()
        # Member events say `InCall: 0` even mid-call; an idle device after the connect
        # means the caller left the bridge (a Redirect) before its AgentComplete.
        if member.state == _IDLE and member.calls:
            member.released = True
        return True

    def _on_member_added(self, event: Message) -> bool:
        found = self._queue_of(event, "Interface")
        if found is None:
            return False
        queue, interface = found
        member_status(queue.member(interface, event.get("MemberName")), event)
        return True

    def _on_member_removed(self, event: Message) -> bool:
        found = self._queue_of(event, "Interface")
        return found is not None and found[0].members.pop(found[1], None) is not None
