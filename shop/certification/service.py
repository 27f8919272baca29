"""Which certificates a product needs, their status today, and whether it may be sold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, has_app_context
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from shop.accounts.models import Role, User
from shop.audit.models import AuditEntry
from shop.audit.service import record, snapshot
from shop.catalog.models import Product
from shop.certification.models import Certification, CertStatus, CertType, RecordedStatus
from shop.certification.numbers import normalise
from shop.extensions import db
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
    """What the product needs: its category's requirements, unless staff overrode them for this product."""
    names = product.required_certs_override if product.required_certs_override is not None \
        else product.category.required_certs
    return [name for name in (names or []) if name in REQUIREMENTS]


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


@dataclass(frozen=True)
class SaleState:
    """A product's requirement states and whether it may be sold, computed once for a page that shows both."""

    states: list[RequirementState]
    sellable: bool


def sale_state(product: Product, on: date | None = None) -> SaleState:
    """The one sellability rule: active, from an active facility, and every required certificate valid."""
    states = requirement_states(product, on)
    sellable = product.active and product.facility.active and all(s.status.allows_sale for s in states)
    return SaleState(states, bool(sellable))


def is_sellable(product: Product, on: date | None = None) -> bool:
    return sale_state(product, on).sellable


def has_valid_halal(product: Product, on: date | None = None) -> bool:
    day = on or today()
    return any(
        cert.cert_type == CertType.HALAL and cert.status_on(day, warning_days()).allows_sale
        for cert in product.certifications
    )


# -- managing certificates (staff)

class CertificationError(ValueError):
    """A change the rules refuse; `field` names the form field, `str()` the problem key."""

    def __init__(self, problem: str, field: str = "") -> None:
        super().__init__(problem)
        self.field = field


@dataclass(frozen=True)
class CertificateInput:
    cert_type: CertType
    number: str
    issuer: str
    issued_on: date | None
    expires_on: date | None
    in_process: bool = False
    document: str | None = None


AUDIT_FIELDS = ["cert_type", "number", "issuer", "issued_on", "expires_on", "status", "composition_changed",
                "revoked_reason", "document"]


def _check_access(actor: User | None, product: Product) -> None:
    if actor is not None and not actor.can_manage_facility(product.facility_id):
        raise PermissionError("not this facility's staff")


def add_certificate(product: Product, data: CertificateInput, *, actor: User | None,
                    renews: Certification | None = None) -> Certification:
    """Add a certificate, or a renewal of one (the old one stays, for the history)."""
    _check_access(actor, product)
    number = normalise(data.cert_type, data.number) if data.number or not data.in_process else ""
    if data.issued_on and data.issued_on > today():
        raise CertificationError("issued_in_future", "issued_on")
    if data.expires_on is None and data.cert_type is not CertType.HALAL and not data.in_process:
        raise CertificationError("expiry_required", "expires_on")
    if data.issued_on and data.expires_on and data.expires_on <= data.issued_on:
        raise CertificationError("expiry_before_issue", "expires_on")
    if number and renews is None and any(
            other.cert_type is data.cert_type and other.number == number and other.status is not RecordedStatus.REVOKED
            for other in product.certifications):
        raise CertificationError("duplicate_number", "number")  # a new expiry date is a renewal of that one
    cert = Certification(product=product, cert_type=data.cert_type, number=number, issuer=data.issuer.strip(),
                         issued_on=data.issued_on, expires_on=data.expires_on, document=data.document,
                         status=RecordedStatus.IN_PROCESS if data.in_process else RecordedStatus.VALID)
    db.session.add(cert)
    db.session.flush()
    record("certificate.renew" if renews else "certificate.add", cert,
           snapshot(renews, AUDIT_FIELDS) if renews else None, snapshot(cert, AUDIT_FIELDS), actor=actor)
    return cert


def revoke_certificate(cert: Certification, *, reason: str, actor: User | None) -> Certification:
    _check_access(actor, cert.product)
    if not reason.strip():
        raise CertificationError("reason_required", "reason")
    before = snapshot(cert, AUDIT_FIELDS)
    cert.status = RecordedStatus.REVOKED
    cert.revoked_reason = reason.strip()
    db.session.flush()
    record("certificate.revoke", cert, before, snapshot(cert, AUDIT_FIELDS), note=cert.revoked_reason,
           actor=actor)
    return cert


def mark_composition_changed(cert: Certification, *, note: str, actor: User | None) -> Certification:
    """A halal certificate no longer holds once the recipe or process changed (Perppu 2/2022)."""
    _check_access(actor, cert.product)
    if cert.cert_type is not CertType.HALAL:
        raise CertificationError("only_halal")
    before = snapshot(cert, AUDIT_FIELDS)
    cert.composition_changed = True
    db.session.flush()
    record("certificate.composition_changed", cert, before, snapshot(cert, AUDIT_FIELDS), note=note, actor=actor)
    return cert


def _may_decide(actor: User | None) -> None:
    """Only the cooperative (fulfilment) or an admin decides what a product needs: a facility may not waive the
    permits of its own food."""
    if actor is not None and not actor.has_role(Role.ADMIN, Role.FULFILMENT):
        raise CertificationError("cooperative_only", "requirements")


