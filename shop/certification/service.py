"""Which certificates a product needs, their status today, and whether it may be sold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app, has_app_context

from shop.catalog.models import Product
from shop.certification.models import Certification, CertStatus, CertType
from shop.timeutil import today

# A category names requirements; each requirement is met by a valid certificate of one of these types.
REQUIREMENTS: dict[str, tuple[CertType, ...]] = {
    "halal": (CertType.HALAL,),
    "bpom_or_pirt": (CertType.BPOM_MD, CertType.BPOM_ML, CertType.PIRT),
}

# When several certificates could meet a requirement, the one shown is the best by this order.
_PREFERENCE = [CertStatus.VALID, CertStatus.EXPIRING_SOON, CertStatus.IN_PROCESS, CertStatus.EXPIRED,
               CertStatus.REVOKED]


@dataclass(frozen=True)
class RequirementState:
    requirement: str
    certificate: Certification | None
    status: CertStatus


def warning_days() -> int:
    return current_app.config["CERT_EXPIRY_WARNING_DAYS"] if has_app_context() else 60


def required(product: Product) -> list[str]:
    return [name for name in (product.category.required_certs or []) if name in REQUIREMENTS]


def requirement_states(product: Product, on: date | None = None) -> list[RequirementState]:
    day = on or today()
    window = warning_days()
    states = []
    for requirement in required(product):
        candidates = [
            (cert.status_on(day, window), cert)
            for cert in product.certifications
            if cert.cert_type in REQUIREMENTS[requirement]
        ]
        if not candidates:
            states.append(RequirementState(requirement, None, CertStatus.MISSING))
            continue
        status, cert = min(candidates, key=lambda pair: (_PREFERENCE.index(pair[0]), -pair[1].id))
        states.append(RequirementState(requirement, cert, status))
    return states


def is_sellable(product: Product, on: date | None = None) -> bool:
    """The one sellability rule: active, from an active facility, and every required certificate valid."""
    if not product.active or not product.facility.active:
        return False
    return all(state.status.allows_sale for state in requirement_states(product, on))


def has_valid_halal(product: Product, on: date | None = None) -> bool:
    day = on or today()
    return any(
        cert.cert_type == CertType.HALAL and cert.status_on(day, warning_days()).allows_sale
        for cert in product.certifications
    )
