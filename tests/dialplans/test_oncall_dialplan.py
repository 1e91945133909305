"""The on-call part of the dialplan: the escalation chain, the technician's confirmation and
the message of an unanswered emergency (issue 10, item 2)."""

from __future__ import annotations

from callrouter.oncall.escalation import EscalationPolicy, queue_rules

from .dialplan_model import (
    DIALPLANS,
    Caller,
    ConfFile,
    Dialplan,
    Step,
    apps,
    first,
    user_event,
    walk,
)

CALLER = {"UNIQUEID": "1700000000.42", "HOTLINE_CALLER": "0612345678", "HOTLINE_HOLD": "17"}


def queued(steps: list[Step]) -> list[Step]:
    return [step for step in steps if step.app == "Queue"]


def test_an_emergency_is_queued_to_the_primary_alone_with_the_escalation_rule(
    dialplan: Dialplan,
) -> None:
    steps = walk(dialplan, "queue-oncall", "s", CALLER, until="Queue")

    queue = steps[-1].data.split(",")
    assert queue[0] == "oncall"
    # Queue(name,options,URL,announceoverride,timeout,AGI,gosub,rule)
    assert queue[4] == dialplan.globals["ONCALL_PASS_SECS"]
    assert queue[7] == "oncall-escalation"
    # app_queue widens a caller's penalties only when the caller has them
    assert steps[-2].app == "UserEvent"
    assert [s.data for s in steps[-4:-2]] == ["QUEUE_MAX_PENALTY=0", "QUEUE_RAISE_PENALTY=0"]
    # the technicians' legs inherit who is calling and the hold their confirmation posts
    assert first(steps, "Set", "__ONCALL_CALLER").data == "__ONCALL_CALLER=1700000000.42"
    assert first(steps, "Set", "__ONCALL_HOLD").data == "__ONCALL_HOLD=17"


def test_each_pass_of_the_chain_is_announced_with_its_number(dialplan: Dialplan) -> None:
    steps = walk(dialplan, "queue-oncall", "s", CALLER | {"QUEUESTATUS": "TIMEOUT"}, until="Record")

    passes = [user_event(s)[1] for s in steps if s.app == "UserEvent" and "OnCallPass" in s.data]
    assert passes == [
        {"CallerUniqueid": "1700000000.42", "Pass": str(n)}
        for n in range(1, int(dialplan.globals["ONCALL_PASSES"]) + 1)
    ]


def test_the_chain_runs_its_passes_then_offers_a_message_and_asks_for_a_callback(
    dialplan: Dialplan,
) -> None:
    steps = walk(dialplan, "queue-oncall", "s", CALLER | {"QUEUESTATUS": "TIMEOUT"}, until="Record")

    assert len(queued(steps)) == int(dialplan.globals["ONCALL_PASSES"]) == 2
    _, headers, _ = user_event(first(steps, "UserEvent", "OnCallUnanswered"))
    assert headers == {
        "CallerUniqueid": "1700000000.42",
        "Caller": "0612345678",
        "Status": "TIMEOUT",
        "Message": "/var/spool/asterisk/oncall/1700000000.42.gsm",
    }
    assert apps(steps)[-2:] == ["Playback", "Record"]
    assert first(steps, "Playback").data == "callrouter/astreinte-message"


def test_an_empty_rota_offers_the_message_at_once(dialplan: Dialplan, queues: ConfFile) -> None:
    steps = walk(dialplan, "queue-oncall", "s", CALLER | {"QUEUESTATUS": "JOINEMPTY"})

    assert len(queued(steps)) == 1
    assert user_event(first(steps, "UserEvent", "OnCallUnanswered"))[1]["Status"] == "JOINEMPTY"
    # app_queue refuses the caller (JOINEMPTY) only when joinempty names a condition;
    # "penalty" would refuse a rota whose primary is missing although others are on call
    assert queues.section("oncall").values("joinempty") == ["invalid"]


def test_a_caller_withdrawn_from_the_chain_is_told_of_the_callback(dialplan: Dialplan) -> None:
    steps = walk(dialplan, "queue-oncall", "s", CALLER | {"QUEUESTATUS": "WITHDRAW"})

    assert first(steps, "Playback").data == "callrouter/rappel-programme"
    assert not [s for s in steps if s.app == "UserEvent" and "OnCallUnanswered" in s.data]


def test_the_on_call_queue_has_no_static_member_and_rings_everyone_allowed(
    queues: ConfFile,
) -> None:
    assert queues.section("oncall").values("member") == []
    assert queues.section("oncall").values("strategy") == ["ringall"]


def test_a_technician_on_a_mobile_is_dialled_through_the_trunk_with_the_confirmation(
    dialplan: Dialplan,
) -> None:
    steps = walk(dialplan, "oncall-technician", "0600000005", until="Dial")

    assert steps[-1].data == (
        "PJSIP/0600000005@hotline-trunk,,U(oncall-confirm^Local/0600000005@oncall-technician)"
    )


def test_a_technician_who_presses_1_confirms_the_call_for_the_caller_and_the_hold(
    dialplan: Dialplan,
) -> None:
    held = {"ONCALL_CALLER": "1700000000.42", "ONCALL_HOLD": "17", "ARG1": "Local/06@t"}
    steps = walk(dialplan, "oncall-confirm", "s", held, until="Return", caller=Caller(["1"]))

    name, headers, _ = user_event(first(steps, "UserEvent"))
    assert name == "OnCallConfirmed"
    assert headers == {"CallerUniqueid": "1700000000.42", "Hold": "17", "Technician": "Local/06@t"}
    assert not [s for s in steps if s.data.startswith("GOSUB_RESULT")]


def test_a_voicemail_that_presses_nothing_hangs_up_its_leg_and_the_queue_goes_on(
    dialplan: Dialplan,
) -> None:
    held = {"ONCALL_CALLER": "1700000000.42", "ONCALL_HOLD": "17", "ARG1": "Local/06@t"}
    for keys in ([], ["9"]):
        steps = walk(dialplan, "oncall-confirm", "s", held, until="Return", caller=Caller(keys))

        assert user_event(first(steps, "UserEvent"))[0] == "OnCallDeclined"
        assert steps[-2].data == "GOSUB_RESULT=ABORT"


def test_a_missing_prompt_still_lets_the_technician_confirm(dialplan: Dialplan) -> None:
    held = {"ONCALL_CALLER": "1", "ONCALL_HOLD": "", "ARG1": "Local/06@t"}
    steps = walk(
        dialplan,
        "oncall-confirm",
        "s",
        held,
        until="Return",
        caller=Caller(["1"]),
        sounds=frozenset(),
    )

    assert user_event(first(steps, "UserEvent"))[0] == "OnCallConfirmed"


def test_the_shipped_queue_rules_are_the_default_escalation() -> None:
    shipped = (DIALPLANS / "queuerules.conf").read_text(encoding="utf-8")

    assert shipped == queue_rules(EscalationPolicy())


def test_the_dialplan_runs_the_default_passes(dialplan: Dialplan) -> None:
    policy = EscalationPolicy()

    assert dialplan.globals["ONCALL_PASS_SECS"] == str(policy.pass_seconds)
    assert dialplan.globals["ONCALL_PASSES"] == str(policy.passes)
