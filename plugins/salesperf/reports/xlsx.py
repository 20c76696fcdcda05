"""The XLSX attachment of a manager's team report (openpyxl, write-only mode).

Text cells from the CRM that a spreadsheet would read as a formula (leading = + - @, or a
tab/CR) get a leading apostrophe, so opening the file never evaluates CRM content.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from openpyxl import Workbook

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def workbook(sheets: list[tuple[str, list[str], list[list]]]) -> bytes:
    """``sheets``: (title, header, rows) -> the .xlsx file's bytes."""
    wb = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.append(header)
        for row in rows:
            ws.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
