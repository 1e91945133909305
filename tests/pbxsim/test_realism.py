"""The simulator is no kinder than the real PBX (issue 7, items 5, 9, 10 and 15): production
entry and DTMF, events Asterisk sends, its context names, its varying orders."""

from __future__ import annotations

from pathlib import Path

import pytest

from callrouter.pbxsim.model import OriginateRequest
from callrouter.pbxsim.settings import DEFAULT_PROMPTS

from .harness import ANNE, EPOCH, Harness

KIT_CALL = OriginateRequest(
    "Local/0800100200@from-trunk",
    context="test-caller",
    exten="dtmf",
    caller_id='"Test" <0700000001>',
    variables=(("TEST_DTMF", "12345678#1234#1"), ("TEST_WAIT", "4")),
    action_id="kit-1",
)
TWO_ONCALL = {"oncall": [("Local/agent5@agents", "Emma"), ("Local/agent6@agents", "Fred")]}


def connected(sim: Harness, queue: str = "coordinators") -> tuple[str, str]:
    """Anne announced, routed and answered; returns her `;2` and `;1` channels."""
    leg = sim.announced(ANNE)
    sim.route(leg, queue)
    sim.until("AgentConnect", Channel=leg)
    return leg, leg.removesuffix(";2") + ";1"


def test_the_production_entry_from_trunk_reads_the_kit_callers_dtmf() -> None:
    sim = Harness()
    sim.model.originate(KIT_CALL)
    [answer] = sim.named("OriginateResponse", ActionID="kit-1")
    assert (answer["Response"], answer["Reason"]) == ("Success", "4")
    announce = sim.until("UserEvent", UserEvent="HotlineCall")
    assert [announce[k] for k in ("Caller", "HotlineDID", "Account", "Pin", "Pass")] == [
        "0700000001",
        "0800100200",
        "12345678",
        "1234",
        "1",
    ]
    assert announce["Channel"] == "Local/0800100200@from-trunk-00000000;2"
    # Wait(4), then 15 keys of 100 ms tone + 250 ms: the HotlineCall comes 9 s after the
    # answer, not in a second.
    assert 8.9 <= sim.clock.now() - EPOCH <= 9.1


def test_keys_pressed_during_the_welcome_are_lost_as_on_the_pbx() -> None:
    """The Asterisk kit's test caller keys after 2 s, while `bienvenue` (2.96 s) plays."""
    sim = Harness()
    sim.model.originate(
        OriginateRequest(
            "Local/0800100200@from-trunk",
            context="test-caller",
            exten="dtmf",
            caller_id="<0700000001>",
            variables=(("TEST_DTMF", "12345678#1234#1"),),
        )
    )
    announce = sim.until("UserEvent", UserEvent="HotlineCall")
    assert (announce["Account"], announce["Pin"], announce["Pass"]) == ("45678", "1234", "1")


def test_every_key_is_a_dtmf_begin_and_end_on_both_halves() -> None:
    sim = Harness()
    sim.model.originate(KIT_CALL)
    sim.until("UserEvent", UserEvent="HotlineCall")
    received = [e["Digit"] for e in sim.named("DTMFEnd", Direction="Received")]
    sent = [e["Digit"] for e in sim.named("DTMFBegin", Direction="Sent")]
    assert "".join(received) == "".join(sent) == "12345678#1234#1"
    assert {e["Channel"] for e in sim.named("DTMFEnd", Direction="Received")} == {
        "Local/0800100200@from-trunk-00000000;2"
    }


def test_the_trunk_s_extension_is_the_hotline_number() -> None:
    sim = Harness()
    sim.model.originate(
        OriginateRequest("Local/s@from-trunk", application="Wait", data="60", caller_id="<06>")
    )
    assert sim.until("UserEvent", UserEvent="HotlineCall")["HotlineDID"] == "0800100200"


def test_contexts_are_the_real_dialplans() -> None:
    sim = Harness()
    leg, _ = connected(sim)
    assert sim.named("UserEvent", UserEvent="HotlineCall")[0]["Context"] == "hotline-hold"
    assert sim.named("UserEvent", UserEvent="HotlineQueued")[0]["Context"] == "hotline-queue"
    assert sim.named("QueueCallerJoin", Channel=leg)[0]["Context"] == "hotline-queue"


def test_an_answered_call_carries_the_events_asterisk_sends() -> None:
    sim = Harness()
    leg, handset = connected(sim)
    assert sim.model.hangup(handset) is None
    names = {e.name for e in sim.events}
    assert {
        "MusicOnHoldStart",
        "MusicOnHoldStop",
        "DialState",
        "NewConnectedLine",
        "NewCallerid",
        "HangupRequest",
        "SoftHangupRequest",
    } <= names
    # 02: the caller's `;2` is asked to hang up first, then the handset goes.
    first = next(e for e in sim.events if e.name in ("HangupRequest", "Hangup"))
    assert (first.name, first["Channel"]) == ("HangupRequest", leg)


