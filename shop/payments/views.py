"""Payment pages: the buyer's payment step (card or bank transfer), and the staff's payments screen."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.extensions import db
from shop.i18n import current_language, rupiah
from shop.orders.models import Order
from shop.orders.visitor import order_for_visitor
from shop.outbox import service as outbox
from shop.payments import (
    midtrans_gateway,
    online,
    payments,
    providers,
    service,
    webhooks,  # noqa: F401 (registers the webhook routes)
)
from shop.payments import stripe_gateway as gateway
from shop.payments.forms import ConfirmTransferForm, RefundForm, RejectTransferForm
from shop.payments.models import Payment, PaymentMethod, PaymentStatus, channel_label
from shop.uploads import DocumentRejected, save_private_document, send_private_document
from shop.web import commit_or_refuse, public_url, qr_svg, whole_number

STAFF = (Role.ADMIN, Role.FULFILMENT)
register_staff_link("payments.review", _l("Payments"), Role.ADMIN, Role.FULFILMENT, Role.FINANCE,
                    count=lambda user: service.transfers_to_check())


# -- the buyer's payment step

@payments.get("/pesanan/<number>/bayar")
def pay(number: str) -> str:
    order = order_for_visitor(number)
    history = service.order_payments(order)
    transfer = next((p for p in reversed(history) if p.method is PaymentMethod.BANK_TRANSFER), None)
    attempt = next((p for p in reversed(history) if p.method is PaymentMethod.MIDTRANS), None)
    return render_template("payments/pay.html", order=order, transfer=transfer, payments=history,
                           under_review=service.transfer_under_review(order),
                           card_available=service.card_available(order), card_limits=service.card_limits(),
                           card_configured=gateway.is_configured(), bank=current_app.config["BANK_ACCOUNT"],
                           online_available=online.available(order), channels=online.channels(),
                           online_payment=attempt if attempt and attempt.status is PaymentStatus.PENDING else None,
                           channel_label=channel_label, qr_svg=qr_svg)


@payments.post("/pesanan/<number>/bayar/online")
def pay_online(number: str) -> Response:
    """The buyer chose QRIS, an e-wallet, a virtual account or a minimarket: off to Midtrans's page for it."""
    order = order_for_visitor(number)
    try:
        payment = online.start(order, request.form.get("channel", ""),
                               finish_url=public_url("payments.online_return", number=number))
    except service.NotPayable:
        flash(_("This order can no longer be paid."), "error")
    except service.PaymentError:
        flash(_("Choose one of the ways to pay shown."), "error")
    except midtrans_gateway.GatewayError:
        db.session.rollback()
        current_app.logger.exception("Midtrans Snap could not be started for %s", number)
        flash(_("This way to pay is not available right now. Please try again in a moment, or choose another."),
              "error")
    else:
        db.session.commit()
        return redirect(payment.checkout_url, code=303)
    db.session.commit()
    return redirect(url_for("payments.pay", number=number))


@payments.get("/pesanan/<number>/bayar/online/selesai")
def online_return(number: str) -> Response:
    """Back from Midtrans: what its status API says now is applied (the notification may still be on its way); the
    query string Midtrans adds is never believed."""
    order = order_for_visitor(number)
    attempt = db.session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.MIDTRANS).order_by(Payment.id.desc()))
    if attempt is not None and attempt.status is PaymentStatus.PENDING:
        try:
            online.check(attempt)
            db.session.commit()
            outbox.deliver_after_commit()
        except midtrans_gateway.GatewayError:
            db.session.rollback()
            current_app.logger.warning("Midtrans status unavailable on the return of %s", number)
    return redirect(url_for("payments.pay", number=number))


@payments.get("/pesanan/<number>/status.json")
def order_status(number: str) -> Response:
    """What the waiting payment page polls: the order's and its latest payment's status (no third-party script)."""
    order = order_for_visitor(number)
    latest = db.session.scalar(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id.desc()))
    answer = jsonify({"order": order.status.value, "payment": latest.status.value if latest else None})
    answer.headers["Cache-Control"] = "no-store"
    return answer


