"""The XLSX attachment of a manager's team report (openpyxl, write-only mode).

Text cells from the CRM that a spreadsheet would read as a formula (leading = + - @, or a
tab/CR) get a leading apostrophe, so opening the file never evaluates CRM content.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(ws, value, number_format: str | None):
    if number_format is None or value is None:
        return value
    cell = WriteOnlyCell(ws, value)
    cell.number_format = number_format
    return cell


def safe_cell(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def workbook(sheets: list[tuple]) -> bytes:
    """``sheets``: (title, header, rows) or (title, header, rows, formats) -> the .xlsx
    file's bytes; ``formats`` holds a number format (e.g. ``0.0%``) or None per column."""
    wb = Workbook(write_only=True)
    for title, header, rows, *rest in sheets:
        formats = rest[0] if rest else [None] * len(header)
        ws = wb.create_sheet(title=title[:31])
        ws.append(header)
        for row in rows:
            ws.append([_cell(ws, safe_cell(v), f) for v, f in zip(row, formats, strict=True)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
