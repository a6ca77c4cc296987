"""`logs --since/--until` values, as Docker reads them, in the log records' time format.

Docker accepts an RFC 3339 timestamp (`2024-05-01T12:00:00Z`, fractions and offsets too),
a date or date-time without zone (read in the local time zone), a Unix timestamp
(`1714564800`, `1714564800.5`), or a Go duration relative to now (`42m`, `1h30m`, `10s`).
Log records carry `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` in UTC, so converted values compare
with them as strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from composer.errors import PycomposeError

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns))")
_UNIX = re.compile(r"\d+(?:\.\d{1,9})?")


def record_time(moment: datetime) -> str:
    """`moment` in the log records' format (UTC, nanoseconds)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def parse_log_time(flag: str, value: str, now: datetime) -> str:
    """The time `value` names, for comparison with log records; `now` for relative values."""
    text = value.strip()
    if _UNIX.fullmatch(text):
        return record_time(datetime.fromtimestamp(float(text), UTC))
    relative = _duration(text)
    if relative is not None:
        return record_time(now - relative)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PycomposeError(
            f'{flag}: cannot read "{value}" as a time',
            hint="use a timestamp (2024-05-01T12:00:00Z), a Unix time, or a duration such as 10m or 1h30m",
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # no zone given: local time, as Docker
    return record_time(moment)


def _duration(text: str) -> timedelta | None:
    """A Go duration (`1h30m`, `90s`, `1.5h`), or None when `text` is not one."""
    if not text or _DURATION.sub("", text) != "":
        return None
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    return timedelta(seconds=sum(float(n) * units[u] for n, u in _DURATION.findall(text)))
