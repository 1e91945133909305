"""A model of the hotline's Asterisk configuration for the tests of dialplans/.

The .conf files are read with a small parser, and the dialplan is walked step by step by a
small interpreter (Goto, Gosub, GotoIf, ExecIf, Set with plain variables and simple
$[...] expressions): enough to follow the paths a call takes, not an Asterisk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIALPLANS = ROOT / "dialplans"

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

    def inherited(self, name: str) -> list[tuple[str, str]]:
        """A section's settings as Asterisk's config loader builds it: the templates'
        settings first, in order, then the section's own."""
        section = self.section(name)
        entries: list[tuple[str, str]] = []
        for template in (o for o in section.options if o not in ("!", "+")):
            entries += self.inherited(template)
        return entries + [(key, value) for key, value, _ in section.entries]


def app_queue_settings(queues: ConfFile, name: str) -> dict[str, str]:
    """What app_queue makes of a static queue (apps/app_queue.c, reload_single_queue):
    every setting in order, the last one winning, except `strategy`, read once with
    ast_variable_retrieve before the others, so the first one wins: a template's."""
    settings: dict[str, str] = {}
    for key, value in queues.inherited(name):
        if key == "strategy":
            settings.setdefault(key, value)
        elif key != "member":
            settings[key] = value
    return settings


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
    #: seconds since the walk began when the step starts: the waits and silences before it
    at: float = field(default=0.0, compare=False)


@dataclass
class Caller:
    """A caller keying DTMF, as Asterisk's Read receives the keys.

    `entries` are what the caller keys each time a prompt asks for something, in one go
    ("#" included when they press it; "" when they key nothing). Keys not read yet wait on
    the channel: a Read that stops early leaves them to the next Read, as Asterisk does,
    and the caller keys their next entry only once nothing is left (the next prompt).
    """

    entries: list[str]
    waiting: str = ""

    def prompted(self) -> None:
        if not self.waiting and self.entries:
            self.waiting = self.entries.pop(0)

    def key(self) -> str | None:
        """The next key, or None: the caller is silent until the Read times out."""
        if not self.waiting:
            return None
        key, self.waiting = self.waiting[0], self.waiting[1:]
        return key

    @property
    def unread(self) -> str:
        """Keys that no Read took: what the caller meant to say and the IVR never heard."""
        return self.waiting + "".join(self.entries)


@dataclass(frozen=True)
class Read:
    """What app_read returns (apps/app_read.c, main/app.c ast_app_getdata_terminator)."""

    keyed: str
    status: str
    waited: float


def read(data: str, caller: Caller, sounds: frozenset[str] | None) -> Read:
    """Read(variable,prompt,maxdigits,options,attempts,timeout) with "#" as terminator: it
    stops on "#" (not kept), on its maxdigits-th key (keys after it stay on the channel) or
    after `timeout` seconds of silence. A prompt none of whose files can be played makes it
    return at once with READSTATUS=ERROR, reading nothing."""
    _, prompt, maxdigits, options, attempts, timeout = (data.split(",") + [""] * 6)[:6]
    assert options == "" and attempts in ("", "1"), f"Read({data}) is beyond this walker"
    if prompt and sounds is not None and not set(prompt.split("&")) & sounds:
        return Read("", "ERROR", 0.0)
    most = int(maxdigits) if maxdigits else 255
    most = most if 1 <= most <= 255 else 255
    caller.prompted()
    keyed = ""
    while (key := caller.key()) is not None:
        if key == "#":
            return Read(keyed, "OK", 0.0)
        keyed += key
        if len(keyed) >= most:
            return Read(keyed, "OK", 0.0)
    return Read(keyed, "TIMEOUT", float(timeout))


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


def _gosub_target(target: str, where: str) -> tuple[str, str, list[str]]:
    match = re.fullmatch(r"([^,()]+),([^,()]+),1(?:\((.*)\))?", target)
    assert match, f"{where}: Gosub to {target!r}, expected context,exten,1[(args)]"
    arguments = match.group(3)
    return match.group(1), match.group(2), arguments.split(",") if arguments else []


def walk(
    dialplan: Dialplan,
    context: str,
    exten: str,
    variables: dict[str, str] | None = None,
    *,
    until: str = "Hangup",
    caller: Caller | None = None,
    sounds: frozenset[str] | None = None,
    hold_music: bool = True,
) -> list[Step]:
    """Runs a channel from context,exten,1 to the first `until` application (included).

    `variables` are channel variables and function values (e.g. "CALLERID(num)"). Read
    takes the caller's keys (`caller`; by default one who keys nothing). `sounds` are the
    prompts installed (None: every prompt plays); `hold_music` False is a music-on-hold
    class without files, which makes MusicOnHold return at once. The walk counts waits
    and silences, not how long prompts last.
    """
    known = dict(dialplan.globals) | (variables or {})
    caller = caller if caller is not None else Caller([])
    stack: list[tuple[str, str, int, dict[str, str]]] = []
    steps: list[Step] = []
    clock = 0.0
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
        steps.append(Step(context, exten, app, data, clock))
        if app == until or app in ("Hangup", "Congestion"):
            return steps
        jump: str | None = None
        if app == "Set":
            key, _, value = data.partition("=")
            known[key] = value
        elif app == "Read":
            result = read(data, caller, sounds)
            known[data.split(",")[0]] = result.keyed
            known["READSTATUS"] = result.status
            clock += result.waited
        elif app == "Wait" or (app == "MusicOnHold" and hold_music):
            clock += float(data.split(",")[-1])
        elif app == "GotoIf":
            condition, _, targets = data.partition("?")
            branches = targets.split(":")
            chosen = branches[0] if _condition(condition, where) else (branches[1:] or [""])[0]
            jump = chosen or None
        elif app == "Goto":
            jump = data
        elif app == "Gosub":
            context, exten, arguments = _gosub_target(data, where)
            saved = {k: v for k, v in known.items() if re.fullmatch(r"ARG\d+", k)}
            stack.append((steps[-1].context, steps[-1].exten, index, saved))
            for key in saved:
                del known[key]
            known |= {f"ARG{n}": value for n, value in enumerate(arguments, start=1)}
            name, priorities = dialplan.priorities(context, exten)
            index = 0
        elif app == "Return":
            known["GOSUB_RETVAL"] = data
            context, exten, index, saved = stack.pop()
            known = {k: v for k, v in known.items() if not re.fullmatch(r"ARG\d+", k)} | saved
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
