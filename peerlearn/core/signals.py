"""Documented signals features use to react to each other without importing each other's views.

``membership_changed``
    Sent with the :class:`~peerlearn.spaces.models.Space` as sender and ``user`` (the member whose
    standing changed), ``state`` (the new :class:`~peerlearn.spaces.models.MemberState`, or None
    when the membership was removed) after the change is committed. Live features use it to drop
    a removed member from the space's rooms at once; search uses it to refresh what people see.

``space_changed``
    Sent with the space as sender after its settings (visibility, archive state, …) are committed.
"""

from blinker import Namespace

_signals = Namespace()

membership_changed = _signals.signal("membership-changed")
space_changed = _signals.signal("space-changed")
