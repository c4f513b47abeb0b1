"""Stock sinks, store payloads, change feeds and record fetchers: every store vendor through its sandbox,
and the fakes, keep one contract."""
from __future__ import annotations

import pytest
from pydantic import ValidationError
from synchub.connectors.registry import VENDORS, vendor_spec
from synchub.errors import PermanentError
from synchub.models import StockUpdate
from synchub.ports import ConnectionContext

from tests.eventdata import load_json as load_payload

SAMPLE_ORDER = {"shopify": "shopify/orders_create", "woocommerce": "woocommerce/order_created"}


def _set(sink, sku: str, available: int, expected: int | None = None):
    [result] = sink.adapter.set_available([StockUpdate(sku=sku, location_id=sink.location, available=available,
                                                       expected=expected)], idempotency_key=f"k-{sku}-{available}")
    return result


def test_a_set_quantity_reads_back(stock_sink) -> None:
    assert _set(stock_sink, stock_sink.known_sku, 7).ok
    [level] = [s for s in stock_sink.adapter.read_available([stock_sink.known_sku])
               if s.location_id == stock_sink.location]
    assert level.available == 7


def test_a_repeated_write_changes_nothing(stock_sink) -> None:
    assert _set(stock_sink, stock_sink.known_sku, 3).ok
    assert _set(stock_sink, stock_sink.known_sku, 3).ok
    assert stock_sink.extra["read"](stock_sink.known_sku) == 3


def test_an_unknown_sku_is_reported_not_raised(stock_sink) -> None:
    result = _set(stock_sink, "NO-SUCH-SKU-42", 1)
    assert not result.ok and result.reason == "unknown_sku"


def test_a_stale_expected_quantity_is_never_swapped_blindly(stock_sink) -> None:
    """`expected` is a compare-and-swap guard. A vendor with CAS re-reads and swaps from the value it really
    found (the target is absolute: the ERP's number); one without refuses with `stale` and writes nothing."""
    assert _set(stock_sink, stock_sink.known_sku, 5).ok
    result = _set(stock_sink, stock_sink.known_sku, 9, expected=4)  # the store holds 5, not 4
    if result.ok:
        assert result.before == 5 and stock_sink.extra["read"](stock_sink.known_sku) == 9
    else:
        assert result.reason == "stale" and stock_sink.extra["read"](stock_sink.known_sku) == 5


@pytest.mark.parametrize("vendor", [v for v in VENDORS if vendor_spec(v).provides_capability("store_payloads")])
def test_store_payloads_turn_a_real_order_into_a_canonical_one_and_refuse_garbage(vendor) -> None:
    spec = vendor_spec(vendor)
    payloads = spec.factory("store_payloads")(ConnectionContext(
        connection_id="conf", settings=None, load_secret=lambda: pytest.fail("payloads need no secret")))
    raw = load_payload(SAMPLE_ORDER[vendor])
    order = payloads.order("conf", raw)
    assert order.store_reference == f"conf:{raw['id']}" and order.lines and order.total.amount > 0
    with pytest.raises((PermanentError, ValidationError)):
        payloads.order("conf", {"id": 1})


def test_a_change_feed_reports_new_and_changed_records_after_the_watermark(change_feed) -> None:
    feed = change_feed.adapter
    start = feed.changed_since("order", None, limit=100)
    while start.more:
        start = feed.changed_since("order", start.watermark, limit=100)
    new_id = change_feed.create_record()
    after_create = feed.changed_since("order", start.watermark)
    assert new_id in {record.id for record in after_create.records}
    change_feed.touch_record(new_id)
    after_touch = feed.changed_since("order", after_create.watermark)
    [changed] = [record for record in after_touch.records if record.id == new_id]
    assert changed.payload["id"] == int(new_id) or str(changed.payload["id"]) == new_id
    assert after_touch.watermark is not None and after_touch.watermark >= (after_create.watermark or "")


def test_a_record_is_fetched_by_id_and_an_unknown_one_is_none(record_fetcher) -> None:
    record_id = record_fetcher.create_record()
    record = record_fetcher.adapter.fetch("order", record_id)
    assert record is not None and str(record["id"]) == record_id
    assert record_fetcher.adapter.fetch("order", "987654321") is None
