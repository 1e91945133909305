"""AMI actions of a logged-in session, answered with Asterisk 22's exact texts and list framing.

Login, Logoff and Events belong to the session (`server.py`); everything else is here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from callrouter.ami import Message
from callrouter.pbxsim import events as ev
from callrouter.pbxsim.model import OriginateRequest, PBXModel
from callrouter.pbxsim.queues import list_item

Headers = Iterable[tuple[str, str]]
Handler = Callable[[Message], Awaitable[list[Message]]]

_TRUE = frozenset({"yes", "true", "y", "t", "1", "on"})


def is_true(value: str | None) -> bool:
    """Asterisk's ast_true()."""
    return value is not None and value.strip().lower() in _TRUE


def response(status: str, action: Message, headers: Headers = ()) -> Message:
    """A response echoes the ActionID as its 2nd line, and has none when the action had none."""
    action_id = action.action_id
    lead = [("ActionID", action_id)] if action_id is not None else []
    return Message.response(status, [*lead, *headers])


def success(action: Message, message: str) -> Message:
    return response("Success", action, [("Message", message)])


def error(action: Message, message: str) -> Message:
    return response("Error", action, [("Message", message)])


def listing(action: Message, what: str, complete: str, items: list[Message]) -> list[Message]:
    """Start response, the items, then `<Name>Complete` with `ListItems`."""
    start = response(
        "Success", action, [("EventList", "start"), ("Message", f"{what} will follow")]
    )
    tail: list[tuple[str, str]] = []
    if action.action_id is not None:
        tail.append(("ActionID", action.action_id))
    tail += [("EventList", "Complete"), ("ListItems", str(len(items)))]
    return [start, *items, Message.event(complete, tail)]