@payments.post("/pesanan/<number>/bayar/kartu")
def pay_by_card(number: str) -> Response:
    order = order_for_visitor(number)
    try:
        payment = service.start_card_payment(
            order, locale=current_language(),
            success_url=public_url("payments.card_return", number=number),
            cancel_url=public_url("payments.pay", number=number, cancelled=1))
    except service.AmountBelowMinimum as error:
        flash(_("Card payments start at %(amount)s; please pay by bank transfer.",
                amount=rupiah(int(str(error)))), "error")
    except service.AmountAboveCardLimit as error:
        flash(_("Card payments are limited to %(amount)s; please pay by bank transfer.",
                amount=rupiah(int(str(error)))), "error")
    except service.NotPayable:
        flash(_("This order can no longer be paid."), "error")
    except gateway.GatewayError:
        db.session.rollback()
        current_app.logger.exception("Stripe Checkout could not be started for %s", number)
        flash(_("Card payment is not available right now. Please try again in a moment or pay by bank "
                "transfer."), "error")
    else:
        db.session.commit()
        return redirect(payment.checkout_url, code=303)
    db.session.commit()
    return redirect(url_for("payments.pay", number=number))


@payments.get("/pesanan/<number>/bayar/selesai")
def card_return(number: str) -> str:
    """Back from Stripe: only the webhook decides the order is paid; this page says what is known now."""
    order = order_for_visitor(number)
    return render_template("payments/card_return.html", order=order)


@payments.post("/pesanan/<number>/bayar/transfer")
def pay_by_transfer(number: str) -> Response:
    order = order_for_visitor(number)
    try:
        service.start_bank_transfer(order)
    except service.NotPayable:
        flash(_("This order can no longer be paid."), "error")
    db.session.commit()
    return redirect(url_for("payments.pay", number=number, _anchor="transfer"))


@payments.post("/pesanan/<number>/bayar/transfer/bukti")
def upload_receipt(number: str) -> Response:
    order = order_for_visitor(number)
    payment = db.session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.BANK_TRANSFER).order_by(Payment.id.desc()))
    upload = request.files.get("receipt")
    if payment is None:
        abort(404)
    try:
        stored = save_private_document(upload.read() if upload else b"", "receipts")
        service.submit_transfer_receipt(payment, stored, request.form.get("note", ""))
    except DocumentRejected as error:
        flash({"empty": _("Choose the photo or PDF of your transfer receipt."),
               "too_large": _("The file is too large: at most %(mb)d MB.",
                              mb=current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024))}.get(error.reason)
              or error.message, "error")
    except service.NotPayable:
        flash(_("This order can no longer be paid."), "error")
    else:
        flash(_("Thank you! We check your transfer and confirm the payment soon."), "success")
    db.session.commit()
    return redirect(url_for("payments.pay", number=number, _anchor="transfer"))


# -- staff

@payments.get("/staf/pembayaran")
@login_required
@role_required(*STAFF, Role.FINANCE)
def review() -> str:
    waiting = db.session.scalars(select(Payment).where(
        Payment.method == PaymentMethod.BANK_TRANSFER,
        Payment.status.in_([PaymentStatus.SUBMITTED, PaymentStatus.PENDING]))
        .options(selectinload(Payment.order)).order_by(Payment.receipt_uploaded_at.is_(None), Payment.id)).all()
    recent = db.session.scalars(select(Payment).where(Payment.status == PaymentStatus.SUCCEEDED)
                                .options(selectinload(Payment.order))
                                .order_by(Payment.paid_at.desc()).limit(50)).all()
    return render_template("payments/review.html", waiting=waiting, recent=recent)


@payments.get("/staf/pesanan/<number>/pembayaran")
@login_required
@role_required(*STAFF, Role.FINANCE)
def order_payments(number: str) -> str:
    order = db.session.scalar(select(Order).where(Order.number == number))
    if order is None:
        abort(404)
    history = service.order_payments(order)
    return render_template("payments/order.html", order=order, payments=history, money=service.money_of(history),
                           provider=providers.of, needs_transfer_reference=service.needs_transfer_reference,
                           confirm_form=ConfirmTransferForm(), reject_form=RejectTransferForm(),
                           refund_form=RefundForm(key=service.new_refund_key()), left=service.refundable(order),
                           line_names={line.id: line.name for line in order.lines},
                           can_act=current_user.has_role(*STAFF))


