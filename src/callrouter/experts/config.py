"""The [experts] section: the domains callers may ask for, and the experts' default hours.

Validated by `parse_experts` on the table callrouter.config hands over (documented in
config/callrouter.toml)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from callrouter.calendar import COORDINATORS
from callrouter.errors import ConfigError
from callrouter.experts.rules import Domain, ExpertRuleError

#: seeds/000_0e15b6772b2a7f9e.txt sells expertise on building automation products: a short
#: list to start with, replaced as a whole by `[experts] domains`.
DEFAULT_DOMAINS = (
    Domain("lighting", "Gestion d'éclairage"),
    Domain("hvac", "Chauffage, ventilation, climatisation"),
    Domain("knx", "KNX"),
    Domain("access-control", "Contrôle d'accès"),
)
#: The queue whose members are the experts' phones: their live state comes from it.
DEFAULT_QUEUE = "experts"
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ExpertsConfig:
    domains: tuple[Domain, ...] = DEFAULT_DOMAINS
    #: The calendar window an expert works in unless told otherwise (SPEC "Calendar": the
    #: coordinators' one).
    hours: str = COORDINATORS
    queue: str = DEFAULT_QUEUE

    def domain(self, key: str) -> Domain | None:
        return next((domain for domain in self.domains if domain.key == key), None)


class ConfigTable(Protocol):
    """A TOML table with its key path and typed accessors (callrouter.config's)."""

    data: Mapping[str, object]
    path: str

    def key_path(self, key: str) -> str: ...
    def reject_unknown(self, known: Iterable[str]) -> None: ...
    def text(self, key: str, default: str, *, empty_ok: bool = False) -> str: ...
    def integer(self, key: str, default: int, low: int, high: int) -> int: ...
    def name(self, key: str, default: str, pattern: re.Pattern[str], what: str) -> str: ...


def window_name(section: ConfigTable, key: str, default: str, windows: Iterable[str]) -> str:
    """The name of a calendar window, one of `windows`."""
    name = section.text(key, default)
    known = list(windows)
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"{section.key_path(key)}: {name!r} is not a calendar window "
            f"(one of: {', '.join(known)}){hint}"
        )
    return name


def parse_experts(section: ConfigTable, windows: Iterable[str]) -> ExpertsConfig:
    section.reject_unknown(("domains", "hours", "queue"))
    defaults = ExpertsConfig()
    domains = defaults.domains
    if "domains" in section.data:
        domains = _domains(section.data["domains"], section.key_path("domains"))
    return ExpertsConfig(
        domains=domains,
        hours=window_name(section, "hours", defaults.hours, windows),
        queue=section.name("queue", defaults.queue, _QUEUE_NAME, "queue name"),
    )


def _domains(raw: object, path: str) -> tuple[Domain, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: expected a non-empty list of {{key, label}} tables")
    parsed: list[Domain] = []
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: expected a table {{key, label}}")
        unknown = sorted(set(item) - {"key", "label"})
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown key (expected one of: key, label)")
        key, label = item.get("key"), item.get("label")
        if not isinstance(key, str) or not isinstance(label, str):
            raise ConfigError(f"{where}: key and label are texts")
        try:
            domain = Domain(key, label)
        except ExpertRuleError as error:
            raise ConfigError(f"{where}: {error}") from None
        if any(known.key == domain.key for known in parsed):
            raise ConfigError(f"{where}: domain '{domain.key}' is listed twice")
        parsed.append(domain)
    return tuple(parsed)
