"""Allowances counted in the rate limiter's storage (memory in one process, or Redis shared by
every server process) under keys of peerlearn's own, for limits Flask-Limiter's decorators cannot
hold: one drawn on from several places (reports over forms and sockets), or one that must be
taken before the work it limits and given back when that work turns out not to count (a sign-in
whose password was right).

A place is taken in one step of the storage (an atomic increment), so requests arriving at the
same moment cannot all find the same last place free, as a check followed by a separate count
would let them. The limiter's strategy is Flask-Limiter's default fixed window (the app sets no
other), which is what lets a place be given back."""

import math
import time

from flask import current_app
from limits import RateLimitItem

from peerlearn.extensions import limiter


def _key(who: tuple[str, ...]) -> tuple[str, ...]:
    """The allowance's identifiers: the app's rate-limit prefix (apps sharing one Redis), then
    what and whom it counts."""
    return (current_app.config.get("RATELIMIT_KEY_PREFIX") or "peerlearn", *who)


def take(allowance: RateLimitItem, *who: str) -> int | None:
    """Take a place in ``allowance`` for ``who`` (what is counted, and whose). None when there
    was one; otherwise, taking nothing, in how many seconds there is room again."""
    if not limiter.enabled:
        return None
    strategy = limiter.limiter
    if strategy.hit(allowance, *_key(who)):
        return None
    give_back(allowance, *who)  # the place it could not have: the count stays what was allowed
    reset_at, _ = strategy.get_window_stats(allowance, *_key(who))
    return max(1, math.ceil(reset_at - time.time()))


def give_back(allowance: RateLimitItem, *who: str) -> None:
    """Give back a place taken with :func:`take`: what it was taken for did not count. Not when
    the window it was taken in has ended meanwhile (nothing is counted in the new one yet):
    the new window would otherwise start one below nothing, and allow one more."""
    if not limiter.enabled:
        return
    _, remaining = limiter.limiter.get_window_stats(allowance, *_key(who))
    if remaining < allowance.amount:
        limiter.limiter.hit(allowance, *_key(who), cost=-1)
