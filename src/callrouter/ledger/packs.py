"""Recharge packs: the cards a distributor sells, each crediting a number of points
(seeds/000_0e15b6772b2a7f9e.txt, "5 valeurs de recharges sont disponibles")."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from callrouter.errors import CallrouterError


@dataclass(frozen=True)
class Pack:
    """A recharge card: `reference` is the card's reference ("Réf. de la carte")."""

    reference: str
    points: int
    price_per_point_eur: Decimal
    price_eur: Decimal


class UnknownPack(CallrouterError):
    def __init__(self, reference: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown recharge pack {reference!r} (known: {', '.join(known)})")
        self.reference = reference


class PackCatalogue(Mapping[str, Pack]):
    """The packs on sale, by reference, in the order they were listed."""

    def __init__(self, packs: Iterable[Pack]) -> None:
        self._packs = {pack.reference: pack for pack in packs}

    def __getitem__(self, reference: str) -> Pack:
        return self._packs[reference]

    def __iter__(self) -> Iterator[str]:
        return iter(self._packs)

    def __len__(self) -> int:
        return len(self._packs)

    def pack(self, reference: str) -> Pack:
        """The pack of that reference, or UnknownPack naming the ones on sale."""
        try:
            return self._packs[reference]
        except KeyError:
            raise UnknownPack(reference, self._packs) from None


#: SPEC "Points account", seeds/000_0e15b6772b2a7f9e.txt (prices in euros, tax as printed).
DEFAULT_PACKS = PackCatalogue(
    [
        Pack("FSACSP50C", 50, Decimal("2.69"), Decimal("134.64")),
        Pack("FSACSP100C", 100, Decimal("2.56"), Decimal("256.79")),
        Pack("FSACSP200C", 200, Decimal("2.44"), Decimal("488.90")),
        Pack("FSACSP500C", 500, Decimal("2.32"), Decimal("1160.01")),
        Pack("FSACSP1000C", 1000, Decimal("2.19"), Decimal("2195.80")),
    ]
)
