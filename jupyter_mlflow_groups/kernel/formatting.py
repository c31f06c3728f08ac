"""Sizes, times, durations and compared versions as the widgets and the magics show them: one
form everywhere.

Sizes are decimal SI (1 kB = 1000 B), as the sidebar shows them: one decimal below 100, none
from 100 up, and never "1000 kB" (that rounds up to "1.0 MB"). Times are the kernel's local
time to the minute (`2026-12-02 08:39`); lists people scan use relative times ("3 min ago").
DataFrames keep real datetimes: these are for text only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

NOTHING = "—"
UNITS = ("B", "kB", "MB", "GB", "TB")


def format_bytes(count: float | None) -> str:
    """`999 B`, `1.0 kB`, `99.9 kB`, `100 kB`, `1.0 MB` (999.95 kB rounds up to it)."""
    if count is None:
        return NOTHING
    value, unit = float(count), 0
    # the thresholds are where rounding would show "1000" (0 decimals) in the unit below
    while abs(value) >= 999.5 and unit < len(UNITS) - 1:
        value /= 1000
        unit += 1
    if unit == 0:
        return f"{value:.0f} B"
    if abs(value) >= 99.95:
        return f"{value:.0f} {UNITS[unit]}"
    return f"{value:.1f} {UNITS[unit]}"


def format_model_size(size: Mapping[str, int] | None) -> str:
    """`2.1 kB in 2 files`; `unknown` where MLflow could not list the model's files."""
    if not size:
        return "unknown"
    files = size["files"]
    return f"{format_bytes(size['bytes'])} in {files} {'file' if files == 1 else 'files'}"


def format_rate(bytes_per_second: float | None) -> str:
    return f"{format_bytes(bytes_per_second)}/s" if bytes_per_second is not None else NOTHING


def format_duration(seconds: float | None) -> str:
    """`45 s`, `3 min 5 s`, `1 h 2 min`."""
    if seconds is None:
        return NOTHING
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min {whole % 60} s"
    return f"{minutes // 60} h {minutes % 60} min"


def parse_time(iso: str | None) -> dt.datetime | None:
    """An ISO timestamp from the API (`...Z` or with an offset) in the kernel's local time."""
    if not iso:
        return None
    try:
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # the API always says; a naive one is taken as UTC
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone()


def format_time(iso: str | None) -> str:
    """`2026-12-02 08:39`: local time, 24 h, to the minute (the ISO text if unreadable)."""
    moment = parse_time(iso)
    if moment is None:
        return iso or NOTHING
    return moment.strftime("%Y-%m-%d %H:%M")


def full_time(iso: str | None) -> str:
    """The exact moment, in ISO form with the local offset: what a tooltip shows."""
    moment = parse_time(iso)
    return moment.isoformat() if moment is not None else (iso or "")


def format_relative(iso: str | None, now: dt.datetime | None = None) -> str:
    """`just now`, `3 min ago`, `2 h ago`, `yesterday`, then the day (`2026-11-28`)."""
    moment = parse_time(iso)
    if moment is None:
        return iso or NOTHING
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone()
    seconds = (now - moment).total_seconds()
    if -60 < seconds < 60:
        return "just now"
    if seconds < 0:  # in the future: a clock ahead of ours; say exactly when
        return format_time(iso)
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if moment.date() == now.date() - dt.timedelta(days=1):
        return "yesterday"
    return moment.strftime("%Y-%m-%d")


def column_label(version: Mapping[str, Any]) -> str:
    """A compared version's heading: `v3`, or `v5 (@challenger)` when asked for by an alias."""
    aliases = [name for name in version["requested"] if name.startswith("@")]
    return f"v{version['version']}" + (f" ({', '.join(aliases)})" if aliases else "")
