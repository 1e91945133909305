"""The Asterisk configuration in dialplans/ keeps the contract callrouter relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from callrouter.config import AMIConfig

from .dialplan_model import (
    DIALPLANS,
    ROOT,
    Caller,
    ConfFile,
    Dialplan,
    Step,
    app_queue_settings,
    apps,
    first,
    parse_conf,
    user_event,
    walk,
)

LINT_SCRIPT = ROOT / ".ci" / "lint-dialplans"

HOTLINE_CALL_HEADERS = [
    "Caller",
    "CallerName",
    "HotlineDID",
    "Arrival",
    "Account",
    "Pin",
    "Pass",
    "Attempt",
]
ROUTER_TARGETS = [
    "queue-coordinators",
    "queue-experts",
    "queue-oncall",
    "hotline-message",
    "hotline-pin-retry",
]

# ----------------------------------------------------------------------------- routing contract


@pytest.mark.parametrize("context", ROUTER_TARGETS)
def test_every_redirect_target_of_the_router_has_s_priority_1(
    dialplan: Dialplan, context: str
) -> None:
    assert context in dialplan.contexts, f"[{context}] is missing"
    assert "s" in dialplan.contexts[context], f"[{context}] has no extension s"
    assert dialplan.contexts[context]["s"][0].number == 1


def test_an_inbound_call_is_announced_held_then_queued_to_coordinators_by_the_failsafe(
    dialplan: Dialplan,
) -> None:
    steps = walk(dialplan, "from-trunk", "0800123456", until="Queue")

    announce = next(s for s in steps if s.app == "UserEvent" and s.data.startswith("HotlineCall"))
    _, headers, order = user_event(announce)
    assert order == HOTLINE_CALL_HEADERS
    assert headers["HotlineDID"] == "0800123456"
    assert headers["Attempt"] == "1"

    assert first(steps, "StartMusicOnHold").data == "default"
    assert dialplan.globals["HOTLINE_ROUTER_WAIT"] == "5"
    failsafe = first(steps, "UserEvent", "HotlineFailsafe")
    assert failsafe.at == announce.at + 5  # on hold: the router has 5 s to redirect
    _, failsafe_headers, _ = user_event(failsafe)
    assert set(failsafe_headers) == {"Caller", "Waited"}
    assert steps[-1].context == "hotline-queue"
    assert steps[-1].data.split(",")[0] == "coordinators"


def test_the_ivr_answers_then_reads_account_pin_and_pass_before_announcing(
    dialplan: Dialplan,
) -> None:
    keys = Caller(["12345678#", "1234#", "1"])
    steps = walk(dialplan, "from-trunk", "0800123456", until="UserEvent", caller=keys)

    sequence = apps(steps)
    assert sequence.index("Answer") < sequence.index("Read")
    reads = [step.data.split(",") for step in steps if step.app == "Read"]
    # no digit limit on the account and the PIN ("#" or silence ends them), one key for the pass
    assert [(r[1], r[2]) for r in reads] == [
        ("callrouter/numero-compte", ""),
        ("callrouter/code-pin", ""),
        ("callrouter/choix-pass", "1"),
    ]
    # Read ends an entry on "#" unless an option says otherwise: no option is given
    assert all(r[3] == "" for r in reads)


def test_announced_values_are_cleaned_so_that_each_header_stays_one_header(
    dialplan: Dialplan,
) -> None:
    caller_id = {"CALLERID(num)": "+33 6 12 34 56 78", "CALLERID(name)": 'Dupont, "Jean" \\ SARL'}
    keys = Caller(["12*34#", "0042#", "*"])
    steps = walk(dialplan, "from-trunk", "+33800123456", caller_id, until="UserEvent", caller=keys)

    _, headers, order = user_event(steps[-1])
    assert order == HOTLINE_CALL_HEADERS
    assert headers["Caller"] == "+33612345678"
    assert headers["CallerName"] == "Dupont Jean  SARL"
    assert headers["HotlineDID"] == "+33800123456"
    assert (headers["Account"], headers["Pin"], headers["Pass"]) == ("1234", "0042", "")


def test_a_trunk_without_dialled_number_reports_the_hotline_number(dialplan: Dialplan) -> None:
    steps = walk(dialplan, "from-trunk", "s", until="UserEvent")

    _, headers, _ = user_event(steps[-1])
    assert headers["HotlineDID"] == dialplan.globals["HOTLINE_NUMBER"]


@pytest.mark.parametrize("queue", ["coordinators", "experts", "oncall"])
def test_queue_contexts_queue_into_their_queue_with_priority_0_by_default(
    dialplan: Dialplan, queues: ConfFile, queue: str
) -> None:
    steps = walk(dialplan, f"queue-{queue}", "s", until="Queue")

    assert steps[-1].data.split(",")[0] == queue
    assert [s for s in steps if s.app == "Set" and s.data == "QUEUE_PRIO=0"]
    assert not queues.section(queue).is_template


def test_a_priority_set_by_the_router_is_kept_and_announced(dialplan: Dialplan) -> None:
    steps = walk(dialplan, "queue-experts", "s", {"QUEUE_PRIO": "10"}, until="Queue")

    assert not any(s.app == "Set" and s.data.startswith("QUEUE_PRIO") for s in steps)
    # The live view learns the priority from this event (the AMI user reads no VarSet).
    announce = next(s for s in steps if s.app == "UserEvent")
    name, headers, _ = user_event(announce)
    assert (name, headers) == ("HotlineQueued", {"Queue": "experts", "QueuePriority": "10"})
    assert steps.index(announce) < len(steps) - 1


def test_the_route_chosen_by_the_router_goes_to_the_cdr(dialplan: Dialplan) -> None:
    queued = walk(dialplan, "queue-oncall", "s", {"HOTLINE_ROUTE": "oncall"}, until="Queue")
    told = walk(dialplan, "hotline-message", "s", {"HOTLINE_ROUTE": "closed"})

    assert Step("oncall-queue", "s", "Set", "CDR(userfield)=oncall") in queued
    assert Step("hotline-message", "s", "Set", "CDR(userfield)=closed") in told


def test_a_caller_withdrawn_for_a_callback_is_told_and_one_left_unanswered_too(
    dialplan: Dialplan,
) -> None:
    withdrawn = walk(dialplan, "queue-experts", "s", {"QUEUESTATUS": "WITHDRAW"})
    timed_out = walk(dialplan, "queue-experts", "s", {"QUEUESTATUS": "TIMEOUT"})

    assert first(withdrawn, "Playback").data == "callrouter/rappel-programme"
    assert first(timed_out, "Playback").data == "callrouter/aucun-agent"


def test_a_message_with_a_reopening_time_says_it_in_paris_time(dialplan: Dialplan) -> None:
    steps = walk(
        dialplan,
        "hotline-message",
        "s",
        {"HOTLINE_MESSAGE": "callrouter/closed-hours", "HOTLINE_OPENS_AT": "1795852800"},
    )

    plays = [s.data for s in steps if s.app == "Playback"]
    assert plays == ["callrouter/closed-hours", "callrouter/reouverture"]
    moment, zone = first(steps, "SayUnixTime").data.split(",")[:2]
    assert (moment, zone) == ("1795852800", "Europe/Paris")
    assert steps[-1].app == "Hangup"


def test_a_message_without_reopening_time_only_plays_and_hangs_up(dialplan: Dialplan) -> None:
    steps = walk(
        dialplan,
        "hotline-message",
        "s",
        {"HOTLINE_MESSAGE": "callrouter/insufficient-balance", "HOTLINE_OPENS_AT": ""},
    )

    assert [s.data for s in steps if s.app == "Playback"] == ["callrouter/insufficient-balance"]
    assert "SayUnixTime" not in apps(steps)
    assert steps[-1].app == "Hangup"


@pytest.mark.parametrize("attempt", ["1", "2"])
def test_pin_retry_reads_account_and_pin_again_and_announces_the_next_attempt(
    dialplan: Dialplan, attempt: str
) -> None:
    held = {"HOTLINE_ATTEMPT": attempt, "HOTLINE_PASS": "2", "HOTLINE_ARRIVAL": "1795433000"}
    keys = Caller(["12345678#", "1234#"])
    steps = walk(dialplan, "hotline-pin-retry", "s", held, until="Queue", caller=keys)

    prompts = [s.data.split(",")[1] for s in steps if s.app == "Read"]
    assert prompts == ["callrouter/numero-compte", "callrouter/code-pin"]
    announce = first(steps, "UserEvent", "HotlineCall")
    _, headers, order = user_event(announce)
    assert order == HOTLINE_CALL_HEADERS
    assert headers["Attempt"] == str(int(attempt) + 1)
    assert (headers["Pass"], headers["Arrival"]) == ("2", "1795433000")
    assert first(steps, "UserEvent", "HotlineFailsafe").at == announce.at + 5
    assert steps[-1].data.split(",")[0] == "coordinators"


def test_pin_retry_after_the_third_attempt_refuses(dialplan: Dialplan) -> None:
    assert dialplan.globals["HOTLINE_MAX_ATTEMPTS"] == "3"

    steps = walk(dialplan, "hotline-pin-retry", "s", {"HOTLINE_ATTEMPT": "3"})

    assert "UserEvent" not in apps(steps)
    assert "Read" not in apps(steps)
    assert [s.data for s in steps if s.app == "Playback"] == ["callrouter/refused"]
    assert steps[-1].app == "Hangup"


# ----------------------------------------------------------------------------- agents, queues


def test_every_queue_member_is_a_mapped_local_agent(dialplan: Dialplan, queues: ConfFile) -> None:
    members = [
        value.split(",")
        for section in queues.sections
        if not section.is_template
        for value in section.values("member")
    ]
    assert members, "queues.conf lists no member"
    for interface, _penalty, member_name, *_ in members:
        match = re.fullmatch(r"Local/(agent\d+)@agents", interface)
        assert match, f"member {interface} is not Local/agentN@agents"
        assert member_name.strip(), f"member {interface} has no name"
        steps = walk(dialplan, "agents", match.group(1), until="Dial")
        assert steps[-1].app == "Dial", f"{match.group(1)} is not mapped in [globals]"
        assert steps[-1].data.startswith("PJSIP/")


def test_an_unmapped_agent_is_congested_not_dialled(dialplan: Dialplan) -> None:
    steps = walk(dialplan, "agents", "agent99")

    assert "Dial" not in apps(steps)
    assert steps[-1].app == "Congestion"


def test_a_callback_dials_the_customer_through_the_trunk(dialplan: Dialplan) -> None:
    steps = walk(dialplan, "callback", "0612345678", until="Dial")

    assert steps[-1].data.split(",")[0] == "PJSIP/0612345678@hotline-trunk"
    assert Step("callback", "0612345678", "Set", "CALLERID(num)=0800100200") in steps


@pytest.mark.parametrize(
    ("queue", "strategy"),
    [("coordinators", "rrmemory"), ("experts", "rrmemory"), ("oncall", "ringall")],
)
def test_queues_match_the_lab_the_router_was_tested_against(
    queues: ConfFile, queue: str, strategy: str
) -> None:
    settings = app_queue_settings(queues, queue)

    # On-call technicians are rung all at once, as the file says and app_queue does.
    assert settings["strategy"] == strategy
    assert settings["ringinuse"] == "no"
    assert settings["timeout"] == "15"
    assert settings["retry"] == "2"
    assert settings["announce-frequency"] == "0"
    assert settings["periodic-announce-frequency"] == "0"
    assert settings["announce-position"] == "no"


# ----------------------------------------------------------------------------- AMI user


def test_the_ami_user_has_least_privilege(manager: ConfFile) -> None:
    user = manager.section("callrouter")
    read = {c.strip() for c in user.values("read")[0].split(",")}
    write = {c.strip() for c in user.values("write")[0].split(",")}

    assert "all" not in read and "all" not in write
    assert {"call", "agent", "user"} <= read
    assert "dialplan" not in read  # VarSet would carry every caller's PIN
    assert {"call", "originate", "agent"} <= write
    assert not write & {"system", "command", "config", "dialplan"}


def test_the_ami_listens_on_loopback_for_loopback_only(manager: ConfFile) -> None:
    general = manager.section("general")
    user = manager.section("callrouter")

    assert general.values("bindaddr") == ["127.0.0.1"]
    assert general.values("webenabled") == ["no"]
    acl = [(k, v) for k, v, _ in user.entries if k in ("deny", "permit")]
    assert acl == [("deny", "0.0.0.0/0.0.0.0"), ("permit", "127.0.0.1/255.255.255.255")]
    assert user.values("writetimeout")


def test_no_ami_secret_is_committed_and_the_local_one_is_read_last(manager: ConfFile) -> None:
    assert not any(key == "secret" for s in manager.sections for key, _, _ in s.entries)
    last_setting = max(line for s in manager.sections for _, _, line in s.entries)
    includes = [line for text, line in manager.directives if text.startswith("#tryinclude")]
    assert includes and min(includes) > last_setting


# ----------------------------------------------------------------------------- docs and lint


def test_every_prompt_of_the_dialplan_is_documented(dialplan: Dialplan) -> None:
    readme = (DIALPLANS / "README.md").read_text(encoding="utf-8")
    text = (DIALPLANS / "extensions.conf").read_text(encoding="utf-8")
    sounds = set(re.findall(r"callrouter/[a-z-]+", text))
    sounds |= {"callrouter/closed-hours", "callrouter/insufficient-balance"}

    undocumented = sorted(s for s in sounds if f"`{s}`" not in readme)
    assert not undocumented, f"prompts missing from dialplans/README.md: {undocumented}"


def _asterisklint_available() -> bool:
    return (ROOT / ".venv" / "bin" / "asterisklint").exists() or bool(shutil.which("asterisklint"))


needs_asterisklint = pytest.mark.skipif(
    not _asterisklint_available(), reason="asterisklint is not installed (make install)"
)


@needs_asterisklint
def test_the_lint_script_passes_on_the_dialplan() -> None:
    result = subprocess.run(
        ["bash", str(LINT_SCRIPT)], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


@needs_asterisklint
def test_the_lint_script_fails_on_a_broken_dialplan(tmp_path: Path) -> None:
    broken = tmp_path / "extensions.conf"
    text = (DIALPLANS / "extensions.conf").read_text(encoding="utf-8")
    broken.write_text(text.replace("Goto(hotline-queue,s,1)", "Goto(hotline-queues,s,1)"))

    result = subprocess.run(
        ["bash", str(LINT_SCRIPT), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "hotline-queues" in result.stderr


# ----------------------------------------------------------------------------- containers


def test_in_containers_the_ami_lets_in_the_callrouter_container_only() -> None:
    overlay = parse_conf(ROOT / "docker" / "asterisk" / "manager.d" / "container-network.conf")
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")

    assert all(section.options == ["+"] for section in overlay.sections)
    permits = overlay.section("callrouter").values("permit")
    assert len(permits) == 1 and permits[0].endswith("/255.255.255.255")
    address = permits[0].split("/")[0]
    assert re.search(rf"ipv4_address: {re.escape(address)}\n", compose)
    assert "5038" not in compose  # the AMI port is never published on the host


def test_the_compose_asterisk_runs_the_files_of_this_folder() -> None:
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")

    for name in ("extensions.conf", "queues.conf", "manager.conf"):
        assert f"./dialplans/{name}:/etc/asterisk/{name}:ro" in compose


def test_the_readme_shows_how_to_check_members_and_how_long_recovery_takes(
    queues: ConfFile,
) -> None:
    readme = (DIALPLANS / "README.md").read_text(encoding="utf-8")

    # The sample `queue show` lines are what the shipped queues.conf gives on a PBX without
    # the example PJSIP endpoints (Asterisk 22.10.1): an unknown state interface is
    # (Invalid), no state interface is (Not in use).
    shown = re.findall(
        r"^\s+(\w[\w ]*) \((Local/agent\d+@agents)(?: from ([^)]+))?\)", readme, re.M
    )
    assert shown
    members = {
        fields[0]: [f.strip() for f in fields]
        for section in queues.sections
        if not section.is_template
        for fields in (value.split(",") for value in section.values("member"))
    }
    for name, interface, state_interface in shown:
        assert members[interface][2] == name
        assert (members[interface][3:] or [""])[0] == state_interface
    assert "(Invalid)" in readme and "never ring" in readme
    default = re.search(
        r"reconnect_max_delay`\s+in\s+callrouter's\s+configuration\s+\((\d+) s", readme
    )
    assert default and float(default.group(1)) == AMIConfig().reconnect_max_delay
