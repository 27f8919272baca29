"""Rupiah helpers and the one function that splits an amount into parts.

Rupiah are whole numbers (`int`) everywhere in the shop: there are no sen in practice and floats
never touch money.
"""

from __future__ import annotations

from collections.abc import Mapping

Rupiah = int


def allocate(amount: Rupiah, shares: Mapping[str, int]) -> dict[str, Rupiah]:
    """Split `amount` between parts in proportion to integer `shares` (percentages, basis points…).

    The parts always sum exactly to `amount`: each gets the floor of its exact share and the rupiah
    left over go one each to the parts with the largest remainders (ties: the order given), so no
    rupiah is created or lost.
    """
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("amount must be whole rupiah (int)")
    if not shares:
        raise ValueError("at least one share is needed")
    if any((not isinstance(s, int)) or s < 0 for s in shares.values()):
        raise ValueError("shares must be non-negative integers")
    total = sum(shares.values())
    if total <= 0:
        raise ValueError("shares must not all be zero")
    sign = -1 if amount < 0 else 1
    magnitude = abs(amount)
    floors = {name: magnitude * share // total for name, share in shares.items()}
    remainders = {name: magnitude * share % total for name, share in shares.items()}
    left = magnitude - sum(floors.values())
    order = sorted(shares, key=lambda name: -remainders[name])  # stable: ties keep the given order
    for name in order[:left]:
        floors[name] += 1
    return {name: sign * value for name, value in floors.items()}
