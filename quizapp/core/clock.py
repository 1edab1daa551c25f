"""The only clock in quizapp.

Every deadline, timestamp and window check calls :func:`now`, so tests can freeze
time with :func:`frozen` instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return _source()


@contextmanager
def frozen(at: datetime) -> Iterator[Callable[[datetime], None]]:
    """Freeze :func:`now` at ``at``; the yielded function moves the frozen time.

    :raise ValueError: if ``at`` is naive.
    """
    global _source
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    current = [at.astimezone(UTC)]
    previous = _source
    _source = lambda: current[0]  # noqa: E731

    def move_to(when: datetime) -> None:
        current[0] = when.astimezone(UTC)

    try:
        yield move_to
    finally:
        _source = previous


def _zone():
    from zoneinfo import ZoneInfo

    from flask import current_app

    return ZoneInfo(current_app.config["QUIZAPP_TIMEZONE"])


def to_local(moment: datetime | None) -> datetime | None:
    """An aware UTC time as the naive wall-clock time of the configured zone (what a
    ``datetime-local`` form field shows)."""
    return moment.astimezone(_zone()).replace(tzinfo=None) if moment else None


def from_local(local: datetime | None) -> datetime | None:
    """A naive wall-clock time of the configured zone (from a form) in UTC."""
    return local.replace(tzinfo=_zone()).astimezone(UTC) if local else None
