"""Every way to key the IVR (keys.py), keyed as DTMF into a real Asterisk.

Opt-in: it needs an Asterisk running dialplans/ with its sounds installed and
tests/dialplans/asterisk/test-caller.conf included, and an AMI user that may originate and
reads user events, given as CALLROUTER_TEST_ASTERISK=user:secret@host:port. With the kit
of ../shared/asterisk (Asterisk 22.10.1), from the repository's root:

    bash $K/deploy.sh . tests/dialplans/asterisk/test-caller.conf   # then the sounds,
    bash $K/start.sh                                                 # dialplans/README.md
    CALLROUTER_TEST_ASTERISK=tester:tester-secret@127.0.0.1:5038 \\
        .venv/bin/pytest tests/dialplans/test_ivr_on_asterisk.py

All calls are placed at once and last about 35 s. callrouter need not run: each call
hangs up a moment after its last key, once its HotlineCall has told what the IVR read.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator

import pytest

from .keys import Keyed, every_way_to_key

ADDRESS = os.environ.get("CALLROUTER_TEST_ASTERISK", "")
pytestmark = pytest.mark.skipif(
    not ADDRESS, reason="CALLROUTER_TEST_ASTERISK (user:secret@host:port) is not set"
)

CASES = every_way_to_key()
# Seconds: the welcome prompt plays before the first key (keys during Playback are not
# heard). A pause longer than HOTLINE_DIGIT_TIMEOUT (6) ends an entry without "#" (keys
# cut the prompt short); a caller who keys nothing first hears the whole account prompt
# (callrouter/numero-compte, 9.4 s), then the timeout. SendDTMF: W is a 1 s pause.
WELCOME = 4
ENTRY_TIMEOUT_PAUSE = "W" * 7
SILENT_ENTRY_PAUSE = "W" * 18
CALLS_LAST = 60.0
FIRST_CALLER_ID = 700_000_000


def dtmf(keyed: Keyed) -> str:
    """The caller's entries as one SendDTMF string: an entry that does not end with "#"
    (but the last, the one-key pass) is followed by a pause that times it out."""
    keys = ""
    for entry in keyed.entries[:-1]:
        if not entry:
            keys += SILENT_ENTRY_PAUSE
        else:
            keys += entry if entry.endswith("#") else entry + ENTRY_TIMEOUT_PAUSE
    return keys + keyed.entries[-1]


def caller_id(index: int) -> str:
    return f"0{FIRST_CALLER_ID + index}"


def _frame(**headers: str) -> bytes:
    return "".join(f"{key}: {value}\r\n" for key, value in headers.items()).encode() + b"\r\n"


def _headers(raw: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in raw.decode(errors="replace").split("\r\n"):
        key, _, value = line.partition(": ")
        headers.setdefault(key, value)
    return headers


async def place_every_call(address: str) -> dict[str, dict[str, str]]:
    """HotlineCall headers per caller id, for a call placed for every case."""
    match = re.fullmatch(r"([^:@]+):([^@]*)@([^:]+):(\d+)", address)
    assert match, "CALLROUTER_TEST_ASTERISK must be user:secret@host:port"
    user, secret, host, port = match.groups()
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        await reader.readline()  # banner
        writer.write(_frame(Action="Login", Username=user, Secret=secret, ActionID="login"))
        for index, keyed in enumerate(CASES):
            variables = f"TEST_DTMF={dtmf(keyed)},TEST_WAIT={WELCOME},TEST_STAY=2"
            writer.write(
                _frame(
                    Action="Originate",
                    Channel="Local/0800100200@from-trunk",
                    Context="test-caller",
                    Exten="dtmf",
                    Priority="1",
                    CallerID=f'"{keyed.name}" <{caller_id(index)}>',
                    Variable=variables,
                    Async="true",
                    ActionID=f"call-{index}",
                )
            )
        await writer.drain()
        return await _announced(reader)
    finally:
        writer.close()


async def _announced(reader: asyncio.StreamReader) -> dict[str, dict[str, str]]:
    """HotlineCalls until every call has announced itself, or until every call has hung up
    (the longest call lasts about 35 s): a call that never announces is a failure."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CALLS_LAST
    callers = {caller_id(index) for index in range(len(CASES))}
    announced: dict[str, dict[str, str]] = {}
    while set(announced) != callers:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), deadline - loop.time())
        except TimeoutError:
            break
        headers = _headers(raw)
        if headers.get("Response") in ("Error", "Failure"):
            raise AssertionError(f"Asterisk refused an action: {headers}")
        if headers.get("UserEvent") == "HotlineCall" and headers.get("Caller") in callers:
            announced.setdefault(headers["Caller"], headers)
    return announced


@pytest.fixture(scope="module")
def announced() -> Iterator[dict[str, dict[str, str]]]:
    yield asyncio.run(place_every_call(ADDRESS))


@pytest.mark.parametrize("index", range(len(CASES)), ids=[keyed.name for keyed in CASES])
def test_asterisk_announces_what_the_caller_keyed(
    announced: dict[str, dict[str, str]], index: int
) -> None:
    keyed = CASES[index]
    assert caller_id(index) in announced, f"no HotlineCall for {dtmf(keyed)!r}"
    headers = announced[caller_id(index)]

    expected = (keyed.account, keyed.pin, keyed.pass_digit, "1")
    assert (headers["Account"], headers["Pin"], headers["Pass"], headers["Attempt"]) == expected
