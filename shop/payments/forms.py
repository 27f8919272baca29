"""Staff forms for payments: confirm or reject a transfer, refund."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from shop.forms import ShopForm


class ConfirmTransferForm(ShopForm):
    reference = StringField(_l("Bank reference of the transfer"), validators=[
        DataRequired(_l("This field is required.")), Length(max=120)])
    fee = IntegerField(_l("Bank charge deducted, if any (Rp)"), default=0, validators=[
        Optional(), NumberRange(min=0, message=_l("Enter the amount in whole rupiah."))])


class RejectTransferForm(ShopForm):
    reason = TextAreaField(_l("Reason (shown to the buyer)"), validators=[
        DataRequired(_l("This field is required.")), Length(max=1000)])


class RefundForm(ShopForm):
    key = HiddenField(validators=[Length(max=64)])  # new_refund_key(): 22 characters
    # What the refund is for: units per order line (fields `qty-<line id>`, read by the view) and the shipping.
    shipping = BooleanField(_l("Refund the shipping too"))
    # Empty: the full price of the chosen units (and the shipping). An amount: only that much, spread over them.
    amount = IntegerField(_l("Only part of their value (Rp, optional)"), validators=[
        Optional(), NumberRange(min=1, message=_l("Enter the amount in whole rupiah."))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("This field is required.")), Length(max=1000)])
    transfer_reference = StringField(_l("Reference of the refund transfer (bank transfer only)"),
                                     validators=[Optional(), Length(max=120)])
