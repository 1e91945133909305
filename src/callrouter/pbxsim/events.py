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
DTMF = "dtmf,all"

#: What NewCallerid says about presentation for every caller of the lab (02).
_PRESENTATION = "0 (Presentation Allowed, Not Screened)"
#: SendDTMF's default tone length (the kit's `SendDTMF(${TEST_DTMF},250)` sets the gap only).
DTMF_DURATION_MS = 100


def event(name: str, privilege: str, headers: Headers = ()) -> Message:
    return Message.event(name, [("Privilege", privilege), *headers])


def channel_event(name: str, privilege: str, channel: Channel, extra: Headers = ()) -> Message:
    return Message(
        [
            f"Event: {name}",
            f"Privilege: {privilege}",
            *channel.snapshot_lines(),
            *[f"{key}: {value}" for key, value in extra],
        ]
    )


def dial_event(
    name: str, privilege: str, source: Channel | None, dest: Channel | None, extra: Headers = ()
) -> Message:
    """Two-channel events: the caller's snapshot, then the `Dest`-prefixed one. Either is left
    out when Asterisk no longer has it (a channel already hung up, see AgentComplete)."""
    lines = [f"Event: {name}", f"Privilege: {privilege}"]
    if source is not None:
        lines.extend(source.snapshot_lines())
    if dest is not None:
        lines.extend(dest.snapshot_lines("Dest"))
    lines.extend(f"{key}: {value}" for key, value in extra)
    return Message(lines)


def hangup(channel: Channel, cause: HangupCause) -> Message:
    return channel_event(
        "Hangup", CALL, channel, [("Cause", str(int(cause))), ("Cause-txt", cause.text)]
    )


def hangup_request(channel: Channel, cause: HangupCause, *, soft: bool = False) -> Message:
    """`HangupRequest` (asked from outside: AMI, the other half of a Local pair) or
    `SoftHangupRequest` (the channel's own dialplan or bridge ending it)."""
    name = "SoftHangupRequest" if soft else "HangupRequest"
    return channel_event(name, CALL, channel, [("Cause", str(int(cause)))])


def new_callerid(channel: Channel) -> Message:
    return channel_event("NewCallerid", CALL, channel, [("CID-CallingPres", _PRESENTATION)])


def new_connected_line(channel: Channel) -> Message:
    return channel_event("NewConnectedLine", CALL, channel)


def music_on_hold(channel: Channel, *, start: bool, music_class: str = "default") -> Message:
    if start:
        return channel_event("MusicOnHoldStart", CALL, channel, [("Class", music_class)])
    return channel_event("MusicOnHoldStop", CALL, channel)


def dtmf(channel: Channel, digit: str, *, end: bool, received: bool) -> Message:
    direction = ("Direction", "Received" if received else "Sent")
    if end:
        return channel_event(
            "DTMFEnd",
            DTMF,
            channel,
            [("Digit", digit), ("DurationMs", str(DTMF_DURATION_MS)), direction],
        )
    return channel_event("DTMFBegin", DTMF, channel, [("Digit", digit), direction])


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
    lines = [f"Event: {name}", f"Privilege: {CALL}"]
    lines.extend(f"{key}: {value}" for key, value in bridge_headers(bridge_id, members))
    if channel is not None:
        lines.extend(channel.snapshot_lines())
    return Message(lines)


def user_event(channel: Channel, name: str, headers: Headers) -> Message:
    """A dialplan UserEvent: custom headers come after the channel snapshot."""
    return channel_event("UserEvent", USER, channel, [("UserEvent", name), *headers])
