"""What a text cell of an export may hold: no control characters (XLSX cannot store them) and no formula (a
note typed as "=HYPERLINK(…)" must open as text in a spreadsheet, not run)."""

from __future__ import annotations

import re
from typing import Any

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Numbers and dates as they are; text without control characters, and with a leading apostrophe when it
    would start a formula."""
    if not isinstance(value, str):
        return value
    text = CONTROL.sub("", value)
    return "'" + text if text.startswith(FORMULA_START) else text
