"""How an edit is laid onto a processing Tryton sale, before anything is written: which lines are amended, which
are added (a complementary sale), which stay, and which edits are refused with their figures."""
from __future__ import annotations

from decimal import Decimal

import pytest
from synchub.connectors.tryton.amendments import _check, _Line, _plan
from synchub.connectors.tryton.mapping import LineSpec
from synchub.errors import PermanentError

TEE, MUG, CAP, SHIPPING, TAX = 1, 2, 3, 90, 91
SALE = {"id": 7, "number": "SO7"}


def line(line_id: int, product: int, quantity: float, price: str, **figures: str) -> _Line:
    row = {"id": line_id, "sale": 7, "type": "line", "product": product, "product.": {"code": f"P{product}"},
           "quantity": quantity, "unit_price": Decimal(price), "unit": 1, "description": ""}
    return _Line(row, **{name: Decimal(value) for name, value in figures.items()})


def spec(product: int, quantity: int, price: str) -> LineSpec:
    return LineSpec(product, Decimal(quantity), Decimal(price), "")


def test_raised_removed_repriced_and_added_lines_are_told_apart():
    current = [line(11, TEE, 2, "24.00"), line(12, MUG, 1, "14.50"), line(13, SHIPPING, 1, "8.00"),
               line(14, TAX, 1, "9.45")]
    wanted = [spec(TEE, 3, "24.00"), spec(SHIPPING, 1, "8.00"), spec(TAX, 1, "11.57"), spec(CAP, 1, "19.99")]

    changes, additions = _plan(current, wanted)

    assert sorted((changed.id, new.quantity, new.unit_price) for changed, new in changes) == [
        (11, Decimal(3), Decimal("24.00")), (12, Decimal(0), Decimal("14.50")), (14, Decimal(1), Decimal("11.57"))]
    assert additions == [spec(CAP, 1, "19.99")]


def test_a_product_added_back_takes_its_zero_quantity_line_and_unchanged_lines_are_left_alone():
    current = [line(11, TEE, 2, "24.00"), line(12, MUG, 0, "14.50")]

    changes, additions = _plan(current, [spec(TEE, 2, "24.00"), spec(MUG, 1, "14.50")])

    assert [(changed.id, new.quantity) for changed, new in changes] == [(12, Decimal(1))] and additions == []


def test_lowering_below_the_shipped_quantity_is_refused_with_the_figures():
    with pytest.raises(PermanentError) as caught:
        _check(SALE, line(11, TEE, 2, "24.00", shipped="2"), spec(TEE, 1, "24.00"))
    assert caught.value.reason == "amendment_refused_shipped"
    assert caught.value.detail.items() >= {"sale_line": 11, "product": "P1", "ordered": "2", "wanted": "1",
                                           "shipped": "2"}.items()


def test_lowering_units_a_started_shipment_holds_is_refused_but_raising_them_is_not():
    started = line(11, TEE, 2, "24.00", in_shipment="2")
    with pytest.raises(PermanentError) as caught:
        _check(SALE, started, spec(TEE, 1, "24.00"))
    assert caught.value.reason == "amendment_refused_in_shipment"
    _check(SALE, started, spec(TEE, 3, "24.00"))  # more units: a new move, the started one untouched


def test_an_invoiced_line_keeps_its_price_and_its_invoiced_quantity():
    invoiced = line(11, TEE, 2, "24.00", invoiced="2")
    for wanted in (spec(TEE, 2, "20.00"), spec(TEE, 1, "24.00")):
        with pytest.raises(PermanentError) as caught:
            _check(SALE, invoiced, wanted)
        assert caught.value.reason == "amendment_refused_invoiced"
    _check(SALE, invoiced, spec(TEE, 3, "24.00"))
