"""Registration form for customer accounts."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from shop.accounts.service import MIN_PASSWORD_LENGTH
from shop.forms import ShopForm


class RegisterForm(ShopForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("This field is required.")), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address."))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("This field is required.")),
        Length(min=MIN_PASSWORD_LENGTH, message=_l("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH))])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", message=_l("The two passwords differ."))])


class ForgotForm(ShopForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)])


class NewPasswordForm(ShopForm):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("This field is required.")),
        Length(min=MIN_PASSWORD_LENGTH, message=_l("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH))])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", message=_l("The two passwords differ."))])
