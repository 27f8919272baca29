"""The checkout form: buyer, Indonesian address, courier. Phones become E.164, emails are checked."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from shop.forms import ShopForm
from shop.shipping.provinces import POSTCODE_PREFIXES, PROVINCES

REQUIRED = _l("This field is required.")


def required() -> DataRequired:
    return DataRequired(message=REQUIRED)


def normalise_phone(raw: str) -> str:
    """An Indonesian phone number (08…, 62…, +62…) as E.164, or ValueError."""
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException as error:
        raise ValueError(str(error)) from error
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        raise ValueError(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_landline(number: str) -> bool:
    """A fixed line (0451 421234 in Palu), which cannot get WhatsApp messages; a mobile number (08…) can."""
    return phonenumbers.number_type(phonenumbers.parse(number, "ID")) == phonenumbers.PhoneNumberType.FIXED_LINE


class CheckoutForm(ShopForm):
    name = StringField(_l("Recipient's name"), validators=[required(), Length(max=120)])
    email = StringField(_l("Email"), validators=[required(), Length(max=254)])
    phone = StringField(_l("Phone (WhatsApp)"), validators=[required(), Length(max=30)])
    street = StringField(_l("Street, house number"), validators=[required(), Length(max=200)])
    rt_rw = StringField(_l("RT/RW"), validators=[Optional(), Length(max=20)])
    kelurahan = StringField(_l("Kelurahan / desa"), validators=[required(), Length(max=100)])
    kecamatan = StringField(_l("Kecamatan"), validators=[required(), Length(max=100)])
    city = StringField(_l("Kabupaten / kota"), validators=[required(), Length(max=100)])
    province = SelectField(_l("Province"), validators=[required()], validate_choice=False,
                           choices=[SelectChoice("", _l("Choose a province"))]
                           + [SelectChoice(p, p) for p in PROVINCES])
    postal_code = StringField(_l("Postal code"), validators=[required()])
    courier = RadioField(_l("Courier"), coerce=str, validate_choice=False)
    notes = TextAreaField(_l("Notes for the seller"), validators=[Optional(), Length(max=1000)])

    def validate_email(self, field: Any) -> None:
        try:
            field.data = validate_email(field.data.strip(), check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValidationError(_l("Enter a valid email address, like nama@contoh.id.")) from error

    @property
    def landline(self) -> bool:
        """The phone typed is a fixed line: the courier can call it, but it gets no WhatsApp (said as soon as the
        prices are asked for, before the order)."""
        try:
            return is_landline(normalise_phone(self.phone.data or ""))
        except ValueError:
            return False

    def validate_phone(self, field: Any) -> None:
        try:
            field.data = normalise_phone(field.data)
        except ValueError as error:
            raise ValidationError(_l("Enter an Indonesian phone number, like 0812 3456 7890 or +62 812 3456 7890.")
                                  ) from error

    def validate_province(self, field: Any) -> None:
        if field.data not in PROVINCES:
            raise ValidationError(_l("Choose a province from the list."))

    def validate_postal_code(self, field: Any) -> None:
        field.data = (field.data or "").strip()
        if not re.fullmatch(r"[1-9]\d{4}", field.data):
            raise ValidationError(_l("A postal code has 5 digits, like 94111."))
        prefixes = POSTCODE_PREFIXES.get(self.province.data or "")
        if prefixes and field.data[:2] not in prefixes:
            raise ValidationError(_l("Postal codes in %(province)s start with %(prefixes)s: check the postal code or "
                                     "the province.", province=self.province.data, prefixes=" / ".join(prefixes)))

    def validate_rt_rw(self, field: Any) -> None:
        text = (field.data or "").strip()
        if not text:
            return
        found = re.fullmatch(r"(\d{1,3})\s*/\s*(\d{1,3})", text)
        if found is None:
            raise ValidationError(_l("Write RT/RW as two numbers, like 003/005, or leave it empty."))
        field.data = f"{int(found[1]):03d}/{int(found[2]):03d}"

    def validate_courier(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a courier."))
        if field.data not in {choice.value for choice in field.choices or []}:
            raise ValidationError(_l("This courier does not deliver to the chosen province."))
