"""What opening an incident costs, in points (SPEC "Price list in points";
seeds/000_0e15b6772b2a7f9e.txt, "Type de prestation, paiement à l'acte").

Pure rules: the table itself lives in configuration (callrouter.ledger.config).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from callrouter.errors import CallrouterError
from callrouter.passes import Pass

Points: TypeAlias = int


class AssistanceLevel(enum.StrEnum):
    #: «Expert» standard: "accompagnement technique personnalisé à la mise en application".
    STANDARD = "standard"
    #: «Expert» avancée: "échange de données (vérification des câblages, paramétrage,
    #: configuration, test)" or "produit dont la commercialisation est arrêtée".
    ADVANCED = "advanced"


class Classification(enum.StrEnum):
    #: Remote expert assistance, priced by level and pass.
    EXPERT = "expert"
    #: "Assistance non imputable": ends in a quality problem, a site visit or a product
    #: expertise. "Offert".
    NON_ATTRIBUTABLE = "non-attributable"
    #: "Assistance sur site": "Sur devis", nothing is debited when the incident opens.
    ON_SITE = "on-site"


@dataclass(frozen=True)
class OnQuote:
    """The service is priced by a quote, outside the points table."""

    def __str__(self) -> str:
        return "on quote"


ON_QUOTE = OnQuote()

Price: TypeAlias = Points | OnQuote


class EmergencyUnavailable(CallrouterError):
    """Emergency assistance was asked with a pass that does not open it ("Non disponible")."""

    def __init__(self, pass_: Pass) -> None:
        super().__init__(
            f"emergency assistance is not available with the {pass_.value} pass "
            "(seeds/000: only the Prioritaire pass opens it)"
        )
        self.pass_ = pass_


@dataclass(frozen=True)
class PriceList:
    """The points table. `emergency` lists only the passes that open emergency assistance.

    `third_party_levels`: the levels the third-party surcharge applies to. The brochure
    prints "+ 100 Points Services si produit tiers dans l'architecture" under the advanced
    row only; SPEC (choice) makes that the default, configurable.
    """

    expert: Mapping[tuple[AssistanceLevel, Pass], Points]
    third_party_surcharge: Points
    third_party_levels: frozenset[AssistanceLevel]
    emergency: Mapping[Pass, Points]

    def price(
        self,
        *,
        level: AssistanceLevel,
        pass_: Pass,
        third_party: bool = False,
        emergency: bool = False,
        classification: Classification = Classification.EXPERT,
    ) -> Price:
        """The points debited when such an incident opens.

        Emergency assistance is its own row of the table: a flat price for the passes that
        open it, whatever the level, and no third-party surcharge. Asking for it with any
        other pass raises EmergencyUnavailable, even for a free classification, so a caller
        is never told an emergency exists where the offer says it does not.
        """
        if emergency and pass_ not in self.emergency:
            raise EmergencyUnavailable(pass_)
        if classification is Classification.NON_ATTRIBUTABLE:
            return 0
        if classification is Classification.ON_SITE:
            return ON_QUOTE
        if emergency:
            return self.emergency[pass_]
        base = self.expert[(level, pass_)]
        if third_party and level in self.third_party_levels:
            return base + self.third_party_surcharge
        return base


def points_due(price: Price) -> Points:
    """What the ledger debits at opening for a price: nothing for a quote."""
    return 0 if isinstance(price, OnQuote) else price


#: SPEC "Price list in points", seeds/000_0e15b6772b2a7f9e.txt.
DEFAULT_PRICE_LIST = PriceList(
    expert={
        (AssistanceLevel.STANDARD, Pass.FOUR_HOURS): 35,
        (AssistanceLevel.STANDARD, Pass.APPOINTMENT): 50,
        (AssistanceLevel.STANDARD, Pass.PRIORITY): 75,
        (AssistanceLevel.ADVANCED, Pass.FOUR_HOURS): 75,
        (AssistanceLevel.ADVANCED, Pass.APPOINTMENT): 100,
        (AssistanceLevel.ADVANCED, Pass.PRIORITY): 150,
    },
    third_party_surcharge=100,
    third_party_levels=frozenset({AssistanceLevel.ADVANCED}),
    emergency={Pass.PRIORITY: 100},
)
