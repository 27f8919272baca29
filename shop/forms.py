"""The shop's form base: WTForms' own messages ("This field is required.", "Field cannot be longer than …")
in the reader's language, from the shop's catalog (WTForms ships no Indonesian translation)."""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations, ngettext
from flask_babel import gettext as _
from flask_wtf import FlaskForm


class CatalogTranslations:
    """What WTForms asks for (gettext, ngettext), answered from the shop's own message catalog."""

    def gettext(self, string: str) -> str:
        return str(get_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(get_translations().ungettext(singular, plural, n))


TRANSLATIONS = CatalogTranslations()


class ShopForm(FlaskForm):
    """Every form of the shop: CSRF from Flask-WTF, messages in the reader's language."""

    class Meta:
        def get_translations(self, form: Any) -> CatalogTranslations:
            return TRANSLATIONS


def _wtforms_messages() -> None:  # pragma: no cover - never called: lists WTForms' texts for `pybabel extract`
    _("This field is required.")
    _("Invalid input.")
    _("Invalid email address.")
    _("Not a valid choice.")
    _("Not a valid integer value.")
    _("Not a valid decimal value.")
    _("Not a valid date value.")
    _("Number must be at least %(min)s.")
    _("Number must be at most %(max)s.")
    _("Number must be between %(min)s and %(max)s.")
    _("Field must be equal to %(other_name)s.")
    _("Field must be between %(min)d and %(max)d characters long.")
    _("The CSRF token is missing.")
    _("The CSRF token is invalid.")
    _("The CSRF token has expired.")
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 0)
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 0)
    ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 0)
