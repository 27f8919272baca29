"""Every user-facing string has an Indonesian translation (the shop's first language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}


def test_every_translatable_string_has_an_indonesian_translation():
    method_map = [("shop/**.py", "python"), ("shop/templates/**.html", "jinja2"), ("shop/templates/**.txt", "jinja2")]
    found = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS,
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    with open(ROOT / "shop/translations/id/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="id")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }

    missing = sorted(found - translated)
    assert not missing, "run scripts/translations and translate: " + "; ".join(missing)


def test_the_catalogs_are_not_marked_fuzzy_so_pybabel_compiles_them():
    for language in ("id", "en"):
        with open(ROOT / f"shop/translations/{language}/LC_MESSAGES/messages.po", "rb") as fh:
            assert read_po(fh, locale=language).fuzzy is False, language


def test_templates_translate_in_the_language_in_force_even_when_a_mail_forces_another(app):
    """Templates find their translations by the locale in force (shop/i18n.py): a mail forced into the buyer's
    language in the middle of an Indonesian request is in that language, and the request goes on in its own."""
    from flask_babel import force_locale

    def render(source: str, **values: object) -> str:
        return app.jinja_env.from_string(source).render(**values)

    with app.test_request_context("/"):
        assert render("{{ _('Cart') }}") == "Keranjang"
        with force_locale("en"):
            assert render("{{ _('Cart') }} {{ ngettext('%(num)d item', '%(num)d items', 3) }}") == "Cart 3 items"
        assert render("{{ ngettext('%(num)d item', '%(num)d items', 3) }}") == "3 barang"
        assert render("{{ _('Hello %(name)s', name=who) }}", who="<b>") == "Hello &lt;b&gt;"  # escaped
