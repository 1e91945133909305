"""Builders for the AMI events the simulator emits, shaped like the Asterisk 22 traces."""

from __future__ import annotations

from collections.abc import Iterable

from callrouter.ami import Message
from callrouter.pbxsim.channels import Channel, HangupCause

Headers = Iterable[tuple[str, str]]

CALL = "call,all"
AGENT = "agent,all"
DIALPLAN = "dialplan,all"
USER = "user,all"
SYSTEM = "system,all"


def event(name: str, privilege: str, headers: Headers = ()) -> Message:
    return Message.event(name, [("Privilege", privilege), *headers])


def channel_event(name: str, privilege: str, channel: Channel, extra: Headers = ()) -> Message:
    return event(name, privilege, [*channel.snapshot(), *extra])


def dial_event(
    name: str, privilege: str, source: Channel | None, dest: Channel, extra: Headers = ()
) -> Message:
    """Two-channel events: the caller's snapshot (when there is one), then `Dest`-prefixed."""
    headers = source.snapshot() if source is not None else []
    return event(name, privilege, [*headers, *dest.snapshot("Dest"), *extra])


def hangup(channel: Channel, cause: HangupCause) -> Message:
    return channel_event(
        "Hangup", CALL, channel, [("Cause", str(int(cause))), ("Cause-txt", cause.text)]
    )


def newexten(channel: Channel, application: str, data: str) -> Message:
    return channel_event(
        "Newexten",
        DIALPLAN,
        channel,
        [("Extension", channel.exten), ("Application", application), ("AppData", data)],
    )


def bridge_headers(bridge_id: str, members: int) -> list[tuple[str, str]]:
    return [
        ("BridgeUniqueid", bridge_id),
        ("BridgeType", "basic"),
        ("BridgeTechnology", "simple_bridge"),
        ("BridgeCreator", "<unknown>"),
        ("BridgeName", "<unknown>"),
        ("BridgeNumChannels", str(members)),
        ("BridgeVideoSourceMode", "none"),
    ]


def bridge_event(
    name: str, bridge_id: str, members: int, channel: Channel | None = None
) -> Message:
    headers = bridge_headers(bridge_id, members)
    if channel is not None:
        headers.extend(channel.snapshot())
    return event(name, CALL, headers)


def user_event(channel: Channel, name: str, headers: Headers) -> Message:
    """A dialplan UserEvent: custom headers come after the channel snapshot."""
    return channel_event("UserEvent", USER, channel, [("UserEvent", name), *headers])
