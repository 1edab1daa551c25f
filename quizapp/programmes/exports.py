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


def csv_chunks(records: Iterable[list[Any]], every: int = 500) -> Iterator[str]:
    """The records as CSV text, every cell through :func:`safe_cell`, yielded
    ``every`` lines at a time (few, large writes for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for n, record in enumerate(records, 1):
        writer.writerow([safe_cell(value) for value in record])
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
