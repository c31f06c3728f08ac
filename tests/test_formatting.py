"""The one way the kernel side writes sizes, times and durations (widgets and magics alike)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

from jupyter_mlflow_groups.kernel.formatting import (
    format_bytes,
    format_duration,
    format_model_size,
    format_rate,
    format_relative,
    format_time,
    full_time,
)


@pytest.fixture
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The kernel's local time is Paris (UTC+1 in December)."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (999.4, "999 B"),
        (999.5, "1.0 kB"),  # never "1000 B"
        (1000, "1.0 kB"),
        (1536, "1.5 kB"),
        (99_940, "99.9 kB"),
        (99_950, "100 kB"),  # 99.95 kB: no decimal from 100 up
        (123_456, "123 kB"),
        (999_400, "999 kB"),
        (999_950, "1.0 MB"),  # 999.95 kB: never "1000 kB"
        (1_000_000, "1.0 MB"),
        (200 * 1024 * 1024, "210 MB"),  # decimal: 209.7 MB
        (12_300_000_000, "12.3 GB"),
        (5e15, "5000 TB"),  # the largest unit goes on counting
        (None, "—"),
    ],
)
def test_sizes_are_decimal_si_with_the_rounding_edges(count, shown):
    assert format_bytes(count) == shown


def test_a_models_size_says_its_files_or_that_it_is_unknown():
    assert format_model_size({"bytes": 2100, "files": 2}) == "2.1 kB in 2 files"
    assert format_model_size({"bytes": 512, "files": 1}) == "512 B in 1 file"
    assert format_model_size(None) == "unknown"


def test_rates_are_sizes_per_second():
    assert format_rate(85_200_000) == "85.2 MB/s"
    assert format_rate(None) == "—"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (2.4, "2 s"), (59.6, "1 min 0 s"), (185, "3 min 5 s"), (3720, "1 h 2 min")],
)
def test_durations(seconds, shown):
    assert format_duration(seconds) == shown


def test_times_are_local_to_the_minute_with_the_exact_moment_for_a_tooltip(paris):
    assert format_time("2026-12-02T07:39:12Z") == "2026-12-02 08:39"
    assert format_time("2026-12-02T07:39:12+00:00") == "2026-12-02 08:39"
    assert full_time("2026-12-02T07:39:12Z") == "2026-12-02T08:39:12+01:00"
    assert format_time(None) == "—"
    assert format_time("not a time") == "not a time"  # shown as it came, never an error


@pytest.mark.parametrize(
    ("ago", "shown"),
    [
        (dt.timedelta(seconds=20), "just now"),
        (dt.timedelta(minutes=3, seconds=50), "3 min ago"),
        (dt.timedelta(hours=2, minutes=59), "2 h ago"),
        (dt.timedelta(hours=23), "23 h ago"),
        (dt.timedelta(hours=30), "yesterday"),  # 2026-12-01 04:00 from 2026-12-02 10:00
        (dt.timedelta(days=4), "2026-11-28"),
        (-dt.timedelta(seconds=30), "just now"),  # a clock slightly ahead
        (-dt.timedelta(hours=2), "2026-12-02 12:00"),  # far ahead: the moment itself
    ],
)
def test_relative_times_for_lists_people_scan(paris, ago, shown):
    now = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)  # 10:00 in Paris
    moment = (now - ago).isoformat().replace("+00:00", "Z")
    assert format_relative(moment, now) == shown
