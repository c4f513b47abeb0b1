"""Seeds a fresh local Tryton database with proteus: company, chart, fiscal year, countries, every ISO
currency, demo goods and the service products sales book (shipping, tax, discount, tip, duty, ...).

Run as `python -m infra.local.tryton_setup --config <trytond.conf> --database <db> --catalog <json>` by
infra.local.tryton_erp.ensure_database, in its own process so trytond's global pool never lives in
the caller (tests, local mode).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

COMPANY_NAME = "SyncHub Demo Store"


def _digits(code: str) -> int:
    """ISO 4217 minor units: JPY 0, EUR 2, KWD 3, CLF 4; 2 where ISO gives none (XAU, XDR, ...)."""
    from synchub.models import minor_unit_exponent

    return minor_unit_exponent(code)


def _currencies() -> None:
    """Every ISO 4217 currency with its minor units, as a real installation has (Tryton's own
    `trytond_import_currencies` loads the same list but leaves every currency at 2 digits), so an order in
    any store currency books: JPY rounds to 1, KWD to 0.001. Known codes get their digits corrected."""
    from iso4217 import Currency as Iso
    from proteus import Model

    Currency = Model.get("currency.currency")
    known = {currency.code: currency for currency in Currency.find([])}
    records = []
    for iso in Iso:
        digits = _digits(iso.code)
        rounding = Decimal(1).scaleb(-digits)
        record = known.get(iso.code)
        if record is None:
            records.append(Currency(name=iso.currency_name, code=iso.code, symbol=iso.code,
                                    numeric_code=f"{iso.number:03d}", digits=digits, rounding=rounding))
        elif record.digits != digits or record.rounding != rounding:
            record.digits, record.rounding = digits, rounding
            records.append(record)
    if records:
        Currency.save(records)


def _currency(code: str) -> Any:
    from proteus import Model

    Currency = Model.get("currency.currency")
    found = Currency.find([("code", "=", code)])
    if found:
        return found[0]
    digits = _digits(code)
    currency = Currency(name=code, code=code, symbol=code, rounding=Decimal(1).scaleb(-digits), digits=digits)
    currency.save()
    return currency


def _countries() -> None:
    """Every ISO 3166 country, so addresses from any store resolve by alpha-2 code (subdivisions are skipped)."""
    import pycountry
    from proteus import Model

    Country = Model.get("country.country")
    known = {country.code for country in Country.find([])}
    new = [Country(name=c.name, code=c.alpha_2, code3=c.alpha_3, code_numeric=c.numeric)
           for c in pycountry.countries if c.alpha_2 not in known]
    if new:
        Country.save(new)


def _company(currency: Any) -> Any:
    from proteus import Model, Wizard
    from proteus.config import get_config

    Party = Model.get("party.party")
    User = Model.get("res.user")
    Company = Model.get("company.company")
    if not Company.find([]):
        wizard = Wizard("company.company.config")
        wizard.execute("company")
        party = Party(name=COMPANY_NAME)
        party.save()
        wizard.form.party = party
        wizard.form.currency = currency
        wizard.execute("add")
    # Later records are created in the company's context, as a client would.
    get_config()._context = User.get_preferences(True, {})
    company, = Company.find([])
    return company


def _chart(company: Any) -> dict[str, Any]:
    from proteus import Model, Wizard

    Account = Model.get("account.account")
    if not Account.find([("company", "=", company.id)]):
        ModelData = Model.get("ir.model.data")
        Template = Model.get("account.account.template")
        data, = ModelData.find([("module", "=", "account"), ("fs_id", "=", "account_template_root_en")])
        wizard = Wizard("account.create_chart")
        wizard.execute("account")
        wizard.form.account_template = Template(data.db_id)
        wizard.form.company = company
        wizard.execute("create_account")
        accounts = _accounts(company)
        wizard.form.account_receivable = accounts["receivable"]
        wizard.form.account_payable = accounts["payable"]
        wizard.execute("create_properties")
    return _accounts(company)


def _accounts(company: Any) -> dict[str, Any]:
    from proteus import Model

    Account = Model.get("account.account")
    accounts = {}
    for kind in ("receivable", "payable", "revenue", "expense"):
        accounts[kind], = Account.find([(f"type.{kind}", "=", True), ("company", "=", company.id),
                                        ("closed", "!=", True)], limit=1)
    return accounts


def _fiscal_year(company: Any, year: int) -> None:
    """A calendar fiscal year with its periods, post-move sequence and invoice sequences."""
    from proteus import Model

    FiscalYear = Model.get("account.fiscalyear")
    if FiscalYear.find([("name", "=", str(year)), ("company", "=", company.id)]):
        return
    Sequence = Model.get("ir.sequence")
    SequenceStrict = Model.get("ir.sequence.strict")
    SequenceType = Model.get("ir.sequence.type")
    move_type, = SequenceType.find([("name", "=", "Account Move")], limit=1)
    invoice_type, = SequenceType.find([("name", "=", "Invoice")], limit=1)
    post_move = Sequence(name=f"Moves {year}", sequence_type=move_type, company=company)
    post_move.save()
    invoices = SequenceStrict(name=f"Invoices {year}", sequence_type=invoice_type, company=company,
                              prefix=f"INV{year}-")
    invoices.save()
    credit_notes = SequenceStrict(name=f"Credit notes {year}", sequence_type=invoice_type, company=company,
                                  prefix=f"CN{year}-")
    credit_notes.save()
    fiscal_year = FiscalYear(name=str(year), company=company, start_date=dt.date(year, 1, 1),
                             end_date=dt.date(year, 12, 31), post_move_sequence=post_move)
    sequences, = fiscal_year.invoice_sequences
    sequences.out_invoice_sequence = invoices
    sequences.in_invoice_sequence = invoices
    sequences.out_credit_note_sequence = credit_notes
    sequences.in_credit_note_sequence = credit_notes
    fiscal_year.save()
    fiscal_year.click("create_period")


def _payment_term() -> None:
    from proteus import Model

    PaymentTerm = Model.get("account.invoice.payment_term")
    if PaymentTerm.find([]):
        return
    term = PaymentTerm(name="Paid in the store")
    term.lines.new(type="remainder")
    term.save()
    Configuration = Model.get("account.configuration")
    configuration = Configuration(1)
    configuration.default_customer_payment_term = term
    configuration.save()


def _products(catalog: dict[str, Any], accounts: dict[str, Any]) -> None:
    """Demo goods (SKU as product code) with their stock counted into WH storage, plus the service items."""
    from proteus import Model

    Uom = Model.get("product.uom")
    Category = Model.get("product.category")
    Template = Model.get("product.template")
    Product = Model.get("product.product")
    Location = Model.get("stock.location")
    Inventory = Model.get("stock.inventory")

    unit, = Uom.find([("name", "=", "Unit")])
    category = Category(name="Store sales", accounting=True, account_revenue=accounts["revenue"],
                        account_expense=accounts["expense"])
    category.save()
    known = {product.code for product in Product.find([])}

    def template(code: str, title: str, kind: str, price: Decimal) -> Any:
        record = Template(name=title, code=code, type=kind, default_uom=unit, salable=True,
                          list_price=price, account_category=category)
        return record

    goods = [item for item in catalog["products"] if item["sku"] not in known]
    records = [template(item["sku"], item["title"], "goods", Decimal(item["price"])) for item in goods]
    records += [template(item["code"], item["title"], "service", Decimal(0))
                for item in catalog["services"] if item["code"] not in known]
    if records:
        Template.save(records)
    if not goods:
        return
    warehouse, = Location.find([("code", "=", catalog.get("warehouse", "WH")), ("type", "=", "warehouse")])
    inventory = Inventory(location=warehouse.storage_location)
    by_code = {product.code: product for product in Product.find([("code", "in", [g["sku"] for g in goods])])}
    for item in goods:
        inventory.lines.new(product=by_code[item["sku"]], quantity=float(item["stock"]))
    inventory.save()
    inventory.click("confirm")


def _carriers(catalog: dict[str, Any]) -> None:
    """Carriers a shipment can name (party = the carrier company, product = its service)."""
    from proteus import Model

    Party = Model.get("party.party")
    Product = Model.get("product.product")
    Carrier = Model.get("carrier")
    for item in catalog.get("carriers", ()):
        if Carrier.find([("party.name", "=", item["name"])]):
            continue
        party = Party(name=item["name"])
        party.save()
        product, = Product.find([("code", "=", item["service"])])
        Carrier(party=party, carrier_product=product).save()


def seed(config_file: Path, database: str, catalog_path: Path) -> None:
    from proteus import config

    config.set_trytond(database=database, config_file=str(config_file))
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    _countries()
    _currencies()
    company = _company(_currency(catalog.get("currency", "USD")))
    accounts = _chart(company)
    this_year = dt.date.today().year
    for year in (this_year - 1, this_year, this_year + 1):
        _fiscal_year(company, year)
    _payment_term()
    _products(catalog, accounts)
    _carriers(catalog)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    args = parser.parse_args()
    seed(args.config, args.database, args.catalog)


if __name__ == "__main__":
    main()
