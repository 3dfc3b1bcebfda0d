"""Calendar helpers shared by syncs and reports (Search Console days are UTC dates)."""

import datetime as dt


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def date_range(start_date: dt.date, end_date: dt.date) -> list[dt.date]:
    """Every day from ``start_date`` to ``end_date``, both included."""
    return [start_date + dt.timedelta(days=offset) for offset in range((end_date - start_date).days + 1)]


def week_start(day: dt.date) -> dt.date:
    """The Monday of the day's ISO week (as PostgreSQL's ``date_trunc('week', ...)``)."""
    return day - dt.timedelta(days=day.weekday())
