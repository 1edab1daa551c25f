"""CSV for spreadsheets: cells that cannot run as formulas, written in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

#: A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text starting with ``= + - @``, a tab or a carriage return gets a leading
    single quote, so a spreadsheet shows it instead of running it; other values
    are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(
    records: Iterable[list[Any]],
    every: int = 500,
    text_columns: tuple[int, ...] | None = None,
) -> Iterator[str]:
    """The records as CSV text, yielded ``every`` lines at a time (few, large
    writes for a streamed response).

    :param text_columns: the positions of the cells people typed (names, schools),
        which go through :func:`safe_cell`; None: every cell does. Cells the app
        formats itself (numbers, dates) cannot start a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for n, record in enumerate(records, 1):
        if text_columns is None:
            record = [safe_cell(value) for value in record]
        else:
            record = list(record)
            for i in text_columns:
                record[i] = safe_cell(record[i])
        writer.writerow(record)
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
