"""Wall-clock arithmetic of the send window, in the recipient's time zone.

Dates of the engine are naive UTC; a window is read on the recipient's wall
clock. ``zoneinfo`` knows the daylight-saving rules: a wall time that does not
exist (the spring gap) opens at the first instant after it, a wall time that
exists twice (the autumn overlap) opens at its first occurrence."""

from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# enough to find the next weekday, whatever the window and the day
MAX_DAYS_AHEAD = 8


@cache
def get_zone(name):
    """The time zone called ``name``, or None when it is empty or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def first_zone(*names):
    """The first known time zone among ``names``, else UTC."""
    return next((zone for zone in map(get_zone, names) if zone), UTC)


def to_utc(wall, zone):
    """The naive UTC instant at which the wall clock of ``zone`` shows
    ``wall`` (its first occurrence), or the first instant after it when
    ``wall`` falls in a gap."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first.replace(tzinfo=None)
    # in a gap: the clock jumps over ``wall`` at the transition, which lies
    # between the two readings of it; find it to the second
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(tzinfo=None, microsecond=0)


def _wall(day, hours):
    return datetime.combine(day, time()) + timedelta(hours=hours)


def _window(day, hour_from, hour_to):
    """The wall-clock interval of the window that opens on ``day``: an
    overnight window (22 to 6) closes the next day."""
    if not hour_from and not hour_to:
        return _wall(day, 0), _wall(day, 24)
    if hour_from < hour_to:
        return _wall(day, hour_from), _wall(day, hour_to)
    return _wall(day, hour_from), _wall(day + timedelta(days=1), hour_to)


def next_opening(due, zone, hour_from, hour_to, weekdays_only):
    """``due`` (naive UTC) when the window is open then on the wall clock of
    ``zone``, else the next instant it opens (naive UTC). With
    ``weekdays_only`` the window opens Monday to Friday: an overnight window
    opening on Friday evening runs until Saturday morning, none runs on
    Monday morning."""
    local = due.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
    # from the window that opened the day before: an overnight one may still be open
    for offset in range(-1, MAX_DAYS_AHEAD):
        day = local.date() + timedelta(days=offset)
        if weekdays_only and day.weekday() >= 5:
            continue
        start, end = _window(day, hour_from, hour_to)
        if start <= local < end:
            return due
        if local < start:
            opening = to_utc(start, zone)
            if opening < due:
                # ``due`` is in the second pass of an autumn overlap: so is the opening
                opening = start.replace(tzinfo=zone, fold=1).astimezone(UTC)
                opening = opening.replace(tzinfo=None)
            return opening
    return due


def has_window(hour_from, hour_to, weekdays_only):
    return bool(hour_from or hour_to or weekdays_only)
