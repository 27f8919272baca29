"""The one split function: every rupiah accounted for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.i18n import rupiah
from shop.money import allocate

shares_strategy = st.dictionaries(st.sampled_from(["pnbp", "premi", "cooperative", "capital", "other"]),
                                  st.integers(min_value=0, max_value=10_000), min_size=1).filter(
    lambda shares: sum(shares.values()) > 0)


@given(amount=st.integers(min_value=-10**12, max_value=10**12), shares=shares_strategy)
def test_allocation_always_sums_to_the_amount(amount, shares):
    parts = allocate(amount, shares)

    assert sum(parts.values()) == amount
    assert set(parts) == set(shares)
    assert all(isinstance(v, int) for v in parts.values())


@given(amount=st.integers(min_value=0, max_value=10**12), shares=shares_strategy)
def test_each_part_is_within_one_rupiah_of_its_exact_share(amount, shares):
    total = sum(shares.values())
    parts = allocate(amount, shares)

    for name, share in shares.items():
        exact = amount * share / total
        assert abs(parts[name] - exact) < 1
        if share == 0:
            assert parts[name] == 0


def test_demo_split_of_a_sale():
    parts = allocate(45_001, {"pnbp": 15, "premi": 15, "cooperative": 55, "production_capital": 15})

    assert parts == {"pnbp": 6750, "premi": 6750, "cooperative": 24751, "production_capital": 6750}


def test_refund_split_mirrors_the_sale():
    shares = {"pnbp": 15, "premi": 15, "cooperative": 55, "production_capital": 15}
    assert allocate(-45_001, shares) == {k: -v for k, v in allocate(45_001, shares).items()}


@pytest.mark.parametrize("bad", [1.5, "100", None])
def test_allocation_refuses_non_integer_money(bad):
    with pytest.raises(TypeError):
        allocate(bad, {"a": 1})


def test_rupiah_is_written_as_people_expect():
    assert rupiah(25_000, "id") == "Rp25.000"
    assert rupiah(25_000, "en") == "IDR 25,000"
    assert rupiah(1_250_000, "id") == "Rp1.250.000"
    with pytest.raises(TypeError):
        rupiah(25_000.0, "id")


@given(amount=st.integers(min_value=-10**15, max_value=10**15))
def test_rupiah_is_written_as_babel_writes_it_for_indonesia_and_english(amount):
    """rupiah() writes the amount out itself, for speed: exactly as Babel's currency format would."""
    from babel.numbers import format_currency

    assert rupiah(amount, "id") == format_currency(amount, "IDR", format="¤#,##0", locale="id_ID",
                                                   currency_digits=False)
    assert rupiah(amount, "en") == format_currency(amount, "IDR", format="¤ #,##0", locale="en_US",
                                                   currency_digits=False)


def test_weights_read_as_people_write_them(app):
    from shop.i18n import weight

    assert weight(250, "id") == "250 g"
    assert weight(1100, "id") == "1,1 kg" and weight(1100, "en") == "1.1 kg"
    assert weight(12_500, "id") == "12,5 kg" and weight(2000, "en") == "2 kg"
