"""Staff forms for certificates."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shop.certification.models import REQUIREMENT_LABELS, CertType
from shop.forms import ShopForm

REQUIRED = _l("This field is required.")


class LocalDateField(DateField):
    """A date field whose error is in the shop's languages (WTForms ships no Indonesian catalog)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("Enter a date like 2026-11-23."))) from error


class CertificateForm(ShopForm):
    cert_type = SelectField(_l("Type"), choices=[SelectChoice(t.value, t.label) for t in CertType],
                            validators=[DataRequired(REQUIRED)])
    number = StringField(_l("Number"), validators=[Optional(), Length(max=40)])
    issuer = StringField(_l("Issued by"), validators=[DataRequired(REQUIRED), Length(max=160)])
    issued_on = LocalDateField(_l("Issue date"), validators=[Optional()], format="%Y-%m-%d")
    expires_on = LocalDateField(_l("Expiry date (optional for halal)"), validators=[Optional()], format="%Y-%m-%d")
    in_process = BooleanField(_l("Applied for, not granted yet (in process)"))
    document = FileField(_l("Scanned certificate (PDF, JPEG or PNG)"))


class RevokeForm(ShopForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=1000)])


class OverrideForm(ShopForm):
    follow_category = BooleanField(_l("Follow the category's requirements"))
    requirements = SelectMultipleField(
        _l("This product needs"), choices=[SelectChoice(k, v) for k, v in REQUIREMENT_LABELS.items()],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False), validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=1000)])