def override_requirements(product: Product, requirements: list[str] | None, *, reason: str,
                          actor: User | None) -> Product:
    """Ask to set what this product needs regardless of its category (None: follow the category again). It takes
    effect once a second person of the cooperative approves it (`approve_requirements`); the shop itself
    (`actor` None: the demo seed, a command) sets it at once."""
    _check_access(actor, product)
    _may_decide(actor)
    if requirements is not None and any(name not in REQUIREMENTS for name in requirements):
        raise CertificationError("unknown_requirement", "requirements")
    if not reason.strip():
        raise CertificationError("reason_required", "reason")
    wanted = sorted(requirements) if requirements is not None else None
    if actor is None:
        return _apply_requirements(product, wanted, reason.strip(), actor=None)
    product.required_certs_request = {"requirements": wanted, "reason": reason.strip(), "by_id": actor.id,
                                      "by": actor.email}
    db.session.flush()
    record("product.required_certificates_requested", product, None,
           {"required_certs_override": wanted, "reason": reason.strip()}, actor=actor)
    return product


def approve_requirements(product: Product, *, actor: User | None) -> Product:
    """A second person of the cooperative approves the waiting request: only now does it apply."""
    _may_decide(actor)
    request = product.required_certs_request
    if not request:
        raise CertificationError("no_request")
    if actor is not None and request.get("by_id") == actor.id:
        raise CertificationError("second_person")
    product.required_certs_request = None
    return _apply_requirements(product, request.get("requirements"), str(request.get("reason", "")), actor=actor,
                               asked_by=str(request.get("by", "")))


def reject_requirements(product: Product, *, actor: User | None) -> Product:
    _may_decide(actor)
    request = product.required_certs_request
    if not request:
        raise CertificationError("no_request")
    product.required_certs_request = None
    db.session.flush()
    record("product.required_certificates_rejected", product,
           {"required_certs_override": request.get("requirements"), "reason": request.get("reason")}, None,
           note=str(request.get("by", "")), actor=actor)
    return product


def _apply_requirements(product: Product, requirements: list[str] | None, reason: str, *, actor: User | None,
                        asked_by: str = "") -> Product:
    before = {"required_certs_override": product.required_certs_override, "reason": product.required_certs_reason}
    product.required_certs_override = requirements
    product.required_certs_reason = reason
    db.session.flush()
    record("product.required_certificates", product, before,
           {"required_certs_override": product.required_certs_override, "reason": product.required_certs_reason},
           note=asked_by, actor=actor)
    return product


def certificate_history(product: Product) -> list[AuditEntry]:
    cert_ids = [str(c.id) for c in product.certifications]
    return list(db.session.scalars(
        select(AuditEntry).where(or_(
            and_(AuditEntry.target_type == "Certification", AuditEntry.target_id.in_(cert_ids)),
            and_(AuditEntry.target_type == "Product", AuditEntry.target_id == str(product.id),
                 AuditEntry.action.in_(("product.required_certificates", "product.required_certificates_requested",
                                        "product.required_certificates_rejected")))))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())))


# -- alerts

@dataclass(frozen=True)
class Alerts:
    expiring: list[Certification]
    unsellable: list[tuple[Product, list[RequirementState]]]

    @property
    def empty(self) -> bool:
        return not self.expiring and not self.unsellable


def needing_attention(facility_id: int | None = None) -> int:
    """Certificates of products on sale that expire within the warning window or have expired (one COUNT): the
    number beside "Manage certificates" in the staff menu; the staff home lists them (see `alerts`)."""
    horizon = today() + timedelta(days=warning_days())
    query = (select(func.count(Certification.id)).join(Product, Certification.product_id == Product.id)
             .where(Product.active.is_(True), Certification.status == RecordedStatus.VALID,
                    Certification.composition_changed.is_(False), Certification.expires_on.is_not(None),
                    Certification.expires_on <= horizon))
    if facility_id is not None:
        query = query.where(Product.facility_id == facility_id)
    return int(db.session.scalar(query) or 0)


def alerts(days: int | None = None, facility_id: int | None = None) -> Alerts:
    """Certificates expiring within `days` (default: the warning window) and products no longer sellable."""
    window = warning_days() if days is None else days
    day = today()
    products = db.session.scalars(
        select(Product).where(Product.active.is_(True)).options(
            selectinload(Product.certifications), selectinload(Product.category), selectinload(Product.facility))
        .where(*([Product.facility_id == facility_id] if facility_id else []))
        .order_by(Product.name_id)).all()
    expiring: list[Certification] = []
    unsellable = []
    for product in products:
        states = requirement_states(product, day)
        for state in states:
            cert = state.certificate
            if cert and cert.expires_on and state.status.allows_sale \
                    and cert.expires_on <= day + timedelta(days=window):
                expiring.append(cert)
        if product.facility.active and not all(state.status.allows_sale for state in states):
            unsellable.append((product, [s for s in states if not s.status.allows_sale]))
    expiring.sort(key=lambda cert: cert.expires_on or date.max)
    return Alerts(expiring, unsellable)
