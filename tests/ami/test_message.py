"""Message header lookup: first of repeated keys, empty values, frames not quite canonical;
the same whether the message was built from its lines or from a frame as received."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callrouter.ami.message import Message, MessageKind
from callrouter.ami.parser import AMIParser


def from_lines(lines: list[str]) -> Message:
    return Message(lines)


def as_received(lines: list[str]) -> Message:
    # What the parser gives: the decoded frame, read without being split into lines.
    return Message(frame="\r\n".join(lines))


def parsed(lines: list[str]) -> Message:
    # What the reader gets: the parser's own path, from the bytes.
    [message] = AMIParser(expect_banner=False).feed(("\r\n".join(lines) + "\r\n\r\n").encode())
    return message


built = pytest.mark.parametrize("build", [from_lines, as_received, parsed])


@built
def test_the_first_of_repeated_keys_wins_and_getall_keeps_them_all(
    build: Callable[[list[str]], Message],
) -> None:
    message = build(["Event: UserEvent", "CallerIDNum: 0612345678", "CallerIDNum: 0699999999"])
    assert message.get("CallerIDNum") == "0612345678"
    assert message.getall("CallerIDNum") == ["0612345678", "0699999999"]


@built
def test_an_empty_value_and_a_value_holding_colons(
    build: Callable[[list[str]], Message],
) -> None:
    message = build(["Response: Error", "AccountCode: ", "Message: Channel does not exist: X"])
    assert message.get("AccountCode") == ""
    assert message["Message"] == "Channel does not exist: X"
    # A key named inside a value, or starting a longer key, is not that header.
    assert message.get("Channel") is None
    assert message.get("Account") is None
    assert message.get("Response") == "Error"


@built
def test_a_header_without_the_space_is_still_read(build: Callable[[list[str]], Message]) -> None:
    # Not what Asterisk writes, but a proxy might: the lenient path reads it the same way.
    message = build(["Event: Hangup", "Channel:Local/x@hotline-00000001;2", "Cause: 16"])
    assert message.kind is MessageKind.EVENT
    assert message.get("Channel") == "Local/x@hotline-00000001;2"
    assert message.get("Cause") == "16"
    assert message.get("cause") == "16"


@built
def test_keys_are_matched_exactly_first_then_whatever_their_case(
    build: Callable[[list[str]], Message],
) -> None:
    message = build(["Event: UserEvent", "uniqueid: 1.1", "Uniqueid: 1.2", "CALLER: 06"])
    assert message.get("Uniqueid") == "1.2"
    assert message.get("uniqueid") == "1.1"
    assert message.get("Caller") == "06"
    assert message.get("Missing", "default") == "default"


@built
def test_a_letter_that_lowercases_longer_does_not_shift_the_values(
    build: Callable[[list[str]], Message],
) -> None:
    # "İ" lowercases to two characters: a search in the lowered text would be misplaced.
    message = build(["Event: UserEvent", "CallerName: İPEK", "Pass: 3"])
    assert message.get("pass") == "3"
    assert message.get("callername") == "İPEK"


@built
@pytest.mark.parametrize(
    ("first", "kind", "name"),
    [
        ("Event: Newchannel", MessageKind.EVENT, "Newchannel"),
        ("Response: Success", MessageKind.RESPONSE, "Success"),
        ("Event: odd: name", MessageKind.EVENT, "odd: name"),
        ("Event:Hangup", MessageKind.EVENT, "Hangup"),
        ("event: Hangup", MessageKind.EVENT, "Hangup"),
        ("Event:: Hangup", MessageKind.EVENT, ": Hangup"),
        ("Event: ", MessageKind.EVENT, ""),
        ("Privilege: call,all", MessageKind.OTHER, "call,all"),
    ],
)
def test_the_first_line_says_the_kind_and_name_however_the_message_was_made(
    build: Callable[[list[str]], Message], first: str, kind: MessageKind, name: str
) -> None:
    message = build([first, "Channel: Local/1@hotline-00000001;2"])
    assert (message.kind, message.name) == (kind, name)
    assert message.get("Channel") == "Local/1@hotline-00000001;2"
