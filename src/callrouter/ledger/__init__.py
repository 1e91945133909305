"""The points ledger: prices, recharge packs and codes, incidents and their movements
(seeds/000_0e15b6772b2a7f9e.txt, "Les Points Services")."""
