"""The Asterisk configuration in dialplans/ keeps the contract callrouter relies on.

The .conf files are read with a small parser, and the dialplan is walked step by step by a
small interpreter (Goto, Gosub, GotoIf, ExecIf, Set with plain variables and simple
$[...] expressions): enough to follow the paths a call takes, not an Asterisk.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIALPLANS = ROOT / "dialplans"
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


# ----------------------------------------------------------------------------- .conf files


@dataclass
class Section:
    name: str
    options: list[str]
    entries: list[tuple[str, str, int]] = field(default_factory=list)  # key, value, line

    @property
    def is_template(self) -> bool:
        return "!" in self.options

    def values(self, key: str) -> list[str]:
        return [value for name, value, _ in self.entries if name == key]


@dataclass
class ConfFile:
    sections: list[Section]
    directives: list[tuple[str, int]]  # "#include ..." lines and their line numbers

    def section(self, name: str) -> Section:
        found = [s for s in self.sections if s.name == name]
        assert len(found) == 1, f"expected exactly one [{name}], found {len(found)}"
        return found[0]

    def resolved(self, name: str) -> dict[str, list[str]]:
        """Keys of a section with its templates applied (own keys override)."""
        section = self.section(name)
        merged: dict[str, list[str]] = {}
        for template in (o for o in section.options if o not in ("!", "+")):
            merged.update(self.resolved(template))
        own: dict[str, list[str]] = {}
        for key, value, _ in section.entries:
            own.setdefault(key, []).append(value)
        merged.update(own)
        return merged


def parse_conf(path: Path) -> ConfFile:
    sections: list[Section] = []
    directives: list[tuple[str, int]] = []
    header = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?$")
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = re.sub(r"(?<!\\);.*$", "", raw).strip()
        if not line:
            continue
        if line.startswith("#"):
            directives.append((line, number))
            continue
        match = header.match(line)
        if match:
            options = [o.strip() for o in (match.group(2) or "").split(",") if o.strip()]
            sections.append(Section(match.group(1), options))
            continue
        key, arrow, value = line.partition("=>") if "=>" in line else line.partition("=")
        assert arrow, f"{path.name}:{number}: not 'key = value': {raw!r}"
        assert sections, f"{path.name}:{number}: setting outside any section"
        sections[-1].entries.append((key.strip(), value.strip(), number))
    return ConfFile(sections, directives)


# ----------------------------------------------------------------------------- dialplan


@dataclass(frozen=True)
class Priority:
    number: int
    label: str | None
    app: str
    data: str


@dataclass
class Dialplan:
    contexts: dict[str, dict[str, list[Priority]]]
    globals: dict[str, str]

    def priorities(self, context: str, exten: str) -> tuple[str, list[Priority]]:
        """The extension that `exten` dials in `context`: exact name first, then patterns."""
        extensions = self.contexts[context]
        if exten in extensions:
            return exten, extensions[exten]
        for name, priorities in extensions.items():
            if name.startswith("_") and _pattern_regex(name).fullmatch(exten):
                return name, priorities
        raise AssertionError(f"no extension matches {exten!r} in [{context}]")


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    classes = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}
    regex = ""
    body = pattern[1:]
    index = 0
    while index < len(body):
        char = body[index]
        if char == "[":
            end = body.index("]", index)
            regex += "[" + re.sub(r"([\\^\]])", r"\\\1", body[index + 1 : end]) + "]"
            index = end + 1
            continue
        regex += classes.get(char.upper(), re.escape(char))
        index += 1
    return re.compile(regex)


def parse_dialplan(path: Path) -> Dialplan:
    conf = parse_conf(path)
    contexts: dict[str, dict[str, list[Priority]]] = {}
    globals_: dict[str, str] = {}
    for section in conf.sections:
        if section.name == "general":
            continue
        if section.name == "globals":
            globals_.update({key: value for key, value, _ in section.entries})
            continue
        extensions = contexts.setdefault(section.name, {})
        current: list[Priority] | None = None
        for key, value, number in section.entries:
            if key == "exten":
                name, rest = value.split(",", 1)
                current = extensions.setdefault(name.strip(), [])
            else:
                assert key == "same", f"line {number}: unexpected {key!r} in [{section.name}]"
                assert current is not None, f"line {number}: 'same' before any 'exten'"
                rest = value
            spec, application = rest.split(",", 1)
            match = re.fullmatch(r"(\d+|n)(?:\(([\w-]+)\))?", spec.strip())
            assert match, f"line {number}: bad priority {spec!r}"
            if match.group(1) == "n":
                assert current, f"line {number}: priority n without a previous priority"
                priority = current[-1].number + 1
            else:
                priority = int(match.group(1))
            app, _, data = application.partition("(")
            assert data.endswith(")"), f"line {number}: unbalanced application {application!r}"
            current.append(Priority(priority, match.group(2), app.strip(), data[:-1]))
    return Dialplan(contexts, globals_)


@dataclass(frozen=True)
class Step:
    context: str
    exten: str
    app: str
    data: str  # after substitution of the variables the walk knows


_PLAIN_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_SIMPLE_EXPRESSION = re.compile(r"\$\[([^$\[\]]*)\]")
_IF = re.compile(r"\$\{IF\(([01])\?([^?:${}]*):([^?:${}]*)\)\}")
_FUNCTION = re.compile(r"\$\{([A-Z_]+)\(([^${}]*)\)\}")


def _filter(allowed: str, value: str) -> str:
    """FILTER(allowed-chars,string): ranges and \\xHH escapes, as func_strings reads them."""
    chars = [
        chr(int(escape, 16)) if escape else plain
        for escape, plain in re.findall(r"\\x([0-9a-fA-F]{2})|(.)", allowed)
    ]
    permitted: set[str] = set()
    index = 0
    while index < len(chars):
        if index + 2 < len(chars) and chars[index + 1] == "-":
            permitted |= {chr(c) for c in range(ord(chars[index]), ord(chars[index + 2]) + 1)}
            index += 3
        else:
            permitted.add(chars[index])
            index += 1
    return "".join(c for c in value if c in permitted)


def _function(match: re.Match[str], variables: dict[str, str]) -> str:
    name, arguments = match.groups()
    if name == "IF":  # its condition is beyond this walker: left as written
        return match.group(0)
    if name == "FILTER":
        allowed, _, value = arguments.partition(",")
        return _filter(allowed, value)
    # functions the walk cannot run read what the test or a Set gave them, e.g. CALLERID(num)
    return variables.get(f"{name}({arguments})", "")


def _expression(text: str) -> str:
    text = text.strip()
    match = re.fullmatch(r'"([^"]*)"\s*(=|!=)\s*"([^"]*)"', text)
    if match:
        left, op, right = match.groups()
        return str(int((left == right) == (op == "=")))
    match = re.fullmatch(r"(-?\d+)\s*(\+|-|>|<|>=|<=|=)\s*(-?\d+)", text)
    if match:
        a, op, b = int(match.group(1)), match.group(2), int(match.group(3))
        results = {"+": a + b, "-": a - b, ">": a > b, "<": a < b, ">=": a >= b}
        results.update({"<=": a <= b, "=": a == b})
        return str(int(results[op]))
    return f"$[{text}]"  # beyond this walker: left as written


def substitute(text: str, variables: dict[str, str]) -> str:
    """Expands ${VAR} (unset is empty, as in Asterisk), simple $[...], ${IF(0|1?a:b)},
    ${FILTER(...)} and other functions whose value the walk was given."""
    while True:
        expanded = _PLAIN_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), text)
        expanded = _SIMPLE_EXPRESSION.sub(lambda m: _expression(m.group(1)), expanded)
        expanded = _IF.sub(lambda m: m.group(2) if m.group(1) == "1" else m.group(3), expanded)
        expanded = _FUNCTION.sub(lambda m: _function(m, variables), expanded)
        if expanded == text:
            return text
        text = expanded


def _condition(text: str, where: str) -> bool:
    assert text in ("0", "1", ""), f"{where}: condition {text!r} is beyond this walker"
    return text == "1"


def walk(
    dialplan: Dialplan,
    context: str,
    exten: str,
    variables: dict[str, str] | None = None,
    *,
    until: str = "Hangup",
) -> list[Step]:
    """Runs a channel from context,exten,1 to the first `until` application (included).

    `variables` are channel variables and function values (e.g. "CALLERID(num)"). Read
    leaves its variable as given there: what the caller keyed in.
    """
    known = dict(dialplan.globals) | (variables or {})
    stack: list[tuple[str, str, int]] = []
    steps: list[Step] = []
    name, priorities = dialplan.priorities(context, exten)
    index = 0
    while True:
        assert len(steps) < 200, "the walk does not end"
        assert index < len(priorities), f"[{context}] {name} falls off its last priority"
        priority = priorities[index]
        index += 1
        known["EXTEN"] = exten
        data = substitute(priority.data, known)
        app = priority.app
        where = f"[{context}] {name},{priority.number}"
        if app == "ExecIf":
            condition, _, inner = data.partition("?")
            if not _condition(condition, where):
                continue
            app, _, data = inner.partition("(")
            data = data[:-1]
        steps.append(Step(context, exten, app, data))
        if app == until or app in ("Hangup", "Congestion"):
            return steps
        jump: str | None = None
        if app == "Set":
            key, _, value = data.partition("=")
            known[key] = value
        elif app == "GotoIf":
            condition, _, targets = data.partition("?")
            branches = targets.split(":")
            chosen = branches[0] if _condition(condition, where) else (branches[1:] or [""])[0]
            jump = chosen or None
        elif app in ("Goto", "Gosub"):
            jump = data
            if app == "Gosub":
                stack.append((context, exten, index))
        elif app == "Return":
            context, exten, index = stack.pop()
            name, priorities = dialplan.priorities(context, exten)
        if jump is None:
            continue
        parts = jump.split(",")
        if len(parts) == 1:  # a label of this extension
            labelled = [i for i, p in enumerate(priorities) if p.label == parts[0]]
            assert labelled, f"{where}: no label {parts[0]!r}"
            index = labelled[0]
            continue
        context, exten, first = parts
        assert first == "1", f"{where}: jumps to priority {first}, expected 1"
        name, priorities = dialplan.priorities(context, exten)
        index = 0


def user_event(step: Step) -> tuple[str, dict[str, str], list[str]]:
    """Name, headers and header order of a UserEvent step."""
    name, *pairs = step.data.split(",")
    headers: dict[str, str] = {}
    for pair in pairs:
        key, colon, value = pair.partition(":")
        assert colon, f"UserEvent({name}) argument {pair!r} is not 'Key: value'"
        headers[key.strip()] = value.strip()
    return name, headers, [p.partition(":")[0].strip() for p in pairs]


def apps(steps: list[Step]) -> list[str]:
    return [step.app for step in steps]


def first(steps: list[Step], app: str, starting: str = "") -> Step:
    for step in steps:
        if step.app == app and step.data.startswith(starting):
            return step
    raise AssertionError(f"no {app}({starting}...) in {apps(steps)}")


@pytest.fixture(scope="module")
def dialplan() -> Dialplan:
    return parse_dialplan(DIALPLANS / "extensions.conf")


@pytest.fixture(scope="module")
def queues() -> ConfFile:
    return parse_conf(DIALPLANS / "queues.conf")


@pytest.fixture(scope="module")
def manager() -> ConfFile:
    return parse_conf(DIALPLANS / "manager.conf")


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

    at = steps.index(announce)
    hold, failsafe, *_ = steps[at + 1 :]
    assert (hold.app, hold.data) == ("MusicOnHold", "default,5")
    assert dialplan.globals["HOTLINE_ROUTER_WAIT"] == "5"
    name, failsafe_headers, _ = user_event(failsafe)
    assert name == "HotlineFailsafe"
    assert set(failsafe_headers) == {"Caller", "Waited"}
    assert steps[-1].context == "hotline-queue"
    assert steps[-1].data.split(",")[0] == "coordinators"


def test_the_ivr_answers_then_reads_account_pin_and_pass_before_announcing(
    dialplan: Dialplan,
) -> None:
    steps = walk(dialplan, "from-trunk", "0800123456", until="UserEvent")

    sequence = apps(steps)
    assert sequence.index("Answer") < sequence.index("Read")
    reads = [step.data.split(",") for step in steps if step.app == "Read"]
    assert [(r[1], r[2]) for r in reads] == [
        ("callrouter/numero-compte", dialplan.globals["HOTLINE_ACCOUNT_MAX_DIGITS"]),
        ("callrouter/code-pin", "6"),
        ("callrouter/choix-pass", "1"),
    ]
    # Read ends an entry on "#" unless an option says otherwise: no option is given
    assert all(r[3] == "" for r in reads)


def test_announced_values_are_cleaned_so_that_each_header_stays_one_header(
    dialplan: Dialplan,
) -> None:
    caller = {
        "CALLERID(num)": "+33 6 12 34 56 78",
        "CALLERID(name)": 'Dupont, "Jean" \\ SARL',
        "HOTLINE_ACCOUNT_DIGITS": "12*34",
        "HOTLINE_PIN_DIGITS": "0042#",
        "HOTLINE_PASS_DIGIT": "*",
    }
    steps = walk(dialplan, "from-trunk", "+33800123456", caller, until="UserEvent")

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
    assert Step("hotline-queue", "s", "Set", "QUEUE_PRIO=0") in steps
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

    assert Step("hotline-queue", "s", "Set", "CDR(userfield)=oncall") in queued
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

    assert [(s.app, s.data) for s in steps if s.app != "Set"][:1] == [
        ("Playback", "callrouter/insufficient-balance")
    ]
    assert "SayUnixTime" not in apps(steps)
    assert steps[-1].app == "Hangup"


@pytest.mark.parametrize("attempt", ["1", "2"])
def test_pin_retry_reads_account_and_pin_again_and_announces_the_next_attempt(
    dialplan: Dialplan, attempt: str
) -> None:
    held = {"HOTLINE_ATTEMPT": attempt, "HOTLINE_PASS": "2", "HOTLINE_ARRIVAL": "1795433000"}
    steps = walk(dialplan, "hotline-pin-retry", "s", held, until="Queue")

    prompts = [s.data.split(",")[1] for s in steps if s.app == "Read"]
    assert prompts == ["callrouter/numero-compte", "callrouter/code-pin"]
    announce = first(steps, "UserEvent", "HotlineCall")
    _, headers, order = user_event(announce)
    assert order == HOTLINE_CALL_HEADERS
    assert headers["Attempt"] == str(int(attempt) + 1)
    assert (headers["Pass"], headers["Arrival"]) == ("2", "1795433000")
    at = steps.index(announce)
    assert (steps[at + 1].app, steps[at + 1].data) == ("MusicOnHold", "default,5")
    assert first(steps, "UserEvent", "HotlineFailsafe")
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


def test_queues_match_the_lab_the_router_was_tested_against(queues: ConfFile) -> None:
    for name in ("coordinators", "experts", "oncall"):
        settings = queues.resolved(name)
        assert settings["ringinuse"] == ["no"]
        assert settings["strategy"] == ["ringall" if name == "oncall" else "rrmemory"]
        assert settings["timeout"] == ["15"]
        assert settings["retry"] == ["2"]
        assert settings["announce-frequency"] == ["0"]
        assert settings["periodic-announce-frequency"] == ["0"]
        assert settings["announce-position"] == ["no"]


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
