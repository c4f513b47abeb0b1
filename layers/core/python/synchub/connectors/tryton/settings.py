"""Settings of a Tryton connection: the server and its database, beside what every ERP has."""
from __future__ import annotations

from synchub.ports.kit import ErpSettings


class TrytonSettings(ErpSettings):
    url: str  # the trytond server, e.g. https://erp.example.com
    database: str
    # Service product credited for refunded lines that do not come back to stock, and refund adjustments
    refund_product: str = "REFUND"
