"""Read a queues.conf the way app_queue does, so the simulator rings like the real PBX.

One app_queue quirk matters: a static queue takes its strategy from the FIRST `strategy`
line of its category, and a template's lines come before the queue's own. So

    [hotline-queue](!)
    strategy = rrmemory
    [oncall](hotline-queue)
    strategy = ringall

gives an `oncall` queue that really rings `rrmemory` (`queue show oncall`, and the
`Strategy:` of QueueParams in ami-traces 03 and 06, say so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from callrouter.errors import ConfigError

#: app_queue's strategy when a queue names none.
DEFAULT_STRATEGY = "ringall"

_CATEGORY = re.compile(r"^\[(?P<name>[^\]]+)\](?:\((?P<options>[^)]*)\))?$")


@dataclass
class _Category:
    template: bool
    lines: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class QueuesConf:
    #: Queue name -> (interface, member name) for every `member =>` line.
    members: dict[str, list[tuple[str, str]]]
    #: Queue name -> the strategy app_queue really uses.
    strategies: dict[str, str]


def parse_queues_conf(text: str) -> QueuesConf:
    categories: dict[str, _Category] = {}
    current: _Category | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        header = _CATEGORY.match(line)
        if header is not None:
            options = [o.strip() for o in (header["options"] or "").split(",") if o.strip()]
            current = _Category(template="!" in options)
            for parent in (o for o in options if o != "!"):
                if parent not in categories:
                    raise ConfigError(f"queues.conf line {number}: unknown template {parent!r}")
                # Inherited lines come first: that is what makes the template's strategy win.
                current.lines.extend(categories[parent].lines)
            categories[header["name"].strip()] = current
            continue
        key, sep, value = line.partition("=")
        if not sep or current is None:
            raise ConfigError(f"queues.conf line {number}: expected 'key = value' in a [section]")
        current.lines.append((key.strip().lower(), value.removeprefix(">").strip()))
    members: dict[str, list[tuple[str, str]]] = {}
    strategies: dict[str, str] = {}
    for name, category in categories.items():
        if category.template or name == "general":
            continue
        strategies[name] = next(
            (value.lower() for key, value in category.lines if key == "strategy"),
            DEFAULT_STRATEGY,
        )
        members[name] = [_member(value) for key, value in category.lines if key == "member"]
    return QueuesConf(members, strategies)


def _member(value: str) -> tuple[str, str]:
    """`interface,penalty,member name,state interface` -> (interface, member name)."""
    parts = [part.strip() for part in value.split(",")]
    interface = parts[0]
    name = parts[2] if len(parts) > 2 and parts[2] else interface
    return interface, name
