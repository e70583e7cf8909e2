"""What a write to a discussion holds before it checks, and the refusal it gives once it holds.

Writers hold in one order, so that two of them never each wait for the other (a deadlock on
PostgreSQL): the thread (:func:`~peerlearn.discussions.removal.hold_thread`), then its space
(:func:`hold_open`), then the posts they change (a helpful mark's count). A write that holds
only some of them keeps that order among those it holds; a follow shares its space's hold
before it writes (:mod:`~peerlearn.discussions.following`).
"""

from peerlearn.core.errors import RuleError
from peerlearn.spaces.models import Space
from peerlearn.spaces.services import hold_space

#: The refusal of a post (a reply, an edit, a removal, a mark) in a space archived since the
#: page's check.
ARCHIVED = "This space is archived and read-only: nobody can post in it"


class DiscussionError(RuleError):
    """A rule about discussions was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


def hold_open(space: Space) -> None:
    """Hold the space a post is written, changed or marked in
    (:func:`~peerlearn.spaces.services.hold_space`), after its thread if the write holds that,
    and refuse the write if the space is archived as held: one archived after the page's check,
    a moment ago, takes no post, edit, removal or mark, and an archive waits for a write under
    way."""
    hold_space(space)
    if space.archived:
        raise DiscussionError(ARCHIVED)
