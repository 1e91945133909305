"""The [experts] section: the domains callers may ask for, and the experts' default hours.

Parsed and validated by callrouter.config (documented in config/callrouter.toml)."""

from __future__ import annotations

from dataclasses import dataclass

from callrouter.calendar import COORDINATORS
from callrouter.experts.rules import Domain

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


@dataclass(frozen=True)
class ExpertsConfig:
    domains: tuple[Domain, ...] = DEFAULT_DOMAINS
    #: The calendar window an expert works in unless told otherwise (SPEC "Calendar": the
    #: coordinators' one).
    hours: str = COORDINATORS
    queue: str = DEFAULT_QUEUE

    def domain(self, key: str) -> Domain | None:
        return next((domain for domain in self.domains if domain.key == key), None)
