"""One test per protocol quirk of ami-traces/README.md ("Protocol observations"), plus the
hostile inputs a parser must survive (split UTF-8, malformed and oversized frames)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callrouter.ami import AMIParser, Message, MessageKind
from callrouter.ami.parser import MAX_FRAME_BYTES

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def transcript(traces_dir: Path, name: str) -> list[Message]:
    return AMIParser().feed((traces_dir / f"{name}.ami").read_bytes())


def raw_frame(traces_dir: Path, name: str, marker: bytes) -> bytes:
    """The bytes of the first frame of a transcript that contains `marker`, terminator included."""
    data = (traces_dir / f"{name}.ami").read_bytes()
    at = data.index(marker)
    start = data.rindex(b"\r\n\r\n", 0, at) + 4
    end = data.index(b"\r\n\r\n", at) + 4
    return data[start:end]


def test_originate_response_is_an_event_with_a_response_header(traces_dir: Path) -> None:
    failure = next(
        m
        for m in transcript(traces_dir, "05-originate-callback")
        if m.name == "OriginateResponse" and m.get("Response") == "Failure"
    )

    assert failure.kind is MessageKind.EVENT
    assert not failure.is_error
    assert failure.action_id == "a-005"
    assert failure.get("Reason") == "3"


def test_repeated_header_names_keep_every_value_in_order(traces_dir: Path) -> None:
    # The trial dialplan's HotlineCall carried CallerIDNum twice: the channel snapshot's,
    # then its own custom header. Rebuilt here from the captured event.
    frame = raw_frame(traces_dir, "02-inbound-queue-answered", b"UserEvent: HotlineCall")
    trial = frame[:-2] + b"CallerIDNum: 0699999999\r\n\r\n"

    [event] = AMIParser(expect_banner=False).feed(trial)

    assert event.get("CallerIDNum") == "0612345678"
    assert event.getall("CallerIDNum") == ["0612345678", "0699999999"]
    assert [k for k, _ in event.items()].count("CallerIDNum") == 2
    assert event.get("UserEvent") == "HotlineCall"


def test_command_output_lines_repeat_the_same_key(traces_dir: Path) -> None:
    command = next(m for m in transcript(traces_dir, "01-login-basics") if m.action_id == "a-008")

    assert command.getall("Output") == ["System uptime: 3 seconds", "Last reload: 3 seconds"]


def test_a_read_ending_anywhere_inside_a_message_loses_nothing(traces_dir: Path) -> None:
    frame = raw_frame(traces_dir, "01-login-basics", b"ActionID: a-009")
    [whole] = AMIParser(expect_banner=False).feed(frame)

    for cut in range(1, len(frame)):
        parser = AMIParser(expect_banner=False)
        assert parser.feed(frame[:cut]) == []
        assert parser.feed(frame[cut:]) == [whole]


def test_action_id_is_echoed_verbatim(traces_dir: Path) -> None:
    responses = [
        m for m in transcript(traces_dir, "01-login-basics") if m.kind is MessageKind.RESPONSE
    ]

    assert responses[3].action_id == "client-chosen-id;with spaces & stuff"
    assert responses[3].get("Ping") == "Pong"


def test_a_response_without_action_id(traces_dir: Path) -> None:
    responses = [
        m for m in transcript(traces_dir, "01-login-basics") if m.kind is MessageKind.RESPONSE
    ]

    assert responses[2].action_id is None
    assert responses[2].get("Ping") == "Pong"
    assert "ActionID" not in responses[2]


def test_an_empty_value_is_an_empty_string_not_a_missing_key(traces_dir: Path) -> None:
    settings = next(m for m in transcript(traces_dir, "01-login-basics") if m.action_id == "a-004")

    assert settings.get("SystemName") == ""
    assert "SystemName" in settings
    assert settings.get("CoreRunUser", "absent") == ""
    assert ("CoreRunGroup", "") in settings.items()


def test_list_items_carry_the_action_id_as_last_header(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "03-priority-queue-experts")
    member = next(m for m in messages if m.name == "QueueMember")

    assert member.lines[-1] == "ActionID: a-010"
    assert member.action_id == "a-010"
    assert "Privilege" not in member


def test_an_empty_list_is_start_then_complete(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "07-errors")
    tagged = [m for m in messages if m.action_id == "a-015"]

    assert [m.kind for m in tagged] == [MessageKind.RESPONSE, MessageKind.EVENT]
    assert tagged[0].is_list_start
    assert tagged[1].is_list_complete
    assert tagged[1].get("ListItems") == "0"


def test_queue_status_list_items_count_the_queue_params_rows(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "06-queue-member-mgmt")
    for complete in (m for m in messages if m.name == "QueueStatusComplete"):
        items = [
            m
            for m in messages
            if m.action_id == complete.action_id
            and m.kind is MessageKind.EVENT
            and not m.is_list_complete
        ]
        assert int(complete["ListItems"]) == len(items)
        assert any(m.name == "QueueParams" for m in items)


def test_cdr_unique_id_spelling(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "02-inbound-queue-answered")
    cdr = next(m for m in messages if m.name == "Cdr")
    hangup = next(m for m in messages if m.name == "Hangup")

    assert "UniqueID" in [k for k, _ in cdr.items()]
    assert "Uniqueid" in [k for k, _ in hangup.items()]
    # One spelling reads both: exact case first, then case-insensitively.
    assert cdr.get("Uniqueid") == cdr.get("UniqueID") is not None
    assert hangup.get("UniqueID") == hangup.get("Uniqueid") is not None


def test_header_names_with_a_hyphen(traces_dir: Path) -> None:
    hangup = next(
        m for m in transcript(traces_dir, "03-priority-queue-experts") if m.name == "Hangup"
    )

    assert hangup.get("Cause-txt") in {"Unknown", "Normal Clearing"}


def test_banner_has_no_blank_line_after_it() -> None:
    parser = AMIParser()
    data = (
        BANNER + b"Response: Success\r\nActionID: a-001\r\nMessage: Authentication accepted\r\n\r\n"
    )

    [login] = parser.feed(data)

    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert login.kind is MessageKind.RESPONSE
    assert login.action_id == "a-001"


def test_banner_split_across_reads() -> None:
    parser = AMIParser()

    assert parser.feed(BANNER[:10]) == []
    assert parser.banner is None
    assert parser.feed(BANNER[10:] + b"Response: Success\r\n\r\n")[0].name == "Success"
    assert parser.banner == "Asterisk Call Manager/11.0.0"


@pytest.mark.parametrize("cut", range(1, 4))
def test_utf8_character_split_across_reads(cut: int) -> None:
    # The lab callers had ASCII names; the hotline's callers do not.
    frame = "Event: UserEvent\r\nUserEvent: HotlineCall\r\nCallerName: Jérôme Ñandú 🎧\r\n\r\n"
    data = frame.encode()
    split = data.index("🎧".encode()) + cut
    parser = AMIParser(expect_banner=False)

    assert parser.feed(data[:split]) == []
    [event] = parser.feed(data[split:])

    assert event.get("CallerName") == "Jérôme Ñandú 🎧"


def test_utf8_fed_one_byte_at_a_time() -> None:
    data = "Event: Newchannel\r\nCallerIDName: Hélène Lefèvre\r\n\r\n".encode()
    parser = AMIParser(expect_banner=False)
    messages: list[Message] = []
    for i in range(len(data)):
        messages.extend(parser.feed(data[i : i + 1]))

    assert [m.get("CallerIDName") for m in messages] == ["Hélène Lefèvre"]


def test_malformed_frame_is_skipped_and_counted() -> None:
    rejected: list[tuple[bytes, str]] = []
    parser = AMIParser(on_malformed=lambda frame, reason: rejected.append((frame, reason)))
    data = (
        BANNER
        + b"Response: Success\r\nActionID: 1\r\n\r\n"
        + b"this is not a header\r\nnor this\r\n\r\n"
        + b"Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n"
    )

    messages = parser.feed(data)

    assert [m.name for m in messages] == ["Success", "FullyBooted"]
    assert parser.malformed == 1
    assert rejected == [(b"this is not a header\r\nnor this", rejected[0][1])]
    assert "header" in rejected[0][1]


def test_stray_blank_lines_between_frames_are_not_frames() -> None:
    parser = AMIParser(expect_banner=False)

    messages = parser.feed(b"\r\n\r\nEvent: A\r\n\r\n\r\n\r\n\r\nEvent: B\r\n\r\n")

    assert [m.name for m in messages] == ["A", "B"]
    assert parser.malformed == 0


def test_a_frame_without_a_colon_in_later_lines_is_kept() -> None:
    [message] = AMIParser(expect_banner=False).feed(b"Event: Odd\r\nno colon here\r\n\r\n")

    assert message.items() == [("Event", "Odd"), ("no colon here", "")]


def test_unknown_first_header_is_other() -> None:
    [message] = AMIParser(expect_banner=False).feed(b"Foo: Bar\r\nBaz: 1\r\n\r\n")

    assert message.kind is MessageKind.OTHER


def test_oversized_garbage_is_dropped_and_parsing_resumes() -> None:
    rejected: list[str] = []
    parser = AMIParser(
        expect_banner=False, on_malformed=lambda frame, reason: rejected.append(reason)
    )
    garbage = b"x" * (MAX_FRAME_BYTES + 10_000)
    # The terminator of the garbage straddles two 4 KiB reads.
    stream = garbage + b"\r\n\r\nEvent: FullyBooted\r\nStatus: Fully Booted\r\n\r\n"
    read = 4096
    cut = len(garbage) + 2
    reads = [stream[i : min(i + read, cut)] for i in range(0, cut, read)] + [stream[cut:]]
    assert b"".join(reads) == stream

    messages: list[Message] = []
    for data in reads:
        messages.extend(parser.feed(data))

    assert [m.name for m in messages] == ["FullyBooted"]
    assert parser.malformed == 1
    assert rejected == ["frame too large"]
    assert parser.pending == 0


def test_oversized_garbage_does_not_hold_memory() -> None:
    parser = AMIParser(expect_banner=False, on_malformed=lambda frame, reason: None)
    chunk = b"y" * 65536
    for _ in range(3 * MAX_FRAME_BYTES // len(chunk)):
        parser.feed(chunk)

    assert parser.pending < 4
    assert parser.malformed == 1


def test_events_of_a_synchronous_originate_arrive_after_its_error(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "05-originate-callback")
    error = next(i for i, m in enumerate(messages) if m.action_id == "a-009" and m.is_error)
    attempt = [
        i
        for i, m in enumerate(messages)
        if m.name == "Newchannel"
        and m.get("Channel", "").startswith("Local/noanswer@agents-00000009")
    ]

    assert messages[error].get("Message") == "Originate failed"
    assert attempt
    assert all(i > error for i in attempt)


def test_member_fields_are_named_differently_in_lists_and_events(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "03-priority-queue-experts")
    row = next(m for m in messages if m.name == "QueueMember")
    event = next(m for m in messages if m.name == "QueueMemberStatus")
    params = next(m for m in messages if m.name == "QueueParams")
    agent_connect = next(m for m in messages if m.name == "AgentConnect")

    assert (row.get("Name"), row.get("Location")) == ("Chloe Bernard", "Local/agent3@agents")
    assert "MemberName" not in row and "Interface" not in row
    assert event.get("MemberName") is not None and event.get("Interface") is not None
    assert "Holdtime" in [k for k, _ in params.items()]
    assert "HoldTime" in [k for k, _ in agent_connect.items()]


def test_member_events_keep_saying_not_in_call(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "02-inbound-queue-answered")
    statuses = [
        (m.get("Status"), m.get("InCall")) for m in messages if m.name == "QueueMemberStatus"
    ]

    assert ("2", "0") in statuses
    assert all(in_call == "0" for _, in_call in statuses)


def test_hangup_cause_of_the_ami_hangup_target(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "03-priority-queue-experts")
    causes = {
        m["Channel"]: (m.get("Cause"), m.get("Cause-txt")) for m in messages if m.name == "Hangup"
    }

    assert causes["Local/0622222222@hotline-00000001;1"] == ("0", "Unknown")
    assert causes["Local/0622222222@hotline-00000001;2"] == ("16", "Normal Clearing")


def test_withdrawn_caller_shows_as_abandon_then_leave(traces_dir: Path) -> None:
    messages = transcript(traces_dir, "06-queue-member-mgmt")
    withdrawn = next(i for i, m in enumerate(messages) if m.action_id == "a-019")
    after = [m.name for m in messages[withdrawn:] if m.name.startswith("QueueCaller")]

    assert messages[withdrawn].get("Message") == "Withdraw requested successfully"
    assert after[:2] == ["QueueCallerAbandon", "QueueCallerLeave"]