def order_of_completion(seed: int) -> tuple[bool, bool, str | None]:
    """(AgentComplete before the member's idle status?, with the caller's headers?,
    CallsTaken in that status)."""
    sim = Harness(seed=seed)
    _, handset = connected(sim)
    sim.model.hangup(handset)
    [complete] = sim.named("AgentComplete")
    [idle] = sim.named("QueueMemberStatus", Status="1", MemberName="Alice Martin")
    return (
        sim.events.index(complete) < sim.events.index(idle),
        "Channel" in complete,
        idle["CallsTaken"],
    )


def test_agent_complete_and_the_member_status_come_in_either_order() -> None:
    seen = {order_of_completion(seed) for seed in range(40)}
    assert (True, True, "1") in seen  # as in ami-traces 02, 03, 06
    assert (False, True, "1") in seen  # the status already has the new total (item 9)
    assert (False, False, "0") in seen  # handled late: the caller's channel is gone


def test_the_same_seed_gives_the_same_order() -> None:
    assert [order_of_completion(5) for _ in range(3)] == [order_of_completion(5)] * 3


def test_a_redirect_out_of_a_queue_bridge_frees_the_member_and_completes_later() -> None:
    sim = Harness()
    leg, handset = connected(sim, "coordinators")
    before = len(sim.events)
    assert sim.model.redirect(leg, "queue-experts") is None
    after_redirect = sim.events[before:]
    idle = [e for e in after_redirect if e.name == "QueueMemberStatus" and e["Status"] == "1"]
    assert [e["MemberName"] for e in idle] == ["Alice Martin"]
    assert idle[0]["CallsTaken"] == "0"
    assert not [e for e in after_redirect if e.name == "AgentComplete"]
    alice = sim.model.snapshot()["queues"]["coordinators"]["members"][0]
    assert (alice["status"], alice["in_call"], alice["calls_taken"]) == (1, True, 0)

    sim.clock.advance(30.0)
    assert sim.model.hangup(handset) is None
    [complete] = sim.named("AgentComplete", Queue="coordinators")
    assert (complete["Channel"], complete["Reason"], complete["MemberName"]) == (
        leg,
        "caller",
        "Alice Martin",
    )
    assert not [k for k, _ in complete.items() if k.startswith("Dest")]
    alice = sim.model.snapshot()["queues"]["coordinators"]["members"][0]
    assert (alice["in_call"], alice["calls_taken"]) == (False, 1)


@pytest.mark.parametrize(
    ("strategy", "rung"), [("ringall", ["Emma", "Fred"]), ("rrmemory", ["Emma"])]
)
def test_each_queue_rings_by_its_own_strategy(strategy: str, rung: list[str]) -> None:
    sim = Harness(queues=TWO_ONCALL, strategies={"oncall": strategy})
    leg = sim.announced(ANNE)
    sim.route(leg, "oncall")
    assert [e["MemberName"] for e in sim.named("AgentCalled")] == rung
    assert sim.model.snapshot()["queues"]["oncall"]["strategy"] == strategy


def test_the_shipped_prompts_play_as_long_as_their_files() -> None:
    """GSM: 33 bytes per 20 ms."""
    sounds = Path(__file__).resolve().parents[2] / "dialplans" / "sounds" / "fr"
    for sound, seconds in DEFAULT_PROMPTS.items():
        size = (sounds / f"{sound}.gsm").stat().st_size
        assert seconds == pytest.approx(size / 33 * 0.02, abs=0.01), sound


def test_a_traffic_caller_takes_seconds_to_key_account_pin_and_pass() -> None:
    sim = Harness()
    sim.announced(ANNE)  # keys "100200#1111#1" from 4 s on, past the welcome
    assert sim.clock.now() - EPOCH >= 4.0 + 12 * 0.35
    assert len(sim.named("DTMFEnd", Direction="Received")) == 13


def test_a_caller_nobody_answers_leaves_the_queue_after_its_timeout() -> None:
    """HOTLINE_QUEUE_TIMEOUT: Queue() gives up, `aucun-agent` plays, the call ends."""
    sim = Harness(queue_timeout=600.0, message_time=4.0)
    for interface in ("Local/agent1@agents", "Local/agent2@agents"):
        sim.model.queue_pause(interface, True)
    sim.model.originate(
        OriginateRequest("Local/0800100200@from-trunk", application="Wait", data="3600")
    )
    leg = sim.until("UserEvent", UserEvent="HotlineCall")["Channel"]
    assert leg is not None
    sim.route(leg, "coordinators")
    sim.clock.advance(599.0)
    assert not sim.named("QueueCallerLeave")
    sim.clock.advance(2.0)
    [leave] = sim.named("QueueCallerLeave", Channel=leg)
    assert not sim.named("QueueCallerAbandon")
    assert sim.named("Newexten", Channel=leg, AppData="callrouter/aucun-agent")
    sim.clock.advance(5.0)
    assert sim.named("Hangup", Channel=leg)
    assert leave["Queue"] == "coordinators"
