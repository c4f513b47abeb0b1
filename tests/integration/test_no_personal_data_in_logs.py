"""No secret and no personal data (e-mail, phone, address, names) in what the functions log."""
from __future__ import annotations

import json
import logging

from tests.eventdata import load_event, sign_shopify
from tests.fakes import FakeCrm, FakeErp
from tests.integration.conftest import SHOPIFY_SECRET
from tests.integration.test_ingest_handler import api_event, invoke
from tests.integration.test_queue_flows import run_flow
from tests.unit.test_order_flows import DEMO_PRODUCTS


def personal_values(payload: dict) -> set[str]:
    customer, shipping = payload["customer"], payload["shipping_address"]
    values = {customer["email"], customer["first_name"], customer["last_name"], shipping["address1"],
              shipping["city"], shipping["zip"]}
    values |= {phone for phone in (customer.get("phone"), shipping.get("phone")) if phone}
    return {value for value in values if value and len(value) > 3}


def test_a_full_order_run_logs_no_personal_data_and_no_secret(aws, lambda_context, caplog):
    caplog.set_level(logging.INFO)  # the level functions run at (botocore DEBUG would print bodies)
    body, headers = load_event("shopify/orders_create")
    signed = {**headers, "X-Shopify-Hmac-Sha256": sign_shopify(body, SHOPIFY_SECRET)}
    assert invoke(aws, api_event("main", "shopify", body, signed), lambda_context)["statusCode"] == 200
    assert invoke(aws, api_event("main", "shopify", body, {**signed, "X-Shopify-Hmac-Sha256": "bad"}),
                  lambda_context)["statusCode"] == 401
    crm = FakeCrm()
    run_flow(aws, lambda_context, "order_to_erp", erp=FakeErp(products=DEMO_PRODUCTS))
    crm.down = True  # a failure path logs too
    run_flow(aws, lambda_context, "order_to_crm", crm=crm)

    # Every record whole, structured `extra` fields included (caplog.text would show only the message).
    logged = "\n".join(json.dumps(record.__dict__, default=str, ensure_ascii=False) for record in caplog.records)
    assert "event handled" in logged and "event will be retried" in logged  # the logs were captured
    leaked = {value for value in personal_values(json.loads(body)) | {SHOPIFY_SECRET}
              if value.lower() in logged.lower()}
    assert leaked == set()
