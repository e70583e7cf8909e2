"""Places taken in an allowance and given back (``core.allowances``: sign-in guesses, reports,
e-mail resends), in the limiter's real storage."""

import time

from limits import parse

from peerlearn.core import allowances

TWO_A_SECOND = parse("2 per 1 second")


def test_a_place_given_back_frees_it_and_one_given_back_late_adds_none(app):
    with app.test_request_context():
        assert allowances.take(TWO_A_SECOND, "guess", "someone") is None
        allowances.give_back(TWO_A_SECOND, "guess", "someone")  # a right password: not counted
        assert allowances.take(TWO_A_SECOND, "guess", "someone") is None
        assert allowances.take(TWO_A_SECOND, "guess", "someone") is None
        assert allowances.take(TWO_A_SECOND, "guess", "someone") is not None  # the third waits

        # A place taken at the end of one window and given back in the next (a slow password
        # check) leaves the next window as it was: still two places, not three.
        time.sleep(1.05)
        allowances.give_back(TWO_A_SECOND, "guess", "someone")
        taken = [allowances.take(TWO_A_SECOND, "guess", "someone") for _ in range(3)]
        assert taken[:2] == [None, None] and taken[2] is not None
