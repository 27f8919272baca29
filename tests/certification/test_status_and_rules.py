"""Certificate statuses are derived from dates when read; sellability is one rule for catalog, cart and checkout."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shop.certification import service
from shop.certification.models import CertStatus, CertType, RecordedStatus
from shop.extensions import db
from tests import factories as f


def at(app, day: date) -> None:
    """Move the shop's clock to noon (Makassar time) on `day`."""
    app.config["FROZEN_NOW"] = datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


def permit_of(product):
    return next(c for c in product.certifications if c.cert_type == CertType.PIRT)


@pytest.mark.parametrize("day, expected", [
    (date(2029, 10, 1), CertStatus.VALID),
    (date(2029, 11, 1), CertStatus.VALID),
    (date(2029, 11, 2), CertStatus.EXPIRING_SOON),  # 60 days before the expiry: the window opens
    (date(2030, 1, 1), CertStatus.EXPIRING_SOON),  # the expiry day itself is still valid
    (date(2030, 1, 2), CertStatus.EXPIRED),  # the day after: expired, no batch job needed
])
def test_a_permit_moves_from_valid_to_expiring_soon_to_expired_as_the_clock_moves(app, day, expected):
    food = f.certified_food()  # P-IRT expires 2030-01-01
    at(app, day)

    assert permit_of(food).status_on(service.today(), service.warning_days()) is expected
    assert service.is_sellable(food) is expected.allows_sale


def test_the_warning_window_is_configurable(app):
    food = f.certified_food()
    at(app, date(2029, 12, 1))
    app.config["CERT_EXPIRY_WARNING_DAYS"] = 10
    try:
        assert permit_of(food).status_on(service.today(), service.warning_days()) is CertStatus.VALID
    finally:
        app.config["CERT_EXPIRY_WARNING_DAYS"] = 60


def test_in_process_revoked_and_recipe_changed_certificates_do_not_allow_sale(app):
    staff = f.user("fulfilment")
    food = f.certified_food()
    halal = next(c for c in food.certifications if c.cert_type == CertType.HALAL)
    assert service.is_sellable(food)

    service.mark_composition_changed(halal, note="new recipe", actor=staff)
    assert service.requirement_states(food)[0].status is CertStatus.REVOKED
    assert not service.is_sellable(food)

    pending = f.certified_food()
    next(c for c in pending.certifications if c.cert_type == CertType.HALAL).status = RecordedStatus.IN_PROCESS
    assert service.requirement_states(pending)[0].status is CertStatus.IN_PROCESS
    assert not service.is_sellable(pending)

    revoked = f.certified_food()
    service.revoke_certificate(permit_of(revoked), reason="BPOM recall", actor=staff)
    assert not service.is_sellable(revoked)


def test_a_missing_certificate_makes_food_unsellable_but_crafts_need_none():
    food = f.product(category=f.food_category())
    bag = f.product()

    assert [s.status for s in service.requirement_states(food)] == [CertStatus.MISSING, CertStatus.MISSING]
    assert not service.is_sellable(food)
    assert service.requirement_states(bag) == [] and service.is_sellable(bag)


def test_a_renewal_takes_over_from_the_expired_certificate(app):
    staff = f.user("fulfilment")
    food = f.certified_food()
    at(app, date(2030, 2, 1))
    assert not service.is_sellable(food)

    service.add_certificate(food, service.CertificateInput(
        CertType.PIRT, "2097271010001-29", "Pemda Palu", date(2030, 1, 20), date(2035, 1, 20)),
        actor=staff, renews=permit_of(food))

    assert service.is_sellable(food)
    assert len([c for c in food.certifications if c.cert_type == CertType.PIRT]) == 2  # the old one is kept


def test_the_cooperative_overrides_a_products_requirements_with_a_reason_and_a_second_persons_approval():
    staff, second = f.user("fulfilment"), f.user("admin")
    oil = f.product(category=f.food_category(), name_id="Minyak Kelapa")
    assert not service.is_sellable(oil)

    with pytest.raises(service.CertificationError):
        service.override_requirements(oil, ["halal"], reason=" ", actor=staff)
    service.override_requirements(oil, [], reason="bukan pangan olahan: minyak urut", actor=staff)
    assert not service.is_sellable(oil)  # asked, not yet approved
    with pytest.raises(service.CertificationError, match="second_person"):
        service.approve_requirements(oil, actor=staff)  # not by the one who asked
    service.approve_requirements(oil, actor=second)
    assert service.is_sellable(oil) and oil.required_certs_request is None

    service.override_requirements(oil, None, reason="kembali ikut kategori", actor=staff)
    service.reject_requirements(oil, actor=second)
    assert service.is_sellable(oil)  # turned down: the waiver stays
    service.override_requirements(oil, None, reason="kembali ikut kategori", actor=second)
    service.approve_requirements(oil, actor=staff)
    assert not service.is_sellable(oil)


def test_facility_staff_may_change_only_their_own_facilitys_certificates():
    food = f.certified_food()
    other = f.user("facility", facility_id=f.facility().id)
    own = f.user("facility", facility_id=food.facility_id)

    with pytest.raises(PermissionError):
        service.revoke_certificate(permit_of(food), reason="x", actor=other)
    service.revoke_certificate(permit_of(food), reason="ditarik", actor=own)


@pytest.mark.parametrize("data, problem", [
    (dict(cert_type=CertType.PIRT, number="2097271010001-29", expires_on=None), "expiry_required"),
    (dict(issued_on=date(2025, 5, 1), expires_on=date(2025, 4, 1)), "expiry_before_issue"),
    (dict(issued_on=date.today() + timedelta(days=30)), "issued_in_future"),
])
def test_impossible_dates_are_refused(data, problem):
    values = dict(cert_type=CertType.BPOM_MD, number="MD 234567890123", issuer="BPOM RI",
                  issued_on=date(2025, 1, 1), expires_on=date(2030, 1, 1))
    values.update(data)
    with pytest.raises(service.CertificationError, match=problem):
        service.add_certificate(f.product(category=f.food_category()), service.CertificateInput(**values),
                                actor=None)


def test_every_change_is_kept_in_the_history_with_who_and_before_after():
    staff = f.user("fulfilment", email="rina@koperasi.id")
    food = f.product(category=f.food_category())
    cert = service.add_certificate(food, service.CertificateInput(
        CertType.HALAL, "ID311100000000000009", "BPJPH", date(2025, 1, 1), None), actor=staff)
    service.revoke_certificate(cert, reason="produsen berganti", actor=staff)
    db.session.flush()

    history = service.certificate_history(food)

    assert [e.action for e in history] == ["certificate.revoke", "certificate.add"]
    assert all(e.actor_email == "rina@koperasi.id" for e in history)
    assert history[0].before["status"] == "valid" and history[0].after["status"] == "revoked"
    assert history[0].note == "produsen berganti"
