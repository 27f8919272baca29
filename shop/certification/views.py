"""Public certification page, and the staff's certification screen."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link, register_staff_panel
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.catalog.models import Product
from shop.catalog.staff import product_for_staff
from shop.certification import certification, service
from shop.certification.forms import CertificateForm, OverrideForm, RevokeForm
from shop.certification.models import Certification, CertType
from shop.certification.numbers import InvalidNumber
from shop.extensions import db
from shop.uploads import DocumentRejected, save_private_document, send_private_document
from shop.web import commit_or_refuse, positive_int, problem

MANAGERS = (Role.ADMIN, Role.FULFILMENT, Role.FACILITY)
register_staff_link("certification.staff_list", _l("Manage certificates"), *MANAGERS,
                    count=lambda user: service.needing_attention(
                        None if user.has_role(Role.ADMIN, Role.FULFILMENT) else user.facility_id))


def _panel_context() -> dict[str, object]:
    facility_id = None if current_user.has_role(Role.ADMIN, Role.FULFILMENT) else current_user.facility_id
    return {"alerts": service.alerts(facility_id=facility_id)}


register_staff_panel("certification/_alerts.html", _panel_context, *MANAGERS)

PROBLEMS = {
    "issued_in_future": _l("The issue date cannot be in the future."),
    "expiry_required": _l("Enter the expiry date: only halal certificates may have none."),
    "expiry_before_issue": _l("The expiry date must come after the issue date."),
    "reason_required": _l("Give a reason."),
    "unknown_requirement": _l("Choose requirements from the list."),
    "cooperative_only": _l("Only the cooperative or an admin may change what a product needs."),
    "no_request": _l("No change is waiting for approval."),
    "second_person": _l("A second person approves a change: ask someone else of the cooperative."),
    "duplicate_number": _l("This product already has a certificate with this number. To record its new dates, "
                           "choose “renew” beside that certificate."),
}


@certification.get("/sertifikasi")
def about() -> str:
    return render_template("certification/about.html")


def _visible_products() -> list[Product]:
    query = select(Product).options(selectinload(Product.certifications), selectinload(Product.category),
                                    selectinload(Product.facility)).order_by(Product.name_id)
    if not current_user.has_role(Role.ADMIN, Role.FULFILMENT):
        query = query.where(Product.facility_id == current_user.facility_id)
    return list(db.session.scalars(query))


@certification.get("/staf/sertifikat")
@login_required
@role_required(*MANAGERS)
def staff_list() -> str:
    rows = [(product, service.requirement_states(product)) for product in _visible_products()]
    rows = [(p, states) for p, states in rows if states or p.required_certs_override is not None]
    if request.args.get("sort", "expiry") == "expiry":
        rows.sort(key=lambda row: min((s.certificate.expires_on for s in row[1]
                                       if s.certificate and s.certificate.expires_on), default=date.max))
    return render_template("certification/staff_list.html", rows=rows, sort=request.args.get("sort", "expiry"),
                           **_panel_context())


@certification.route("/staf/sertifikat/produk/<int:product_id>", methods=["GET", "POST"])
@login_required
@role_required(*MANAGERS)
def staff_product(product_id: int) -> str | Response:
    product = product_for_staff(product_id)
    form = CertificateForm(prefix="cert")
    if request.method == "POST" and form.validate_on_submit():
        try:
            upload = form.document.data
            document = save_private_document(upload.read(), "certificates") if upload and upload.filename else None
            renews = db.session.get(Certification, positive_int(request.args.get("renew")) or 0)
            service.add_certificate(product, service.CertificateInput(
                cert_type=CertType(form.cert_type.data), number=form.number.data or "",
                issuer=form.issuer.data or "", issued_on=form.issued_on.data, expires_on=form.expires_on.data,
                in_process=bool(form.in_process.data), document=document), actor=current_user,
                renews=renews if renews and renews.product_id == product.id else None)
        except InvalidNumber as error:
            form.number.errors = [_("A Ketetapan Halal (KH) number is a decision, not a certificate: enter the "
                                    "certificate number (%(form)s).", form=error.expected) if error.reason == "kh"
                                  else _("This number does not have the right form: %(form)s.",
                                         form=error.expected)]
        except DocumentRejected as error:
            form.document.errors = [_("The file is empty.") if error.reason == "empty" else error.message]
        except service.CertificationError as error:
            getattr(form, error.field).errors = [str(PROBLEMS[str(error)])]
        else:
            db.session.commit()
            flash(_("Certificate saved."), "success")
            return redirect(url_for("certification.staff_product", product_id=product.id))
    return render_template("certification/staff_product.html", product=product, form=form,
                           states=service.requirement_states(product), revoke_form=RevokeForm(prefix="revoke"),
                           override_form=OverrideForm(prefix="override", data={
                               "follow_category": product.required_certs_override is None,
                               "requirements": service.required(product)}),
                           history=service.certificate_history(product))


def _certificate_for_staff(cert_id: int) -> Certification:
    cert = db.session.get(Certification, cert_id)
    if cert is None:
        abort(404)
    product_for_staff(cert.product_id)
    return cert


@certification.post("/staf/sertifikat/<int:cert_id>/cabut")
@login_required
@role_required(*MANAGERS)
def revoke(cert_id: int) -> Response:
    cert = _certificate_for_staff(cert_id)
    form = RevokeForm(prefix="revoke")
    try:
        service.revoke_certificate(cert, reason=form.reason.data or "", actor=current_user)
    except service.CertificationError:
        flash(_("Give the reason for revoking the certificate."), "error")
    else:
        db.session.commit()
        flash(_("Certificate revoked."), "success")
    return redirect(url_for("certification.staff_product", product_id=cert.product_id))


@certification.post("/staf/sertifikat/<int:cert_id>/komposisi-berubah")
@login_required
@role_required(*MANAGERS)
def composition_changed(cert_id: int) -> Response:
    cert = _certificate_for_staff(cert_id)
    try:
        service.mark_composition_changed(cert, note=request.form.get("note", ""), actor=current_user)
    except service.CertificationError:
        flash(_("Only a halal certificate ends when the recipe changes; revoke this one instead if it no "
                "longer holds."), "error")
    else:
        db.session.commit()
        flash(_("Marked: the recipe changed, so this halal certificate no longer holds."), "success")
    return redirect(url_for("certification.staff_product", product_id=cert.product_id))


@certification.post("/staf/sertifikat/produk/<int:product_id>/persyaratan")
@login_required
@role_required(*MANAGERS)
def override(product_id: int) -> Response:
    product = product_for_staff(product_id)
    form = OverrideForm(prefix="override")
    requirements = None if form.follow_category.data else list(form.requirements.data or [])
    try:
        service.override_requirements(product, requirements, reason=form.reason.data or "", actor=current_user)
    except service.CertificationError as error:
        flash(str(PROBLEMS[str(error)]), "error")
    else:
        db.session.commit()
        flash(_("Change saved: it applies once a second person of the cooperative approves it."), "success")
    return redirect(url_for("certification.staff_product", product_id=product.id))


@certification.post("/staf/sertifikat/produk/<int:product_id>/persyaratan/<any(setujui, tolak):decision>")
@login_required
@role_required(Role.ADMIN, Role.FULFILMENT)
def decide_override(product_id: int, decision: str) -> Response:
    product = product_for_staff(product_id)
    decide = service.approve_requirements if decision == "setujui" else service.reject_requirements
    commit_or_refuse(lambda: decide(product, actor=current_user), {service.CertificationError: problem(PROBLEMS)},
                     _("Requirements approved: they apply now.") if decision == "setujui"
                     else _("The change was turned down."))
    return redirect(url_for("certification.staff_product", product_id=product.id))


@certification.get("/staf/sertifikat/<int:cert_id>/dokumen")
@login_required
@role_required(*MANAGERS)
def document(cert_id: int) -> Response:
    cert = _certificate_for_staff(cert_id)
    if not cert.document:
        abort(404)
    return send_private_document(cert.document)
