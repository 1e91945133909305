"""Message header lookup: first of repeated keys, empty values, frames not quite canonical."""

from __future__ import annotations

from callrouter.ami.message import Message, MessageKind


def test_the_first_of_repeated_keys_wins_and_getall_keeps_them_all() -> None:
    message = Message(["Event: UserEvent", "CallerIDNum: 0612345678", "CallerIDNum: 0699999999"])
    assert message.get("CallerIDNum") == "0612345678"
    assert message.getall("CallerIDNum") == ["0612345678", "0699999999"]


def test_an_empty_value_and_a_value_holding_colons() -> None:
    message = Message(["Response: Error", "AccountCode: ", "Message: Channel does not exist: X"])
    assert message.get("AccountCode") == ""
    assert message["Message"] == "Channel does not exist: X"


def test_a_header_without_the_space_is_still_read() -> None:
    # Not what Asterisk writes, but a proxy might: the lenient path reads it the same way.
    message = Message(["Event: Hangup", "Channel:Local/x@hotline-00000001;2", "Cause: 16"])
    assert message.kind is MessageKind.EVENT
    assert message.get("Channel") == "Local/x@hotline-00000001;2"
    assert message.get("Cause") == "16"
    assert message.get("cause") == "16"
