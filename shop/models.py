"""Imports every model, so that the metadata Alembic and the app see is complete."""

from shop.accounts.models import Role, User
from shop.audit.models import AuditEntry
from shop.catalog.models import Category, Facility, FacilityKind, Product, ProductImage, Region, StockMovement
from shop.certification.models import Certification, CertStatus, CertType, RecordedStatus
from shop.chores import ChoreRun
from shop.customers.models import Customer
from shop.finance.models import OnwardTransfer, PnbpDeposit, PnbpDepositMonth, PublicHoliday, StatementSent
from shop.fulfilment.models import Shipment
from shop.ledger.models import LedgerEntry, SplitRule
from shop.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from shop.outbox.models import OutboxMessage
from shop.payments.models import Payment, Refund, RefundLine, StripeEvent
from shop.sales.models import DayClose, DirectSale, DirectSaleLine, PointOfSale, SalesImport
from shop.shipping.models import Courier, ShippingRate

__all__ = [
    "AuditEntry", "Category", "Certification", "CertStatus", "CertType", "Facility", "FacilityKind",
    "Product", "ProductImage", "RecordedStatus", "Region", "Role", "User", "Courier", "ShippingRate", "Customer",
    "Order", "OrderEvent", "OrderLine", "OrderStatus", "Payment", "Refund", "StripeEvent", "Shipment", "StockMovement",
    "LedgerEntry", "SplitRule", "OutboxMessage", "PnbpDeposit", "PnbpDepositMonth", "RefundLine",
    "OnwardTransfer", "PublicHoliday", "StatementSent", "DayClose", "DirectSale", "DirectSaleLine", "PointOfSale",
    "SalesImport", "ChoreRun",
]
