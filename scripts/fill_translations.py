"""Fill Indonesian msgstr entries from a JSON file of {msgid: msgstr} (or [singular, plural] for plurals).

Usage: .venv/bin/python scripts/fill_translations.py FILE.json
Existing translations are kept unless the JSON names the msgid again.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po

PATH = "shop/translations/id/LC_MESSAGES/messages.po"


def main(source: str) -> None:
    with open(source, encoding="utf-8") as fh:
        table = json.load(fh)
    with open(PATH, "rb") as fh:
        catalog = read_po(fh, locale="id")
    catalog.fuzzy = False
    filled = 0
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key in table:
            value = table[key]
            message.string = tuple(value) if isinstance(message.id, tuple) else value
            filled += 1
    with open(PATH, "wb") as fh:
        write_po(fh, catalog, omit_header=False, width=100)
    print(f"filled {filled} of {len(table)}")


if __name__ == "__main__":
    main(sys.argv[1])