class ActionHandler:
    def __init__(self, model: PBXModel) -> None:
        self._model = model
        self._handlers: dict[str, Handler] = {
            "ping": self._ping,
            "corestatus": self._core_status,
            "coreshowchannels": self._core_show_channels,
            "redirect": self._redirect,
            "setvar": self._setvar,
            "getvar": self._getvar,
            "hangup": self._hangup,
            "originate": self._originate,
            "userevent": self._user_event,
            "queuestatus": self._queue_status,
            "queuesummary": self._queue_summary,
            "queueadd": self._queue_add,
            "queueremove": self._queue_remove,
            "queuepause": self._queue_pause,
            "queuepenalty": self._queue_penalty,
            "queuememberringinuse": self._queue_ringinuse,
            "queuechangeprioritycaller": self._change_priority,
            "queuewithdrawcaller": self._withdraw,
        }

    async def handle(self, action: Message) -> list[Message]:
        handler = self._handlers.get(action.name.lower())
        if handler is None:
            return [
                error(
                    action,
                    f"Invalid/unknown command: {action.name}. "
                    "Use Action: ListCommands to show available commands.",
                )
            ]
        return await handler(action)

    # ------------------------------------------------------------------ core

    async def _ping(self, action: Message) -> list[Message]:
        stamp = f"{self._model.now():.6f}"
        return [response("Success", action, [("Ping", "Pong"), ("Timestamp", stamp)])]

    async def _core_status(self, action: Message) -> list[Message]:
        started = datetime.fromtimestamp(self._model.started_at, UTC)
        date, clock = started.strftime("%Y-%m-%d"), started.strftime("%H:%M:%S")
        calls = sum(1 for c in self._model.channels.values() if c.name.endswith(";2"))
        return [
            response(
                "Success",
                action,
                [
                    ("CoreStartupDate", date),
                    ("CoreStartupTime", clock),
                    ("CoreReloadDate", date),
                    ("CoreReloadTime", clock),
                    ("CoreCurrentCalls", str(calls)),
                    ("CoreProcessedCalls", str(self._model.calls_placed)),
                ],
            )
        ]

    async def _core_show_channels(self, action: Message) -> list[Message]:
        now = self._model.now()
        items = []
        for channel in self._model.channels.values():
            # CoreShowChannel has the ActionID 2nd and no Privilege line.
            lead = [("ActionID", action.action_id)] if action.action_id is not None else []
            seconds = int(now - channel.created_at)
            duration = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            items.append(
                Message.event(
                    "CoreShowChannel",
                    [
                        *lead,
                        *channel.snapshot(),
                        ("BridgeId", channel.bridge_id),
                        ("Application", channel.application),
                        ("ApplicationData", channel.application_data),
                        ("Duration", duration),
                    ],
                )
            )
        return listing(action, "Channels", "CoreShowChannelsComplete", items)

    async def _user_event(self, action: Message) -> list[Message]:
        name = action.get("UserEvent")
        if not name:
            return [error(action, "UserEvent not specified")]
        body = [(k, v) for k, v in action.items()[1:] if k.lower() != "userevent"]
        self._model.emit(ev.event("UserEvent", ev.USER, [("UserEvent", name), *body]))
        return [success(action, "Event Sent")]

    # ------------------------------------------------------------------ channels

    async def _redirect(self, action: Message) -> list[Message]:
        channel = action.get("Channel")
        if not channel:
            return [error(action, "Channel not specified")]
        problem = self._model.redirect(channel, action.get("Context") or "")
        return [error(action, problem) if problem else success(action, "Redirect successful")]

    async def _setvar(self, action: Message) -> list[Message]:
        variable = action.get("Variable")
        if not variable:
            return [error(action, "No variable specified")]
        problem = self._model.setvar(action.get("Channel"), variable, action.get("Value") or "")
        return [error(action, problem) if problem else success(action, "Variable Set")]

    async def _getvar(self, action: Message) -> list[Message]:
        variable = action.get("Variable")
        if not variable:
            return [error(action, "No variable specified")]
        problem, value = self._model.getvar(action.get("Channel"), variable)
        if problem:
            return [error(action, problem)]
        return [response("Success", action, [("Variable", variable), ("Value", value)])]

    async def _hangup(self, action: Message) -> list[Message]:
        channel = action.get("Channel")
        if not channel:
            return [error(action, "No channel specified")]
        problem = self._model.hangup(channel)
        return [error(action, problem) if problem else success(action, "Channel Hungup")]

    async def _originate(self, action: Message) -> list[Message]:
        channel = action.get("Channel")
        if not channel:
            return [error(action, "Channel not specified")]
        variables: list[tuple[str, str]] = []
        for text in action.getall("Variable"):
            for assignment in text.split(","):
                name, _, value = assignment.partition("=")
                variables.append((name.strip(), value))
        try:
            timeout = float(action.get("Timeout") or 30000) / 1000
        except ValueError:
            return [error(action, "Invalid timeout")]
        request = OriginateRequest(
            channel=channel,
            context=action.get("Context") or "",
            exten=action.get("Exten") or "",
            application=action.get("Application") or "",
            data=action.get("Data") or "",
            caller_id=action.get("CallerID") or "",
            timeout=timeout,
            variables=tuple(variables),
            action_id=action.action_id,
            asynchronous=is_true(action.get("Async")),
        )
        if request.asynchronous:
            self._model.originate(request)
            return [success(action, "Originate successfully queued")]
        # A synchronous Originate blocks the session until the outcome (05, a-009).
        outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._model.originate(request, on_result=outcome.set_result)
        if await outcome:
            return [success(action, "Originate successfully queued")]
        return [error(action, "Originate failed")]

    # ------------------------------------------------------------------ queues

    async def _queue_status(self, action: Message) -> list[Message]:
        wanted, member_filter = action.get("Queue"), action.get("Member")
        action_id, model = action.action_id, self._model
        items = []
        for queue in model.queues.values():
            if wanted and queue.name != wanted:
                continue
            items.append(list_item("QueueParams", queue.params_item(), action_id))
            for member in queue.members:
                if member_filter and member_filter not in (member.name, member.interface):
                    continue
                headers = member.headers(
                    model.member_status(member.interface),
                    list_item=True,
                    in_call=model.in_call(member.interface),
                )
                items.append(list_item("QueueMember", [("Queue", queue.name), *headers], action_id))
            for entry in queue.entry_items(model.now()):
                items.append(list_item("QueueEntry", entry, action_id))
        return listing(action, "Queue status", "QueueStatusComplete", items)

    async def _queue_summary(self, action: Message) -> list[Message]:
        wanted, model, now = action.get("Queue"), self._model, self._model.now()
        items = []
        for queue in model.queues.values():
            if wanted and queue.name != wanted:
                continue
            available = sum(
                1 for m in queue.members if not m.paused and model.member_status(m.interface) == 1
            )
            longest = max((int(now - e.joined_at) for e in queue.entries), default=0)
            headers = [
                ("Queue", queue.name),
                ("LoggedIn", str(len(queue.members))),
                ("Available", str(available)),
                ("Callers", str(len(queue.entries))),
                ("HoldTime", str(queue.holdtime)),
                ("TalkTime", str(queue.talktime)),
                ("LongestHoldTime", str(longest)),
            ]
            items.append(list_item("QueueSummary", headers, action.action_id))
        return listing(action, "Queue summary", "QueueSummaryComplete", items)

    async def _queue_add(self, action: Message) -> list[Message]:
        queue, interface = action.get("Queue"), action.get("Interface")
        if not queue:
            return [error(action, "'Queue' not specified.")]
        if not interface:
            return [error(action, "'Interface' not specified.")]
        penalty = _int(action.get("Penalty"), 0)
        problem = self._model.queue_add(
            queue,
            interface,
            member_name=action.get("MemberName") or "",
            penalty=penalty,
            paused=is_true(action.get("Paused")),
            reason=action.get("Reason") or "",
        )
        return [error(action, problem) if problem else success(action, "Added interface to queue")]

    async def _queue_remove(self, action: Message) -> list[Message]:
        queue, interface = action.get("Queue"), action.get("Interface")
        if not queue or not interface:
            return [error(action, "Need 'Queue' and 'Interface' parameters.")]
        problem = self._model.queue_remove(queue, interface)
        return [
            error(action, problem) if problem else success(action, "Removed interface from queue")
        ]

    async def _queue_pause(self, action: Message) -> list[Message]:
        interface, paused_text = action.get("Interface"), action.get("Paused")
        if not interface or not paused_text:
            return [error(action, "Need 'Interface' and 'Paused' parameters.")]
        paused = is_true(paused_text)
        problem = self._model.queue_pause(
            interface, paused, action.get("Queue"), action.get("Reason") or ""
        )
        if problem:
            return [error(action, problem)]
        return [success(action, f"Interface {'paused' if paused else 'unpaused'} successfully")]

    async def _queue_penalty(self, action: Message) -> list[Message]:
        interface, penalty = action.get("Interface"), _int(action.get("Penalty"), -1)
        if not interface or penalty < 0:
            return [error(action, "Need 'Interface' and 'Penalty' parameters.")]
        problem = self._model.queue_penalty(interface, penalty, action.get("Queue"))
        return [
            error(action, problem)
            if problem
            else success(action, "Interface penalty set successfully")
        ]

    async def _queue_ringinuse(self, action: Message) -> list[Message]:
        interface, value = action.get("Interface"), action.get("RingInUse")
        if not interface or not value:
            return [error(action, "Need 'Interface' and 'RingInUse' parameters.")]
        problem = self._model.queue_ringinuse(interface, is_true(value), action.get("Queue"))
        if problem:
            return [error(action, problem)]
        return [success(action, "Interface ringinuse set successfully")]

    async def _change_priority(self, action: Message) -> list[Message]:
        queue, caller = action.get("Queue"), action.get("Caller")
        if not queue:
            return [error(action, "'Queue' not specified.")]
        if not caller:
            return [error(action, "'Caller' not specified.")]
        priority_text = action.get("Priority")
        if not priority_text or not priority_text.lstrip("-").isdigit():
            return [error(action, "'Priority' not specified.")]
        priority = int(priority_text)
        problem = self._model.change_priority(
            queue, caller, priority, immediate=is_true(action.get("Immediate"))
        )
        if problem:
            return [error(action, problem)]
        return [success(action, "Priority change for caller on queue")]

    async def _withdraw(self, action: Message) -> list[Message]:
        queue, caller = action.get("Queue"), action.get("Caller")
        if not queue:
            return [error(action, "'Queue' not specified.")]
        if not caller:
            return [error(action, "'Caller' not specified.")]
        problem = self._model.withdraw(queue, caller, action.get("WithdrawInfo") or "")
        if problem:
            return [error(action, problem)]
        return [success(action, "Withdraw requested successfully")]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
