"""Read-only certificate queries used by the catalog."""

from __future__ import annotations

from sqlalchemy import Select, exists, or_

from shop.catalog.models import Product
from shop.certification.models import Certification, CertType, RecordedStatus
from shop.timeutil import today


def with_valid_permit(query: Select, *types: CertType) -> Select:
    """Keep products with a certificate of one of `types` that is valid today."""
    day = today()
    return query.where(exists().where(
        Certification.product_id == Product.id,
        Certification.cert_type.in_(types),
        Certification.status == RecordedStatus.VALID,
        Certification.composition_changed.is_(False),
        or_(Certification.expires_on.is_(None), Certification.expires_on >= day),
    ))
