"""Template filters shared by every page."""

import pytest

from peerlearn.core.templating import ordinal


@pytest.mark.parametrize(
    "number, written",
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"), (12, "12th"),
     (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"),
     (112, "112th"), (1000, "1000th")],
)  # fmt: skip
def test_ordinal(number, written):
    assert ordinal(number) == written
