"""Template filters shared by every page."""

from datetime import UTC, datetime

import pytest

from peerlearn.core.templating import local_end, ordinal


@pytest.mark.parametrize(
    "number, written",
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"), (12, "12th"),
     (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"),
     (112, "112th"), (1000, "1000th")],
)  # fmt: skip
def test_ordinal(number, written):
    assert ordinal(number) == written


def _utc(*fields):
    return datetime(*fields, tzinfo=UTC)


@pytest.mark.parametrize(
    "starts, ends, written",
    [
        (_utc(2027, 1, 14, 14), _utc(2027, 1, 14, 15, 30), "15:30"),
        (_utc(2027, 7, 14, 13), _utc(2027, 7, 14, 14, 30), "15:30"),  # BST
        (_utc(2027, 1, 14, 22), _utc(2027, 1, 15), "midnight"),
        (_utc(2027, 7, 14, 21), _utc(2027, 7, 14, 23), "midnight"),  # BST: 23:00 UTC
        (_utc(2027, 7, 14, 22, 30), _utc(2027, 7, 14, 23), "midnight"),  # 23:30 BST starts
        (_utc(2027, 1, 14, 0), _utc(2027, 1, 15, 0), "midnight"),
        (_utc(2027, 1, 14, 22), _utc(2027, 1, 15, 2), "Friday 15 January 2027, 02:00"),
        (_utc(2027, 1, 14, 22), _utc(2027, 1, 16), "midnight at the end of Friday 15 January 2027"),
        (
            _utc(2027, 7, 14, 8),
            _utc(2027, 7, 15, 23),
            "midnight at the end of Thursday 15 July 2027",
        ),
    ],
)
def test_local_end_reads_after_the_start_in_london_time(starts, ends, written):
    assert local_end(ends, starts) == written
