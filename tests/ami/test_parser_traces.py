"""Every transcript captured from Asterisk 22.10.1, fed through the parser as it was read.

The `.timeline.jsonl` `recv` lines give the real TCP read boundaries (off/len in the
`.ami` file); the parser is fed exactly those reads, and also one byte at a time, and must
yield the same messages: the banner, one response per action of the `.actions` file in
order, and the events at their known places.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from callrouter.ami import AMIParser, Message, MessageKind

BANNER = "Asterisk Call Manager/11.0.0"

#: transcript -> (responses, events) it holds.
KIND_COUNTS = {
    "01-login-basics": (15, 2),
    "02-inbound-queue-answered": (5, 164),
    "03-priority-queue-experts": (19, 363),
    "05-originate-callback": (10, 332),
    "06-queue-member-mgmt": (27, 281),
    "07-errors": (19, 71),
    "07-errors-badlogin": (3, 0),
    "07-errors-unknownuser": (1, 0),
}

#: transcript -> every `Response: Error` as (ActionID, Message); all other answers succeed.
ERRORS = {
    "01-login-basics": [],
    "02-inbound-queue-answered": [],
    "03-priority-queue-experts": [],
    "05-originate-callback": [("a-009", "Originate failed")],
    "06-queue-member-mgmt": [
        ("a-004", "Unable to add interface: Already there"),
        ("a-017", "Unable to change priority caller on queue: No such caller"),
        ("a-022", "No such channel"),
        ("a-024", "Unable to remove interface: Not there"),
    ],
    "07-errors": [
        (
            "a-002",
            "Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show "
            "available commands.",
        ),
        ("no-action-header", "Missing action in request"),
        ("a-003", "Channel does not exist: Local/0600000000@hotline-deadbeef;2"),
        ("a-004", "Channel not specified"),
        ("a-006", "Channel does not exist: Local/0677777777@hotline-00000000;2"),
        ("a-007", "No such channel"),
        ("a-008", "No such channel"),
        ("a-009", "No such channel"),
        ("a-012", "No such channel"),
        ("a-013", "Channel not specified"),
        ("a-014", "Interface not found"),
        ("a-016", "Unable to add interface to queue: No such queue"),
    ],
    "07-errors-badlogin": [
        ("b-001", "Permission denied"),
        ("b-002", "Permission denied"),
        ("b-003", "Authentication failed"),
    ],
    "07-errors-unknownuser": [("u-001", "Authentication failed")],
}

#: transcript -> a few event counts by name.
EVENT_COUNTS = {
    "01-login-basics": {"CoreShowChannelsComplete": 1, "UserEvent": 1},
    "02-inbound-queue-answered": {
        "VarSet": 80,
        "UserEvent": 1,
        "QueueCallerJoin": 1,
        "AgentConnect": 1,
        "Cdr": 3,
        "Hangup": 4,
    },
    "03-priority-queue-experts": {
        "QueueParams": 5,
        "QueueMember": 9,
        "QueueEntry": 5,
        "QueueStatusComplete": 3,
        "QueueSummaryComplete": 2,
        "OriginateResponse": 2,
    },
    "05-originate-callback": {"OriginateResponse": 7, "DialEnd": 7, "Cdr": 19},
    "06-queue-member-mgmt": {
        "QueueMemberAdded": 1,
        "QueueMemberRinginuse": 1,
        "QueueCallerAbandon": 1,
        "QueueMemberRemoved": 1,
        "QueueStatusComplete": 4,
    },
    "07-errors": {"RequestBadFormat": 2, "QueueStatusComplete": 1, "FullyBooted": 1},
    "07-errors-badlogin": {},
    "07-errors-unknownuser": {},
}


@dataclass(frozen=True)
class Transcript:
    name: str
    received: bytes
    reads: list[bytes]
    actions: list[Message]


def load(traces_dir: Path, name: str) -> Transcript:
    received = (traces_dir / f"{name}.ami").read_bytes()
    timeline = [
        json.loads(line)
        for line in (traces_dir / f"{name}.timeline.jsonl").read_text().splitlines()
    ]
    reads: list[bytes] = []
    offset = 0
    for entry in timeline:
        if entry["dir"] == "recv":
            assert entry["off"] == offset, "the reads of a transcript follow each other"
            reads.append(received[offset : offset + entry["len"]])
            offset += entry["len"]
    assert offset == len(received)
    sent = (traces_dir / f"{name}.actions").read_bytes()
    actions = AMIParser(expect_banner=False).feed(sent)
    return Transcript(name, received, reads, actions)


def parse(reads: list[bytes]) -> tuple[AMIParser, list[Message]]:
    parser = AMIParser()
    messages: list[Message] = []
    for data in reads:
        messages.extend(parser.feed(data))
    return parser, messages


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def list_of(messages: list[Message], action_id: str) -> tuple[Message, list[Message], Message]:
    """The start response, the items and the Complete event of one list action."""
    tagged = [m for m in messages if m.action_id == action_id]
    start, *items, complete = tagged
    assert start.is_list_start
    assert complete.is_list_complete
    return start, items, complete


@pytest.fixture(params=sorted(KIND_COUNTS))
def transcript(request: pytest.FixtureRequest, traces_dir: Path) -> Transcript:
    return load(traces_dir, request.param)


def test_every_transcript_on_disk_is_checked(traces_dir: Path) -> None:
    assert {path.stem for path in traces_dir.glob("*.ami")} == set(KIND_COUNTS)


def test_banner_and_kinds(transcript: Transcript) -> None:
    parser, messages = parse(transcript.reads)

    assert parser.banner == BANNER
    kinds = Counter(m.kind for m in messages)
    responses, events = KIND_COUNTS[transcript.name]
    assert kinds == Counter({MessageKind.RESPONSE: responses, MessageKind.EVENT: events})
    assert parser.malformed == 0
    assert parser.pending == 0


def test_responses_answer_the_actions_in_order(transcript: Transcript) -> None:
    _, messages = parse(transcript.reads)
    responses = [m for m in messages if m.kind is MessageKind.RESPONSE]

    assert len(responses) == len(transcript.actions)
    for action, response in zip(transcript.actions, responses, strict=True):
        assert response.action_id == action.action_id
        if action.action_id is None:
            assert "ActionID" not in response
        else:
            # Echoed verbatim as the second line, spaces, `;` and `&` included.
            assert response.lines[1] == f"ActionID: {action.action_id}"
    errors = [(r.action_id, r.get("Message")) for r in responses if r.is_error]
    assert errors == ERRORS[transcript.name]
    statuses = {r.name for r in responses if not r.is_error}
    logged_off = transcript.actions[-1].name == "Logoff"
    assert statuses <= {"Success", "Goodbye"}
    assert (responses[-1].name == "Goodbye") is logged_off


def test_event_counts(transcript: Transcript) -> None:
    _, messages = parse(transcript.reads)
    counts = Counter(m.name for m in messages if m.kind is MessageKind.EVENT)

    for name, count in EVENT_COUNTS[transcript.name].items():
        assert counts[name] == count, name


def test_one_byte_at_a_time_gives_the_same_messages(transcript: Transcript) -> None:
    parser, messages = parse(one_byte_at_a_time(transcript.received))
    _, by_reads = parse(transcript.reads)

    assert parser.banner == BANNER
    assert messages == by_reads
    assert parser.pending == 0


def test_01_login_basics(traces_dir: Path) -> None:
    transcript = load(traces_dir, "01-login-basics")
    parser = AMIParser()
    messages: list[Message] = []
    reads_ending_mid_message = 0
    for data in transcript.reads:
        messages.extend(parser.feed(data))
        reads_ending_mid_message += parser.pending > 0
    by_id = {m.action_id: m for m in messages if m.kind is MessageKind.RESPONSE}

    # ListCommands' response came in five reads: four of them end inside it.
    assert reads_ending_mid_message == 4
    assert by_id["a-009"].get("QueueStatus") == "Show queue status.  (Priv: <none>)"
    assert by_id["a-001"].get("Message") == "Authentication accepted"
    assert by_id["a-008"].getall("Output") == [
        "System uptime: 3 seconds",
        "Last reload: 3 seconds",
    ]
    assert by_id["a-004"].get("SystemName") == ""
    _, items, complete = list_of(messages, "a-005")
    assert items == []
    assert complete.get("ListItems") == "0"
    heartbeat = next(m for m in messages if m.name == "UserEvent")
    assert heartbeat.kind is MessageKind.EVENT
    assert heartbeat.get("UserEvent") == "RouterHeartbeat"
    assert heartbeat.action_id == "a-010"
    assert heartbeat.get("Seq") == "1"
    assert messages[-1].get("Message") == "Thanks for all the fish."


def test_02_inbound_call_queued(traces_dir: Path) -> None:
    _, messages = parse(load(traces_dir, "02-inbound-queue-answered").reads)
    names = [m.name for m in messages]

    assert names[1:3] == ["FullyBooted", "SuccessfulAuth"]
    call = next(m for m in messages if m.get("UserEvent") == "HotlineCall")
    assert call.get("Channel") == "Local/0612345678@hotline-00000000;2"
    assert call.get("Caller") == "0612345678"
    assert call.get("CallerName") == "Jean Dupont"
    assert call.get("HotlineDID") == "0800100200"
    assert call.get("Arrival") == "1795433939"
    assert call.get("Pin") == ""
    originate = next(m for m in messages if m.name == "OriginateResponse")
    assert originate.kind is MessageKind.EVENT
    assert (originate.action_id, originate.get("Response")) == ("a-002", "Success")
    # The Setvar answer comes before its VarSet event, the Redirect answer before the
    # Newexten in the queue context.
    setvar = next(i for i, m in enumerate(messages) if m.action_id == "a-003")
    varset = next(
        i
        for i, m in enumerate(messages)
        if m.name == "VarSet" and m.get("Variable") == "QUEUE_PRIO"
    )
    assert setvar < varset
    redirect = next(i for i, m in enumerate(messages) if m.action_id == "a-004")
    queued = next(
        i
        for i, m in enumerate(messages)
        if m.name == "Newexten" and m.get("Context") == "queue-coordinators"
    )
    assert redirect < queued
    complete = next(m for m in messages if m.name == "AgentComplete")
    assert complete.get("MemberName") == "Alice Martin"
    assert complete.get("Reason") == "caller"


def test_03_priority_caller_served_first(traces_dir: Path) -> None:
    _, messages = parse(load(traces_dir, "03-priority-queue-experts").reads)

    joins = [
        (m.get("CallerIDName"), m.get("Position"), m.get("Count"))
        for m in messages
        if m.name == "QueueCallerJoin"
    ]
    assert joins == [("Anne Client", "1", "1"), ("Bernard VIP", "1", "2")]
    start, items, complete = list_of(messages, "a-010")
    assert start.get("Message") == "Queue status will follow"
    assert [m.name for m in items] == [
        "QueueParams",
        "QueueMember",
        "QueueMember",
        "QueueEntry",
        "QueueEntry",
    ]
    assert complete.name == "QueueStatusComplete"
    assert complete.get("ListItems") == str(len(items))
    # In these items the ActionID is the last header.
    assert all(m.lines[-1] == "ActionID: a-010" for m in items)
    entries = [(m.get("Position"), m.get("CallerIDName"), m.get("Priority")) for m in items[3:]]
    assert entries == [("1", "Bernard VIP", "10"), ("2", "Anne Client", "0")]
    assert items[0].get("Holdtime") == "0"
    assert items[1].get("Name") == "Chloe Bernard"
    assert items[1].get("PausedReason") == "Briefing"
    _, after_unpause, _ = list_of(messages, "a-015")
    chloe = next(m for m in after_unpause if m.get("Name") == "Chloe Bernard")
    assert chloe.get("InCall") == "1"


def test_05_originate_outcomes_are_events(traces_dir: Path) -> None:
    _, messages = parse(load(traces_dir, "05-originate-callback").reads)

    outcomes = [
        (m.action_id, m.get("Response"), m.get("Reason"))
        for m in messages
        if m.name == "OriginateResponse"
    ]
    assert all(m.kind is MessageKind.EVENT for m in messages if m.name == "OriginateResponse")
    assert outcomes == [
        ("a-002", "Success", "4"),
        ("a-003", "Success", "4"),
        ("a-004", "Success", "4"),
        ("a-005", "Failure", "3"),
        ("a-006", "Failure", "5"),
        ("a-007", "Failure", "0"),
        ("a-008", "Failure", "0"),
    ]
    busy = next(m for m in messages if m.name == "OriginateResponse" and m.action_id == "a-006")
    assert busy.get("Channel") == "Local/busy@agents"
    assert busy.get("Uniqueid") == "<unknown>"


def test_06_queue_member_events(traces_dir: Path) -> None:
    _, messages = parse(load(traces_dir, "06-queue-member-mgmt").reads)

    added = next(m for m in messages if m.name == "QueueMemberAdded")
    assert added.get("Interface") == "Local/agent9@agents"
    assert added.get("MemberName") is not None
    names = [m.name for m in messages]
    abandon = names.index("QueueCallerAbandon")
    assert names[abandon:].index("QueueCallerLeave") > 0


def test_07_errors_bad_requests(traces_dir: Path) -> None:
    _, messages = parse(load(traces_dir, "07-errors").reads)

    bad = [m.get("RequestType") for m in messages if m.name == "RequestBadFormat"]
    assert bad == ["Action: NoSuchAction", "Action: NONE"]
    _, items, complete = list_of(messages, "a-015")
    assert items == []
    assert complete.get("ListItems") == "0"
    relogin = next(m for m in messages if m.action_id == "a-017")
    assert relogin.get("Message") == "Already authenticated"