def _payment_or_404(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        abort(404)
    return payment


@payments.post("/staf/pembayaran/<int:payment_id>/konfirmasi")
@login_required
@role_required(*STAFF)
def confirm(payment_id: int) -> Response:
    payment = _payment_or_404(payment_id)
    form = ConfirmTransferForm()
    if not form.validate():
        flash(_("Enter the bank reference of the transfer."), "error")
    elif commit_or_refuse(
            lambda: service.confirm_transfer(payment, reference=form.reference.data, actor=current_user,
                                             fee=form.fee.data or 0),
            {service.NotPayable: lambda error: _("This payment cannot be confirmed: %(state)s.", state=str(error)),
             service.PaymentError: lambda _error: _("The bank charge must be less than the amount transferred.")},
            _("Payment confirmed; the order is paid.")):
        outbox.deliver_after_commit()
    return redirect(url_for("payments.order_payments", number=payment.order.number))


@payments.post("/staf/pembayaran/<int:payment_id>/tolak")
@login_required
@role_required(*STAFF)
def reject(payment_id: int) -> Response:
    payment = _payment_or_404(payment_id)
    form = RejectTransferForm()
    if not form.validate():
        flash(_("Give the reason for rejecting the transfer."), "error")
    elif commit_or_refuse(
            lambda: service.reject_transfer(payment, reason=form.reason.data, actor=current_user),
            {service.PaymentError: lambda error: _("This payment cannot be rejected: %(state)s.", state=str(error))},
            _("Transfer rejected; the buyer sees the reason and may send another receipt.")):
        outbox.deliver_after_commit()
    return redirect(url_for("payments.order_payments", number=payment.order.number))


def _stripe_refused(_error: Exception) -> str:
    current_app.logger.exception("Stripe refused a refund")
    return _("Stripe did not accept the refund; nothing was recorded. Try again later.")


def _midtrans_refused(_error: Exception) -> str:
    current_app.logger.exception("Midtrans refused a refund")
    return _("Midtrans did not accept the refund; nothing was recorded. Try again later, or refund by bank transfer.")


@payments.post("/staf/pembayaran/<int:payment_id>/cek-midtrans")
@login_required
@role_required(*STAFF)
def check_online(payment_id: int) -> Response:
    """After a missed notification: read the payment's status from Midtrans and apply it."""
    payment = _payment_or_404(payment_id)
    if not providers.of(payment).checkable:
        abort(404)
    outcome = commit_or_refuse(lambda: online.check(payment), {midtrans_gateway.GatewayError: lambda _error: _(
        "Midtrans could not be asked right now; nothing changed. Try again in a moment.")})
    if outcome is not None:
        outbox.deliver_after_commit()
        flash(_("Midtrans says: %(status)s. The payment is now: %(payment)s.",
                status=payment.provider_status or _("not chosen yet"), payment=payment.status.label), "success")
    return redirect(url_for("payments.order_payments", number=payment.order.number))


@payments.post("/staf/pembayaran/<int:payment_id>/refund")
@login_required
@role_required(*STAFF)
def refund(payment_id: int) -> Response:
    payment = _payment_or_404(payment_id)
    form = RefundForm()
    back = redirect(url_for("payments.order_payments", number=payment.order.number))
    if not form.validate() or not form.key.data:
        flash(_("Enter the amount in whole rupiah and the reason."), "error")
        return back
    quantities = {line.id: whole_number(request.form.get(f"qty-{line.id}") or "0")
                  for line in payment.order.lines}
    if any(quantity is None for quantity in quantities.values()):
        flash(_("Enter how many units of each product the refund is for (0 or more, at most those bought)."), "error")
        return back

    def give_back() -> object:
        items = service.refund_items(payment.order, quantities={k: v or 0 for k, v in quantities.items()},
                                     shipping=form.shipping.data, amount=form.amount.data)
        return service.refund(payment, amount=sum(item.amount for item in items), reason=form.reason.data,
                              key=form.key.data, actor=current_user,
                              transfer_reference=form.transfer_reference.data or "", items=items)

    if commit_or_refuse(give_back, {
            service.NothingChosen: lambda _error: _("Choose what the refund is for: the units of each product, and "
                                                    "the shipping if it goes back too."),
            service.TooManyUnits: lambda error: _("%(product)s: more units than are left to refund.",
                                                  product=str(error)),
            service.RefundTooLarge: lambda error: _("At most %(amount)s can be refunded for what was chosen.",
                                                    amount=rupiah(int(str(error)))),
            service.PaymentError: lambda _error: _("Enter the reference of the transfer that returned the money."),
            gateway.GatewayError: _stripe_refused, midtrans_gateway.GatewayError: _midtrans_refused},
            _("Refund recorded.")):
        outbox.deliver_after_commit()
    return back


@payments.get("/staf/pembayaran/<int:payment_id>/bukti")
@login_required
@role_required(*STAFF, Role.FINANCE)
def receipt(payment_id: int) -> Response:
    payment = _payment_or_404(payment_id)
    if not payment.receipt:
        abort(404)
    return send_private_document(payment.receipt)
